"""The pictures' data and pages without a browser: the curve taken from a trace, the reference band's cache,
the sparkline, and hostile text staying inert on every page."""

import json
import math
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from builders import TraceBuilder
from classroom import sample_report
from grader import curve, html, reference, spark, svg
from grader.rubric import Rubric
from grader.report import LossCurve, ReferenceCurve, Report, Status

HOSTILE = ('<script>alert(1)</script>"><img src=x onerror=alert(2)>\x1b[31mred\x1b[0m'
           "<a href='javascript:alert(3)'>x</a>&amp;</textarea></style></svg><iframe src=//evil>")


# ---------------------------------------------------------------------------------------------- data
def test_loss_curve_keeps_every_step_and_the_epoch_starts():
    trace = TraceBuilder().setup().run(epochs=10, batches=10).end().trace()
    got = curve.loss_curve(trace, trace.epochs())
    assert got.steps == 100 and got.per_point == 1 and len(got.mean) == 100 and not got.low
    assert got.epoch_starts == list(range(0, 100, 10))
    assert got.mean[0] == 2.0 and got.mean[-1] == pytest.approx(2.0 / (10 + 0.9), rel=1e-4)


def test_long_runs_are_bucketed_faithfully_and_nan_leaves_a_gap():
    b = TraceBuilder().setup()
    b.epoch(1, 1, [float(v) for v in range(1, 13)])
    b.epoch(1, 2, ["nan"] * 4 + [1.0] * 8)
    trace = b.end().trace()
    got = curve.loss_curve(trace, trace.epochs(), max_points=6)
    assert got.steps == 24 and got.per_point == 4 and len(got.mean) == 6
    assert got.low[:3] == [1, 5, 9] and got.high[:3] == [4, 8, 12] and got.mean[:3] == [2.5, 6.5, 10.5]
    assert got.mean[3] is None and got.low[3] is None  # a bucket of nothing but nan
    assert got.epoch_starts == [0, 12]
    assert curve.loss_curve(TraceBuilder().setup().end().trace(), []) is None  # no training, no curve


def test_per_digit_accuracy_from_the_confusion_matrix():
    confusion = [[0] * 10 for _ in range(10)]
    for d in range(10):
        confusion[d][d] = 90
        confusion[d][(d + 1) % 10] = 10
    confusion[3] = [0] * 10  # a digit without test images
    assert curve.per_digit_accuracy(confusion) == [0.9, 0.9, 0.9, None] + [0.9] * 6
    assert curve.per_digit_accuracy([[1, 2]]) == [] and curve.confusion_matrix("junk") == []


def test_epoch_positions_line_up_runs_with_different_batch_counts():
    short = svg.epoch_positions(4, [0, 2])  # 2 steps per epoch
    long = svg.epoch_positions(8, [0, 4])  # 4 steps per epoch
    assert [math.floor(x) for x in short] == [0, 0, 1, 1] and [math.floor(x) for x in long] == [0] * 4 + [1] * 4
    assert short[-1] == pytest.approx(1.75) and long[-1] == pytest.approx(1.875)


def test_reference_band_is_graded_once_per_digest_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    data = tmp_path / "train-images"
    data.write_bytes(b"pixels")
    grader = SimpleNamespace(rubric=Rubric(), seed=0, device="cpu", files={"train_images": data})
    key = reference.digest(grader)
    assert reference.digest(SimpleNamespace(**{**vars(grader), "seed": 1})) != key
    band = ReferenceCurve(digest=key, steps=4, per_point=2, low=[1.0, 0.5], mean=[1.5, 0.6], high=[2.0, 0.7])
    calls = []

    def compute():
        calls.append(1)
        return band

    assert reference._cached(key, compute) == band
    assert reference._cached(key, compute) == band and len(calls) == 1  # the second answer came from the file
    assert json.loads((tmp_path / "grader" / "reference" / f"{key}.json").read_text())["digest"] == key


