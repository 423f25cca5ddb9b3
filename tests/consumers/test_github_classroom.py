"""GitHub Classroom, as a course's repository runs it: our published workflow (grader/templates/classroom.yml)
run step by step the way Actions runs it, with GitHub Classroom's own reporter (its published dist, pinned:
consumers/vendor.py) reading our step outputs, on the six real gradings, a missing train.py and a grader
that never got installed. What the student sees is the reporter's log; what is recorded is the
"Autograding report" notice GitHub Classroom reads the grade from."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from consumers import actions
from consumers.gradings import CASES
from consumers.vendor import REPORTER

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "grader" / "templates" / "classroom.yml"
REPORTER_ACTION = "classroom-resources/autograding-grading-reporter"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SCENARIOS = (*CASES, "missing", "not_installed")


def reporter(inputs, env, workspace, files):
    """The reporter's dist, run as Actions runs a node20 action: inputs as INPUT_<NAME>."""
    script = REPORTER.find()
    if script is None:  # the workflow still runs; what the reporter would show is asserted only with it
        return 0, "REPORTER NOT AVAILABLE\n" + json.dumps({k: v for k, v in env.items() if k.endswith("_RESULTS")})
    env = {**env, **{f"INPUT_{k.replace(' ', '_').upper()}": v for k, v in inputs.items()}, "INPUT_TOKEN": "unused"}
    proc = subprocess.run(["node", str(script)], cwd=workspace, env=env, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def no_op(inputs, env, workspace, files):
    return 0, ""


def installed(inputs, env, workspace, files):
    """The install step's stand-in: the test's environment has the grader already (PATH, below)."""
    return 0, "installed (the test environment's grader)"


@pytest.fixture(scope="module")
def runs(gradings, tmp_path_factory) -> dict[str, actions.Job]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    tests_dir = Path(__file__).resolve().parents[1]
    bin_dir = tmp_path_factory.mktemp("bin")
    shim = bin_dir / "grader"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m consumers.replay "$@"\n')
    shim.chmod(0o755)
    out = {}
    for scenario in SCENARIOS:
        base = tmp_path_factory.mktemp(scenario)
        workspace, files = base / "repo", base / "runner"
        workspace.mkdir(), files.mkdir()
        env = actions.base_env() | {"PYTHONPATH": os.pathsep.join([str(tests_dir), os.environ.get("PYTHONPATH", "")])}
        env["PATH"] = (f"{bin_dir}{os.pathsep}" if scenario != "not_installed" else "") + \
            os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if not (Path(p) / "grader").exists())
        if scenario in gradings:
            shutil.copy(gradings[scenario].file, workspace / "train.py")
            (files / "report.json").write_text(gradings[scenario].report_json)
            env["GRADER_REPLAY_REPORT"] = str(files / "report.json")
        out[scenario] = actions.run_job(workflow, "run-autograding-tests", workspace, files, env=env,
                                        uses={"actions/checkout": no_op, "actions/setup-python": no_op,
                                              REPORTER_ACTION: reporter},
                                        stand_ins={"Install the grader": installed})
    return out


def seen(job: actions.Job) -> str:
    """What the student reads in the reporter step's log (colours removed)."""
    return ANSI.sub("", job.step("Report to GitHub Classroom").log)


def recorded(log: str) -> dict | None:
    """The grade GitHub Classroom records: the reporter's "Autograding report" notice, if it wrote one."""
    m = re.search(r"^::notice title=Autograding report::(.*)$", log, re.M)
    return json.loads(m[1]) if m else None


def logged_total(log: str) -> float:
    """The total the reporter's own log shows (its summary table's last row)."""
    return float(re.search(r"Total:\s*│\s*([\d.]+)\s*│", log)[1])


