"""Gradescope reads /autograder/results/results.json and nothing else. Ours is checked against Gradescope's
published spec, transcribed as a JSON Schema (gradescope_results.schema.json), and that schema is proven
against Gradescope's own producer: its helper library gradescope-utils (the `test` extra) runs a unittest
suite through JSONTestRunner, and what it writes must validate too. Then the six real gradings: what the
student sees (the total, each test's status and text) and what is recorded (the score), per the spec.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from consumers.gradings import CASES, broken_data, sandbox_name
from grader import formats

SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)
ROOT = Path(__file__).resolve().parents[2]

# a unittest suite using every decorator gradescope-utils offers, so its output exercises the schema's keys
SUITE = textwrap.dedent('''
    import unittest
    from gradescope_utils.autograder_utils.decorators import (hide_errors, leaderboard, number, partial_credit,
                                                              tags, visibility, weight)

    class Exercise(unittest.TestCase):
        @weight(2)
        @number("1.1")
        @tags("easy", "first")
        def test_a_pass(self):
            print("printed while passing")

        @weight(3)
        @number("1.2")
        @visibility("after_due_date")
        def test_b_fail(self):
            self.assertEqual(1, 2, "one is not two")

        @partial_credit(4)
        def test_c_partial(self, set_score=None):
            set_score(1.5)

        @leaderboard("accuracy")
        def test_d_board(self, set_leaderboard_value=None):
            set_leaderboard_value(0.93)

        @weight(1)
        @hide_errors("something went wrong")
        def test_e_hidden_error(self):
            raise RuntimeError("a secret the student must not see")
''')

RUNNER = ("import sys, unittest; sys.path.insert(0, '.'); "
          "from gradescope_utils.autograder_utils.json_test_runner import JSONTestRunner; "
          "suite = unittest.defaultTestLoader.loadTestsFromName('exercise'); "
          "JSONTestRunner(stream=open('results.json', 'w'), visibility='visible', stdout_visibility='hidden')"
          ".run(suite)")


def errors(doc) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in VALIDATOR.iter_errors(doc)]


@pytest.fixture(scope="module")
def produced(tmp_path_factory) -> dict:
    """results.json as Gradescope's own library writes it."""
    work = tmp_path_factory.mktemp("gradescope-utils")
    (work / "exercise.py").write_text(SUITE)
    done = subprocess.run([sys.executable, "-c", RUNNER], cwd=work, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads((work / "results.json").read_text())


def test_the_schema_accepts_what_gradescopes_own_library_writes(produced):
    Draft202012Validator.check_schema(SCHEMA)
    assert errors(produced) == []
    # the proof covers the keys the library writes, the ones the spec's example does not show included
    assert {"score", "execution_time", "tests", "leaderboard", "visibility", "stdout_visibility"} <= set(produced)
    assert isinstance(produced["execution_time"], str)  # "0.00": a string where the spec's example has a number
    by = {t["name"].split(" ")[0]: t for t in produced["tests"]}
    assert by["test_a_pass"]["status"] == "passed" and by["test_a_pass"]["tags"] == ["easy", "first"]
    assert by["test_b_fail"]["status"] == "failed" and by["test_b_fail"]["visibility"] == "after_due_date"
    assert by["test_c_partial"]["score"] == 1.5 and by["test_c_partial"]["max_score"] == 4
    assert "secret" not in by["test_e_hidden_error"].get("output", "")
    assert produced["score"] == sum(t.get("score", 0) for t in produced["tests"]) == 3.5


@pytest.mark.parametrize("change, fragment", [
    (lambda d: d.update(visibility="sometimes"), "visibility"),
    (lambda d: d.update(output_format="markdown"), "output_format"),
    (lambda d: d["tests"][0].update(points=2), "points"),  # PrairieLearn's word, not Gradescope's
    (lambda d: (d.pop("score"), [t.pop("score", None) for t in d["tests"]], [t.pop("status") for t in d["tests"]]),
     "(top)"),  # nothing says what the submission earned
    (lambda d: d["leaderboard"][0].update(order="up"), "order"),
])
def test_the_schema_refuses_what_the_spec_does_not_allow(produced, change, fragment):
    doc = json.loads(json.dumps(produced))
    change(doc)
    assert any(fragment in e for e in errors(doc)), errors(doc)


# what the student sees: the total (the top-level score, which overrides the tests' sum), and per test its
# status (green/red) and points
SEEN = {
    "pass": (100, {"passed": 8}),
    "partial": (75, {"passed": 6, "failed": 2}),
    "crash": (72, {"passed": 5, "failed": 3}),  # epochs and prints keep their share of what ran
    "timeout": (0, {"failed": 8}),
    "invalid": (0, {"failed": 8}),
}


@pytest.mark.parametrize("case", list(SEEN))
def test_each_real_grading_as_gradescope_shows_and_records_it(gradings, case):
    rep = gradings[case].report
    doc = json.loads(formats.render("gradescope", rep))  # what `grader gradescope` writes for this report
    assert errors(doc) == []
    total, statuses = SEEN[case]
    assert doc["score"] == total == rep.score  # recorded
    assert doc["score"] == sum(t["score"] for t in doc["tests"])  # the override never hides a different sum
    seen = {}
    for t in doc["tests"]:
        seen[t["status"]] = seen.get(t["status"], 0) + 1
        assert (t["status"] == "passed") == (t["score"] == t["max_score"])  # the colour agrees with the points
        assert t["visibility"] == "visible" and t["name"]
    assert seen == statuses
    assert doc["visibility"] == "visible" and doc["output"].startswith(rep.message)  # shown above the tests
    for t, check in zip(doc["tests"], rep.checks):
        if not check.passed and check.hint:
            assert check.hint in t["output"]  # the hint reaches the student, not just the instructor


def test_an_infrastructure_error_writes_no_results_json_so_gradescope_reports_a_failed_autograder(
        real_data, tmp_path):
    """Gradescope's troubleshooting page: without a valid results.json it shows "The autograder failed to execute
    correctly" (the instructor sees the stdout and can regrade), never a 0 the student would have to dispute.
    The failure is real: `grader gradescope`, run as run_autograder runs it, on MNIST cut short on disk."""
    ag = tmp_path / "autograder"
    (ag / "submission").mkdir(parents=True)
    (ag / "submission" / "train.py").write_bytes(CASES["internal_error"][0].read_bytes())
    done = subprocess.run([sys.executable, "-m", "grader", "gradescope", "--root", str(ag), "--sandbox",
                           sandbox_name(), "--device", "cpu", "--data-dir",
                           str(broken_data(real_data, tmp_path / "broken"))],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr
    assert "not graded" in done.stderr and "IdxError" in done.stderr  # in the instructor's stdout log
    assert not (ag / "results" / "results.json").exists()
