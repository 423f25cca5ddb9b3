"""The six real gradings through PrairieLearn's ingestion (consumers/prairielearn.py, transcribed from its
source and checked against it): the row it stores (score, gradable: whether the attempt counts) and what its
results element shows the student. Plus the info.json `timeout` that lets the grader, not PrairieLearn, end
every run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from consumers import prairielearn as pl
from consumers.gradings import CASES, broken_data, sandbox_name
from grader import formats, hooks
from grader.rubric import Rubric

# case -> (stored score, gradable, the heading the student reads)
RECORDED = {
    "pass": (1.0, True, "Score: 100/100 (100%)"),
    "partial": (0.75, True, "Score: 75/100 (75%)"),
    "crash": (0.72, True, "Score: 72/100 (72%)"),
    "timeout": (0.0, True, "Score: 0/100 (0%)"),
    "invalid": (0, False, "Invalid, not gradable"),  # no try used: the student fixes the file, no penalty
    "internal_error": (0, False, "Invalid, not gradable"),  # the grader's fault never costs a try
}


def written(grading) -> bytes:
    """What `grader prairielearn` writes to /grade/results/results.json for this grading (it exits 0)."""
    return (formats.render("prairielearn", grading.report) + "\n").encode()


@pytest.mark.parametrize("case", list(RECORDED))
def test_each_real_grading_as_prairielearn_records_and_shows_it(gradings, case):
    rep = gradings[case].report
    row, view = pl.ingest(written(gradings[case]), exit_code=0)
    score, gradable, heading = RECORDED[case]
    assert (row["score"], row["gradable"], view["heading"]) == (score, gradable, heading)
    assert view["message"] == rep.message
    page = pl.text(view)
    if not gradable:
        assert view["errors"] == [rep.message] and view["tests"] == []
        return
    assert view["errors"] == [] and len(view["tests"]) == len(rep.checks)
    for t, c in zip(view["tests"], rep.checks):
        assert t["points"] == f"[{pl.round_value(c.points)}/{pl.round_value(c.max_points)}]" and t["name"] == c.title
        if c.hint and not c.passed:
            assert c.hint in t["message"] and page.count(" ".join(c.hint.split())) == 1  # shown, and once
    assert view["output"] == (rep.output.stdout_tail or None)


def test_a_hook_that_exited_non_zero_would_lose_everything_it_wrote(gradings):
    """grader-host reads results.json only after exit status 0 (index.ts:610): why `grader prairielearn` exits 0
    even when it could not grade, and says so in results.json instead."""
    row, view = pl.ingest(written(gradings["internal_error"]), exit_code=3)
    assert (row["gradable"], view) == (False, {"heading": "Grading failed!",
                                               "message": "Unknown error; please contact course staff."})


@pytest.mark.slow  # a second proof: test_batch_cli runs the hook on an empty file; this one on a real failure
def test_the_hook_exits_0_with_a_not_gradable_results_json_when_the_grader_fails(real_data, tmp_path):
    root = tmp_path / "grade"
    (root / "student").mkdir(parents=True)
    (root / "student" / "train.py").write_bytes(CASES["internal_error"][0].read_bytes())
    done = subprocess.run([sys.executable, "-m", "grader", "prairielearn", "--root", str(root), "--sandbox",
                           sandbox_name(), "--device", "cpu", "--data-dir",
                           str(broken_data(real_data, tmp_path / "broken"))], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    row, view = pl.ingest((root / "results" / "results.json").read_bytes(), done.returncode)
    assert row["gradable"] is False and "IdxError" in view["errors"][0]


def test_info_json_timeout_lets_the_grader_end_every_legal_run():
    """PrairieLearn kills a job at info.json's `timeout` (default 30 s) and then shows "Grading failed", not our
    verdict. An honest submission that spends its whole CPU budget, on PrairieLearn's default 0.9 CPU, must end
    well inside it; the timeout is PrairieLearn's maximum when the grader's own backstop needs more."""
    limits = Rubric().limits
    timeout = hooks.prairielearn_timeout(limits)
    assert hooks.legal_run_s(limits, pl.DEFAULT_CPUS) > pl.DEFAULT_TIMEOUT_S  # the default would cut honest runs
    assert hooks.legal_run_s(limits, pl.DEFAULT_CPUS) <= timeout <= pl.MAX_TIMEOUT_S
    assert timeout == min(pl.MAX_TIMEOUT_S, hooks.worst_case_hold_s(limits) + hooks.SETUP_MARGIN_S)
    short = limits.model_copy(update={"timeout_s": 10})
    assert hooks.prairielearn_timeout(short) == 10 * short.wall_factor + 2 * short.grace_s + hooks.SETUP_MARGIN_S


@pytest.mark.parametrize("raw, message", [
    (b"{not json", "Could not parse the grading results."),
    (b'{"score": 0.5, "output": "' + b"x" * (1024 * 1024) + b'"}', "larger than 1MB"),
    (None, "Could not read grading results."),
])
def test_what_prairielearn_shows_when_results_json_is_unusable(raw, message):
    """The transcription's failure paths (each a student-facing "Grading failed!"), which ours must never hit."""
    row, view = pl.ingest(raw, exit_code=0)
    assert row["gradable"] is False and view["heading"] == "Grading failed!" and message in view["message"]


def test_our_results_json_is_far_below_prairielearns_cap(gradings):
    assert all(len(written(g)) < pl.RESULTS_MAX_BYTES // 4 for g in gradings.values())
    assert all(json.loads(written(g)).get("gradable") in (True, False) for g in gradings.values())


def test_a_grader_that_cannot_start_still_tells_the_student_and_costs_no_try(tmp_path):
    """No sandbox or no data inside PrairieLearn's container: `grader prairielearn` exits 0 with a not-gradable
    results.json, which PrairieLearn shows; exiting non-zero would show only "Unknown error"."""
    from click.testing import CliRunner

    from grader import cli

    root = tmp_path / "grade"
    (root / "student").mkdir(parents=True)
    (root / "student" / "train.py").write_text("print('hello')\n")
    result = CliRunner().invoke(cli.cli, ["prairielearn", "--root", str(root), "--sandbox", "process",
                                          "--data-dir", str(tmp_path / "no-mnist")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    row, view = pl.ingest((root / "results" / "results.json").read_bytes(), result.exit_code)
    assert row["gradable"] is False and view["heading"] == "Invalid, not gradable"
    assert view["errors"][0].startswith("The grader could not start: MNIST is not available")