def test_the_workflow_reaches_the_reporter_whatever_the_grader_exits_with(runs, gradings):
    for scenario, job in runs.items():
        grade, report, not_graded = (job.step(n) for n in ("Grade train.py", "Report to GitHub Classroom", "Not graded"))
        if scenario == "not_installed":  # nothing to report: the last step says so, as an error
            assert (grade.outcome, report.outcome, not_graded.outcome) == ("failure", "skipped", "failure")
            assert "::error title=Not graded::The grader did not run" in not_graded.log
            continue
        exit_2_or_3 = scenario in ("invalid", "internal_error", "missing")
        assert grade.outcome == ("failure" if exit_2_or_3 else "success"), (scenario, grade.log)
        assert report.outcome != "skipped" and not_graded.outcome == "skipped", scenario
        steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["run-autograding-tests"]["steps"]
        names = set(next(s for s in steps if s.get("uses", "").startswith(REPORTER_ACTION))["with"]["runners"]
                    .split(","))
        assert {"result"} | names == set(grade.outputs), scenario  # one output per runner, and `result`
        for name in names:
            envelope = json.loads(base64.b64decode(grade.outputs[name]))
            assert envelope["version"] == 1 and envelope["tests"], (scenario, name)


@pytest.fixture(scope="module")
def logs(runs) -> dict[str, str]:
    if REPORTER.find() is None:
        pytest.skip(f"GitHub Classroom's reporter is not at {REPORTER.location} (consumers/vendor.py says how to "
                    "put it there); the workflow itself was run above without it")
    out = {scenario: seen(job) for scenario, job in runs.items() if scenario != "not_installed"}
    if os.environ.get("GRADER_CONSUMERS_LOGS"):  # a folder: keep what each student saw, to read or quote
        for scenario, log in out.items():
            Path(os.environ["GRADER_CONSUMERS_LOGS"], f"classroom-{scenario}.log").write_text(log)
    return out


# case -> (points recorded, None: no grade recorded; the reporter's verdict; what the student must read)
EXPECTED = {
    "pass": ({"totalPoints": 100, "maxPoints": 100}, None, ["✅ Runs to completion", "✅ Gradients cleared every step"]),
    "partial": ({"totalPoints": 75, "maxPoints": 100}, "Some tests failed.",
                ["❌ Gradients cleared every step", "Test code:\ngrader check train.py\n# old gradients were still there",
                 "# hint: call optimizer.zero_grad() at the start of every iteration"]),
    "crash": ({"totalPoints": 72, "maxPoints": 100}, "Some tests failed.",
              ["❌ Runs to completion", "# stopped at line 20 during epoch 3 with ValueError: debug: stop here",
               "✅ Prints the loss every epoch (part 1 of 5)", "Total points for printsLossEachEpoch: 2.00/10"]),
    "timeout": ({"totalPoints": 0, "maxPoints": 100}, "Some tests failed.", ["wall-clock backstop"]),
    "invalid": ({"totalPoints": 0, "maxPoints": 100}, "Some tests failed.", ["# the file is empty"]),
    "internal_error": (None, "Some tests errored.", ["Error: internal error:", "header says 10000 bytes", "hint: this is the grader's fault"]),
    "missing": ({"totalPoints": 0, "maxPoints": 100}, "Some tests failed.", ["# cannot read train.py"]),
}


@pytest.mark.parametrize("scenario", EXPECTED)
def test_what_the_student_sees_and_what_is_recorded(logs, gradings, scenario):
    log = logs[scenario]
    grade, verdict, shown = EXPECTED[scenario]
    assert recorded(log) == grade, log
    assert (f"::error::{verdict}" in log) if verdict else "::error::" not in log, log
    for text in shown:
        assert text in log, (text, log)
    if grade is not None:  # the reporter's own log totals what it records, whatever the checks weigh
        assert logged_total(log) == grade["totalPoints"], log
        assert f"::notice title=Autograding complete::Points {grade['totalPoints']}/{grade['maxPoints']}" in log
    if scenario in gradings and grade is not None:
        assert grade["totalPoints"] == gradings[scenario].report.score
    assert not re.search(r"^::(?!notice title=Autograding|error::Some tests)", log, re.M), \
        "only the reporter's own workflow commands: nothing a message quotes"


def test_the_readme_quotes_the_workflow_that_is_tested():
    readme = (ROOT / "README.md").read_text()
    assert f"```yaml\n{WORKFLOW.read_text()}```" in readme, "README's GitHub Classroom workflow differs from " \
                                                             "grader/templates/classroom.yml: quote the file"
