import json

import pytest

from grader import report, rubric
from grader.report import CHECK_IDS, CheckResult, Report, Status, SubmissionInfo


def test_default_rubric_totals_100_and_points_cover_every_check():
    r = rubric.Rubric()
    assert r.max_score == 100 and set(r.points.model_dump()) == set(CHECK_IDS)
    assert r.epochs == 10 and r.train_examples == 3000 and r.accuracy_threshold == 0.80


def test_rubric_from_toml(tmp_path):
    f = tmp_path / "r.toml"
    f.write_text("epochs = 5\naccuracy_threshold = 0.9\n[points]\nlearns = 30\n[limits]\ntimeout_s = 30\n")
    r = rubric.load(f)
    assert r.epochs == 5 and r.points.learns == 30 and r.limits.timeout_s == 30 and r.max_score == 120


@pytest.mark.parametrize("text, fragment", [
    ("epochs = 0\n", "greater than or equal to 1"),
    ("typo = 1\n", "Extra inputs are not permitted"),
    ("train_examples = 59000\neval_examples = 5000\n", "must fit"),
    ("epochs = [\n", "cannot read"),
])
def test_bad_rubrics_are_explained(tmp_path, text, fragment):
    f = tmp_path / "r.toml"
    f.write_text(text)
    with pytest.raises(rubric.RubricError, match=fragment):
        rubric.load(f)


def test_report_round_trips_and_schema_lists_statuses():
    rep = Report(submission=SubmissionInfo(path="a.py", name="a.py"), status=Status.graded, message="ok",
                 score=15, max_score=15,
                 checks=[CheckResult(id="loss", title="t", passed=True, points=15, max_points=15, message="m")])
    again = Report.model_validate_json(rep.model_dump_json())
    assert again == rep and again.all_passed
    schema = report.json_schema()
    assert set(schema["$defs"]["Status"]["enum"]) == {s.value for s in Status}
    assert set(schema["$defs"]["CheckResult"]["properties"]["id"]["enum"]) == set(CHECK_IDS)
    with pytest.raises(ValueError):
        Report.model_validate({**json.loads(rep.model_dump_json()), "status": "passed"})