def test_sparkline_and_the_terminal_loss_line():
    assert spark.sparkline([3.0, 2.0, 1.0, 0.0]) == "█▆▃▁"
    assert spark.sparkline([1.0, float("nan"), None]) == "▅! "  # a flat line sits mid-height
    rep = sample_report(epoch_losses=[2.0, 1.0, 0.5, 0.25])
    line = spark.loss_line(rep)
    assert line.startswith("Loss per epoch  █▅▃▂") and "2 → 0.25" in line
    assert spark.loss_line(sample_report(epoch_losses=[])) is None


def test_old_reports_still_load_and_render():
    old = json.loads(sample_report().model_dump_json())
    for field in ("curve", "reference_curve", "source"):
        old.pop(field)
    for field in ("per_digit_accuracy", "confusion"):
        old["training"].pop(field)
    old["schema_version"] = "1.0"
    rep = Report.model_validate(old)
    page = html.student_page(rep)
    assert '<svg class="chart loss-curve"' not in page and "runs plain" in page


@pytest.mark.parametrize("link, safe", [
    ("alice.html", "alice.html"), ("sub/bob smith.html#check-loss", "sub/bob%20smith.html#check-loss"),
    ("javascript:alert(1)", None), (" JavaScript:alert(1)", None), ("data:text/html,x", None),
    ("//evil.example/x", None), ("https://evil.example", None), ("\\\\evil\\x", None), ('a"onmouseover=x', "a%22onmouseover%3Dx"),
])
def test_links_are_relative_or_dropped(link, safe):
    assert html.safe_href(link) == safe


# ---------------------------------------------------------------------------------------------- hostile text
class Markup(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.scripts, self.text = set(), set(), [], []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.update((tag, name) for name, _ in attrs)
        self.hrefs = getattr(self, "hrefs", []) + [v for n, v in attrs if n == "href"]
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)


def parse(page: str) -> Markup:
    m = Markup()
    m.feed(page)
    m.close()
    return m


def _pages(text: str, student: str, link: str) -> dict[str, str]:
    rep = sample_report(text)
    entries = [(student, rep, link), ("ok", sample_report(), "ok.html")]
    return {"student": html.student_page(rep), "class": html.class_index(entries, title=text)}


def test_hostile_text_in_every_field_stays_text():
    benign = {k: parse(v) for k, v in _pages("plain", "plain", "plain.html").items()}
    hostile = _pages(HOSTILE, HOSTILE, "javascript:alert(4)")
    for kind, page in hostile.items():
        got = parse(page)
        assert got.tags <= benign[kind].tags, got.tags - benign[kind].tags  # only the template's own elements
        assert got.attrs <= benign[kind].attrs, got.attrs - benign[kind].attrs  # ... and attributes
        assert not any(name.startswith("on") for _, name in got.attrs)
        assert not any(h.lower().lstrip().startswith(("javascript:", "data:", "//", "http")) for h in got.hrefs)
        assert "\x1b" not in page and "img" not in got.tags and "iframe" not in got.tags
        text = "".join(got.text)
        assert "<script>alert(1)</script>" in text and "onerror=alert(2)" in text  # shown, as text
        assert "[31mred" not in text and "red" in text  # colour codes stripped
        scripts = "".join(got.scripts)
        assert scripts == (html._SORT_JS if kind == "class" else "")  # no data ever reaches a script


def test_pages_allow_no_network_and_only_their_own_script():
    pages = _pages("plain", "plain", "plain.html")
    for page in pages.values():
        csp = unescape(page.split('http-equiv="Content-Security-Policy" content="')[1].split('"')[0])
        assert csp.startswith("default-src 'none'") and "unsafe-inline" not in csp
    assert "script-src 'sha256-" in unescape(pages["class"]) and "script-src" not in pages["student"]


def test_student_page_points_at_the_failing_lines_and_marks_printed_epochs():
    page = html.student_page(sample_report())
    m = parse(page)
    assert page.count('class="l hit"') == 1 and 'id="L2"' in page  # line 2: named by runs' evidence and messages
    assert page.count('class="epoch-boundary"') == 2
    assert page.count('class="printed"') == 1 and page.count('class="not-printed"') == 1
    assert "svg" in m.tags and 'class="band"' in page


