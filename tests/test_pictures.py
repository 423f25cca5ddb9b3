"""The pictures on real reports: the reference and typical mistakes graded for real once (real MNIST, the
process sandbox unless $GRADER_E2E_SANDBOX says otherwise), then their pages and a class page opened in a
real Chromium. Browser tests skip where Debian's chromium is missing, except under CI=true, where they fail.
One screenshot of each page is kept in .ci/artifacts/ for people to look at."""

import os
import shutil
from pathlib import Path

import pytest

from classroom import classroom
from grader import html, pages
from grader.grade import Grader, Options
from grader.report import Status

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / ".ci" / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
GRADED = {"reference": ROOT / "reference" / "solution.py", "no_zero_grad": ROOT / "submissions" / "no_zero_grad.py",
          "crash_in_epoch3": ROOT / "submissions" / "crash_in_epoch3.py",
          "syntax_error": ROOT / "submissions" / "syntax_error.py"}


@pytest.fixture(scope="module")
def graded(real_data):
    # pictures, not speed, are under test: a generous deadline keeps a busy machine from turning them into timeouts
    grader = Grader(Options(data_dir=real_data, device="cpu", sandbox=os.environ.get("GRADER_E2E_SANDBOX", "process"),
                            timeout=400))
    return {name: grader.grade(path) for name, path in GRADED.items()}


def test_real_reports_carry_what_the_pictures_draw(graded):
    ref, nzg, crash = graded["reference"], graded["no_zero_grad"], graded["crash_in_epoch3"]
    assert ref.all_passed, ref.message
    t = ref.training
    assert ref.curve.steps == t.epochs * t.batches_per_epoch and len(ref.curve.mean) == ref.curve.steps
    assert len(ref.curve.epoch_starts) == t.epochs == 10 and ref.curve.epoch_starts[1] == t.batches_per_epoch
    confusion = t.confusion
    assert sum(map(sum, confusion)) == t.eval_examples == 10000
    assert sum(confusion[d][d] for d in range(10)) / 10000 == pytest.approx(t.accuracy)
    assert len(t.per_digit_accuracy) == 10 and min(t.per_digit_accuracy) > 0.5
    assert ref.source.text == GRADED["reference"].read_text()
    band = ref.reference_curve
    assert band and band.steps == ref.curve.steps and band.accuracy == pytest.approx(t.accuracy)
    assert nzg.reference_curve == band  # graded once for the rubric, shared by every report
    last = sum(nzg.curve.mean[-47:]) / 47
    assert last > 5 * band.mean[-1]  # no zero_grad: the loss never comes down to the reference's
    assert crash.status == Status.runtime_error and len(crash.curve.epoch_starts) == 3  # died in epoch 3
    page = html.student_page(crash)  # three epochs drawn, the two complete ones judged for printing
    assert page.count('class="epoch-boundary"') == 3
    assert page.count('<circle class="printed"') + page.count('<circle class="not-printed"') == crash.training.epochs == 2
    assert graded["syntax_error"].curve is None and graded["syntax_error"].source.text


def test_page_weights(graded):
    for name in ("reference", "no_zero_grad"):
        size = len(html.student_page(graded[name]).encode())
        assert size < 300_000, (name, size)
    index = html.class_index([(sid, rep, f"{sid}.html") for sid, rep in classroom(list(graded.values()), 300)])
    assert len(index.encode()) < 3_000_000
    assert index.count('<path class="class-curve"') + index.count('<path class="outlier"') == \
        sum(1 for _, rep in classroom(list(graded.values()), 300) if rep.curve)


# ---------------------------------------------------------------------------------------------- Chromium
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium must be installed in CI (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser, path: Path, **context):
    """Load a file; return the page with the console errors, page errors and requests it produced."""
    ctx = browser.new_context(**{"viewport": {"width": 1100, "height": 900}, **context})
    page = ctx.new_page()
    page.problems, page.requests = [], []
    page.on("console", lambda m: page.problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("name", ["reference", "no_zero_grad"])
def test_student_page_in_chromium(graded, browser, tmp_path, name):
    rep = graded[name]
    path = tmp_path / f"{name}.html"
    path.write_text(html.student_page(rep), encoding="utf-8")
    for mode, context in {"light": {}, "dark": {"color_scheme": "dark"},
                          "phone": {"viewport": {"width": 390, "height": 800}}}.items():
        page = open_page(browser, path, **context)
        assert page.problems == [] and page.requests == [path.as_uri()]  # nothing but the file itself
        curve = page.locator("svg.loss-curve")
        assert curve.count() == 1 and curve.bounding_box()["width"] > 300
        assert curve.locator("line.epoch-boundary").count() == rep.training.epochs == 10
        assert curve.locator("circle.printed").count() == 10  # both print their loss every epoch
        assert curve.locator("path.band").count() == 1
        assert page.locator("svg.confusion rect.cell").count() == 100
        failed = [c.id for c in rep.checks if not c.passed]
        assert page.locator("tr.fail").count() == len(failed)
        if mode == "phone":  # nothing but the charts' own scroller is wider than the phone
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        if name == "reference" or mode == "light":
            shoot(page, f"student-{name}-{mode}.png")
        page.context.close()


@pytest.mark.browser
def test_class_page_in_chromium(graded, browser, tmp_path):
    reports = classroom(list(graded.values()), 30)
    index = tmp_path / "class" / "index.html"
    assert pages.write_class(reports, index, title="MNIST homework, 30 students") == 30
    page = open_page(browser, index)
    assert page.problems == [] and page.requests == [index.as_uri()]
    curves = sum(1 for _, rep in reports if rep.curve)
    overlay = page.locator("svg.overlay")
    assert overlay.locator("path.class-curve").count() + overlay.locator("path.outlier").count() == curves
    assert overlay.locator("path.outlier").count() >= 1  # no_zero_grad and its variants stand out
    assert page.locator("table.students tbody tr").count() == 30
    shoot(page, "class-index.png")

    page.locator("th button", has_text="Score").click()  # the inline script sorts; no data is in it
    scores = page.locator("table.students tbody td:nth-child(2)").evaluate_all(
        "cells => cells.map(c => parseFloat(c.getAttribute('data-sort')))")
    assert scores == sorted(scores) and scores[0] < scores[-1]
    page.locator("th button", has_text="Score").click()
    again = page.locator("table.students tbody td:nth-child(2)").evaluate_all(
        "cells => cells.map(c => parseFloat(c.getAttribute('data-sort')))")
    assert again == sorted(scores, reverse=True)

    page.locator("ol.failures a").first.click()  # the most common failure's example opens at that check
    page.wait_for_load_state("load")
    assert page.url.startswith(index.parent.as_uri()) and "#check-" in page.url
    assert page.locator("svg.loss-curve, tr.fail").count() >= 1 and page.problems == []
    page.context.close()
