"""End to end on the real MNIST: the reference gets full marks, every example in submissions/ its expected
verdict (submissions/expected.toml). The sandbox is $GRADER_E2E_SANDBOX (default: process)."""

import os
import tomllib
from pathlib import Path

import pytest

from grader.grade import Grader, Options
from grader.report import CHECK_IDS, Status

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = tomllib.loads((ROOT / "submissions" / "expected.toml").read_text())["example"]


@pytest.fixture(scope="module")
def grader(real_data):
    return Grader(Options(data_dir=real_data, device="cpu", sandbox=os.environ.get("GRADER_E2E_SANDBOX", "process")))


def test_every_example_has_an_expectation():
    listed = {e["file"] for e in EXAMPLES}
    folder = ROOT / "submissions"
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.suffix in (".py", ".ipynb")}
    assert listed == on_disk


def test_reference_gets_full_marks(grader):
    rep = grader.grade(ROOT / "reference" / "solution.py")
    assert rep.status == Status.graded and rep.score == rep.max_score == 100, rep.message
    assert rep.training.epochs == 10 and rep.training.accuracy >= 0.85 and rep.training.eval_examples == 10000
    assert [c.id for c in rep.checks] == list(CHECK_IDS)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["file"] for e in EXAMPLES])
def test_example_gets_its_expected_verdict(grader, example):
    rep = grader.grade(ROOT / "submissions" / example["file"])
    want_failed = set(CHECK_IDS) if example["failed"] == "all" else set(example["failed"])
    got_failed = {c.id for c in rep.checks if not c.passed}
    detail = {c.id: c.message for c in rep.checks}
    assert rep.status.value == example["status"], (rep.message, detail)
    assert got_failed == want_failed, detail
    assert all(c.points == c.max_points for c in rep.checks if c.passed)
    assert rep.score == sum(c.points for c in rep.checks)  # failed checks may carry partial credit
    if "score" in example:
        assert rep.score == example["score"], detail
    for c in rep.checks:
        assert c.message and (c.passed or c.hint), c  # a hint for every failure
