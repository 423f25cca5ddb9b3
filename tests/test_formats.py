"""LMS/CI formats: pure functions of the report, checked against golden files and the systems' field names.

Regenerate the golden files after an intended change with UPDATE_GOLDEN=1, and read the diff.
"""

import base64
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import reports
from grader import formats
from grader.formats import github_classroom, gradescope, junit, prairielearn

GOLDEN = Path(__file__).parent / "golden"
CASES = {"full_marks": reports.full_marks, "no_zero_grad": reports.no_zero_grad, "crashed": reports.crashed,
         "internal_error": reports.internal_error, "invalid": reports.invalid}
EXT = {"gradescope": "json", "github-classroom": "json", "prairielearn": "json", "junit": "xml"}


def rendered(fmt: str, report) -> str:
    if fmt == "github-classroom":  # the golden file holds the decoded JSON, which a person can review
        return json.dumps(json.loads(base64.b64decode(formats.render(fmt, report))), indent=2, ensure_ascii=False) + "\n"
    return formats.render(fmt, report) + ("" if fmt == "junit" else "\n")


@pytest.mark.parametrize("fmt", formats.NAMES)
@pytest.mark.parametrize("case", CASES)
def test_matches_golden_file(fmt, case):
    text = rendered(fmt, CASES[case]())
    golden = GOLDEN / fmt / f"{case}.{EXT[fmt]}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text(), f"{golden} differs (UPDATE_GOLDEN=1 regenerates it)"


@pytest.mark.parametrize("case", CASES)
def test_gradescope_fields(case):
    rep = CASES[case]()
    out = gradescope.results(rep)
    assert isinstance(out["score"], (int, float)) and isinstance(out["execution_time"], (int, float))
    assert isinstance(out["output"], str) and rep.message in out["output"]
    assert out["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    assert len(out["tests"]) == len(rep.checks)
    for t, c in zip(out["tests"], rep.checks):
        assert set(t) >= {"name", "score", "max_score", "status", "output", "visibility"}
        assert t["status"] == ("passed" if c.passed else "failed") and t["score"] == c.points
        assert c.message in t["output"] and (c.passed or c.hint in t["output"])
    assert sum(t["score"] for t in out["tests"]) == out["score"] == rep.score


@pytest.mark.parametrize("case", CASES)
def test_github_classroom_fields_and_transport(case):
    rep = CASES[case]()
    out = github_classroom.result(rep)
    # an internal error records no grade: the reporter skips a runner whose max_score is 0
    assert out["version"] == 1 and isinstance(out["max_score"], int) and out["max_score"] == \
        (0 if case == "internal_error" else 100)
    assert out["status"] == {"full_marks": "pass", "internal_error": "error"}.get(case, "fail")
    for t in out["tests"]:
        assert set(t) >= {"name", "status", "score", "message", "test_code", "filename", "line_no", "duration"}
        assert t["status"] in ("pass", "fail", "error")
    assert sum(t["score"] for t in out["tests"]) == rep.score
    decoded = base64.b64decode(github_classroom.encoded(rep), validate=True)
    assert json.loads(decoded) == out and b"\n" not in decoded  # compact, as the reporter's env var holds it


@pytest.mark.parametrize("case", CASES)
def test_github_classroom_runners_log_what_they_record(case):
    """The reporter logs (tests passed / tests) x max_score per runner and records the sum of the scores: with
    one runner per check, and a partly credited check as k passing parts of n, the two agree."""
    rep = CASES[case]()
    runners = github_classroom.runner_results(rep)
    assert len(runners) == len(rep.checks) and all(name.isalnum() for name in runners)
    logged = sum(sum(t["status"] == "pass" for t in r["tests"]) / len(r["tests"]) * r["max_score"]
                 for r in runners.values())
    recorded = sum(t["score"] for r in runners.values() for t in r["tests"] if r["max_score"])
    assert logged == pytest.approx(recorded) and recorded == (0 if case == "internal_error" else rep.score)
    assert sum(r["max_score"] for r in runners.values()) == (0 if case == "internal_error" else rep.max_score)


@pytest.mark.parametrize("case", CASES)
def test_prairielearn_fields(case):
    rep = CASES[case]()
    out = prairielearn.results(rep)
    assert len(json.dumps(out).encode()) < 2**20
    if case in ("internal_error", "invalid"):
        assert out["gradable"] is False and out["format_errors"] and "score" not in out
        return
    assert out["gradable"] is True and 0 <= out["score"] <= 1 and out["score"] == rep.score / rep.max_score
    for t, c in zip(out["tests"], rep.checks):
        assert set(t) == {"name", "description", "points", "max_points", "message"}  # no output: see the format
        assert (t["points"], t["max_points"]) == (c.points, c.max_points)


@pytest.mark.parametrize("case", CASES)
def test_junit_is_valid_xml_with_one_testcase_per_check(case):
    rep = CASES[case]()
    suite = ET.fromstring(junit.xml(rep).split("\n", 1)[1])  # parses although the output held ANSI escapes
    cases = suite.findall("testcase")
    assert suite.tag == "testsuite" and int(suite.get("tests")) == len(cases) == len(rep.checks)
    failures = [c for c in cases if c.find("failure") is not None]
    errors = [c for c in cases if c.find("error") is not None]
    assert int(suite.get("failures")) == len(failures) and int(suite.get("errors")) == len(errors)
    assert len(failures) + len(errors) == sum(not c.passed for c in rep.checks)
    assert (len(errors) > 0) == (case == "internal_error")


def test_junit_combined_holds_every_submission():
    both = ET.fromstring(junit.combined([reports.full_marks(), reports.no_zero_grad()]).split("\n", 1)[1])
    assert both.tag == "testsuites" and [s.get("name") for s in both] == ["solution.py", "no_zero_grad.py"]