def test_class_page_summarises_and_links():
    entries = [(f"s{n}", sample_report(), f"s{n}.html") for n in range(3)]
    page = html.class_index(entries)
    assert page.count('<path class="class-curve"') + page.count('<path class="outlier"') == 3
    assert 'href="s0.html#check-runs"' in page  # the most common failure links to an example
    assert page.count("<tr") == 4  # header + 3 students


def test_notebook_lines_are_found_by_cell_and_numbered_within_it():
    from grader import submission

    sub = submission.load(Path(__file__).resolve().parent.parent / "submissions" / "notebook.ipynb")
    rep = sample_report()
    rep.source = curve.source_of(sub.source, sub.cells)
    rep.checks[0].message, rep.checks[0].evidence = "crashed at cell 2, line 3", {}
    lines = html.source_lines(rep)
    second = rep.source.cell_starts[1][0]  # the script line where code cell 2 begins
    assert lines["marked"] == [second + 2] and lines["notebook"]
    assert lines["lines"][second + 1]["label"] == 3 and lines["lines"][second - 1]["cell"] == 2


def test_identical_curves_are_grouped():
    same = sample_report()
    same.curve.mean, same.curve.steps = [2.0 - i / 30 for i in range(30)], 30
    other = same.model_copy(deep=True)
    other.curve.mean = [v + 0.01 for v in other.curve.mean]
    page = html.class_index([("a", same, "a.html"), ("b", same.model_copy(deep=True), "b.html"), ("c", other, "c.html")])
    section = page.split("Identical loss curves")[1]
    assert "2 students: " in section and 'href="a.html"' in section and 'href="c.html"' not in section


def test_class_page_with_students_that_never_trained():
    ran, never = sample_report(), sample_report()
    never.curve = None
    page = html.class_index([("ran", ran, "ran.html"), ("never", never, "never.html")])
    assert page.count("<tbody>") == 1 and 'href="never.html"' in page
    assert "Training loss of the whole class" not in html.class_index([("never", never, "never.html")])


def test_a_program_that_could_not_run_counts_once_among_the_failures():
    broken = sample_report()
    broken.status = Status.syntax_error
    for c in broken.checks:
        c.passed = False
    page = html.class_index([("broken", broken, "broken.html"), ("ok", sample_report(), "ok.html")])
    failures = page.split('<ol class="failures">')[1].split("</ol>")[0]
    assert failures.count("<li>") == 2  # runs (both) and zero_grad (the one that ran); not every check


def test_a_bucketed_curve_is_drawn_with_its_min_max_range():
    rep = sample_report()
    rep.curve = LossCurve(steps=40, per_point=4, mean=[2.0, 1.5, 1.0, None, 0.5] * 2, low=[1.8, 1.2, 0.8, None, 0.4] * 2,
                          high=[2.2, 1.9, 1.3, None, 0.7] * 2, epoch_starts=[0, 20])
    page = html.student_page(rep)
    assert page.count('<path class="loss-range"') == 1 and "not a finite number at 2 of the points" in page
    assert page.count('class="epoch-boundary"') == 2


def test_a_broken_reference_cache_costs_no_report(tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    data = tmp_path / "train-images"
    data.write_bytes(b"pixels")
    grader = SimpleNamespace(rubric=Rubric(), seed=0, device="cpu", files={"train_images": data})
    assert reference.band_for(grader) is None


def test_the_reference_graded_itself_gives_the_band_without_grading_again(tmp_path, monkeypatch):
    import hashlib

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(reference, "_memo", {})
    data = tmp_path / "train-images"
    data.write_bytes(b"pixels")
    grader = SimpleNamespace(rubric=Rubric(), seed=0, device="cpu", files={"train_images": data})  # cannot grade
    rep = sample_report()
    rep.status = Status.graded
    for c in rep.checks:
        c.passed = True
    rep.submission.sha256 = hashlib.sha256(reference.REFERENCE.read_bytes()).hexdigest()
    band = reference.band_for(grader, rep)
    assert band is not None and band.steps == rep.curve.steps and band.accuracy == rep.training.accuracy
    assert (tmp_path / "grader" / "reference" / f"{band.digest}.json").is_file()
    rep.submission.sha256 = "someone else"
    monkeypatch.setattr(reference, "_memo", {})
    assert reference.band_for(grader, rep) == band  # from the cache file: still no grading
