"""The batch and LMS-hook commands through click's CliRunner and by hand, on submissions that never train
(syntax errors, empty files), so they stay fast. Real training is in test_batch_e2e.py."""

import base64
import csv
import json
import os
import stat
import subprocess
import sys
import threading
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import cli, formats
from grader.formats import github_classroom
from grader.batch.executor import LocalPool, Settings, Work
from grader.report import Report
from grader.rubric import Rubric
from grader.sandbox.process import Cgroup, job_owners

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "submissions"
SYNTAX = (SUBMISSIONS / "syntax_error.py").read_bytes()


@pytest.fixture
def run(real_data, monkeypatch):
    monkeypatch.setenv("GRADER_DATA_DIR", str(real_data))

    def invoke(*args):
        return CliRunner().invoke(cli.cli, [str(a) for a in args], catch_exceptions=False)

    return invoke


def rows(out: Path) -> dict:
    text = (out / "grades.csv").read_text(encoding="utf-8-sig")
    return {r["student"]: r for r in csv.DictReader(text.splitlines())}


def test_grade_writes_every_export_and_exits_1_below_full_marks(run, tmp_path):
    out = tmp_path / "out"
    result = run("grade", SUBMISSIONS / "syntax_error.py", SUBMISSIONS / "empty.py", "--out", out, "--sandbox",
                 "process", "--format", "junit", "--format", "gradescope")
    assert result.exit_code == 1, result.output
    got = rows(out)
    assert got["syntax_error"]["status"] == "syntax_error" and got["empty"]["status"] == "invalid_submission"
    assert {p.name for p in (out / "reports").iterdir()} == {"syntax_error.json", "empty.json"}
    assert (out / "summary.md").exists() and (out / "junit.xml").exists()
    assert (out / "gradescope" / "empty" / "results.json").exists()
    assert run("grade", SUBMISSIONS / "syntax_error.py", "--out", tmp_path / "o2", "--min-score", "0",
               "--sandbox", "process").exit_code == 0


def test_rerun_grades_nothing_twice_and_force_regrades(run, tmp_path):
    out = tmp_path / "out"
    args = ("grade", SUBMISSIONS / "syntax_error.py", "--out", out, "--sandbox", "process")
    assert "1 to grade, 0 already" in run(*args).output
    first = (out / "grades.csv").read_bytes()
    again = run(*args)
    assert "0 to grade, 1 already" in again.output and (out / "grades.csv").read_bytes() == first
    assert "1 to grade, 0 already" in run(*args, "--force").output


def test_ambiguous_student_exits_2_and_is_listed(run, tmp_path):
    z = tmp_path / "canvas.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("smithbob_123_456_a.py", SYNTAX)
        zf.writestr("smithbob_123_457_b.py", b"x = (\n")
    out = tmp_path / "out"
    result = run("grade", z, "--out", out, "--sandbox", "process")
    assert result.exit_code == 2
    assert rows(out)["123"]["status"] == "ambiguous" and "123" in (out / "summary.md").read_text()


def test_a_gradebook_that_cannot_be_made_takes_no_other_export_with_it(run, tmp_path):
    """A plain folder carries no Canvas ids: that gradebook fails alone, with why and the fix; every
    --format is still written, and the exit status says an input was wrong (2), not that the grader broke."""
    folder = tmp_path / "hw1"
    folder.mkdir()
    (folder / "alice.py").write_bytes(SYNTAX)
    out = tmp_path / "out"
    result = run("grade", folder, "--out", out, "--sandbox", "process", "--gradebook", "canvas", "--column-id",
                 "4321", "--format", "gradescope", "--format", "junit")
    assert result.exit_code == 2, result.output
    assert "gradebook-canvas.csv not written" in result.output and "Canvas export" in result.output
    assert not (out / "gradebook-canvas.csv").exists()
    assert (out / "gradescope" / "alice" / "results.json").exists() and (out / "junit.xml").exists()
    assert rows(out)["alice"]["status"] == "syntax_error" and (out / "summary.md").exists()


@pytest.mark.parametrize("args, fragment", [
    (["--gradebook", "canvas"], "--column-id"),
    (["--force", "--retry-errors"], "--force already"),
    (["--points", "10"], "--gradebook"),
])
def test_grade_usage_errors_exit_2_with_the_fix(run, tmp_path, args, fragment):
    result = run("grade", SUBMISSIONS / "empty.py", "--out", tmp_path / "o", "--sandbox", "process", *args)
    assert result.exit_code == 2 and fragment in result.output


def test_grade_with_nothing_to_grade_exits_2(run, tmp_path):
    (tmp_path / "empty-folder").mkdir()
    result = run("grade", tmp_path / "empty-folder", "--out", tmp_path / "o", "--sandbox", "process")
    assert result.exit_code == 2 and "found no submissions" in result.output


@pytest.mark.parametrize("fmt", formats.NAMES)
def test_check_format_is_the_pure_function_of_the_report(run, tmp_path, fmt, monkeypatch):
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "gh_output"))
    result = run("check", SUBMISSIONS / "syntax_error.py", "--format", fmt, "--out", tmp_path / "r.json",
                 "--sandbox", "process")
    assert result.exit_code == 1
    rep = Report.model_validate_json((tmp_path / "r.json").read_text())
    assert result.stdout == formats.render(fmt, rep) + "\n"
    if fmt == "github-classroom":
        outputs = dict(line.split("=", 1) for line in (tmp_path / "gh_output").read_text().splitlines())
        assert json.loads(base64.b64decode(outputs.pop("result")))["status"] == "fail"
        # one output per check's runner: a syntax error fails every check
        assert {json.loads(base64.b64decode(v))["status"] for v in outputs.values()} == {"fail"}
        assert list(outputs) == [github_classroom.runner_name(c.id) for c in rep.checks]


def test_check_min_score_and_conflicting_outputs(run):
    assert run("check", SUBMISSIONS / "syntax_error.py", "--min-score", "0", "--sandbox", "process").exit_code == 0
    result = run("check", SUBMISSIONS / "syntax_error.py", "--json", "--format", "junit")
    assert result.exit_code == 2 and "choose one" in result.output


def test_gradescope_and_prairielearn_hooks_by_hand(run, tmp_path):
    ag = tmp_path / "autograder"
    (ag / "submission").mkdir(parents=True)
    (ag / "submission" / "main.py").write_bytes(SYNTAX)
    assert run("gradescope", "--root", ag, "--sandbox", "process").exit_code == 0
    res = json.loads((ag / "results" / "results.json").read_text())
    assert res["score"] == 0 and res["tests"][0]["status"] == "failed" and "SyntaxError" in res["tests"][0]["output"]
    (ag / "submission" / "main.py").unlink()
    assert run("gradescope", "--root", ag, "--sandbox", "process").exit_code == 0
    assert "no .py or .ipynb file" in json.loads((ag / "results" / "results.json").read_text())["output"]

    pl = tmp_path / "grade"
    (pl / "student").mkdir(parents=True)
    (pl / "student" / "main.py").write_text("")
    assert run("prairielearn", "--root", pl, "--sandbox", "process").exit_code == 0
    res = json.loads((pl / "results" / "results.json").read_text())
    assert res["gradable"] is False and "empty" in res["format_errors"][0]


def test_gradescope_bundle_runs_by_hand_against_an_autograder_folder(run, tmp_path, real_data):
    bundle = tmp_path / "autograder.zip"
    assert run("gradescope-bundle", bundle).exit_code == 0
    ag = tmp_path / "ag"
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        assert {"setup.sh", "run_autograder", "rubric.toml", "grader-src/pyproject.toml",
                "grader-src/grader/grade.py"} <= names
        for script in ("setup.sh", "run_autograder"):
            assert (zf.getinfo(script).external_attr >> 16) & stat.S_IXUSR
        zf.extractall(ag / "source")
    assert Rubric.model_validate(tomllib.loads((ag / "source" / "rubric.toml").read_text())) == Rubric()
    (ag / "submission").mkdir()
    (ag / "submission" / "hw.py").write_bytes(SYNTAX)
    script = ag / "source" / "run_autograder"
    script.chmod(0o755)
    env = {**os.environ, "GRADER_ROOT": str(ag), "GRADER": str(Path(sys.executable).parent / "grader"),
           "GRADER_DATA_DIR": str(real_data)}
    done = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    res = json.loads((ag / "results" / "results.json").read_text())
    assert res["score"] == 0 and len(res["tests"]) == 8


def test_a_worker_that_dies_costs_its_submission_not_the_batch(real_data, monkeypatch):
    """Killed mid-job (as the OOM killer would): that file gets an infrastructure error, the rest are graded."""
    monkeypatch.setenv("GRADER_DATA_DIR", str(real_data))
    pool = LocalPool(Settings(rubric=Rubric().model_dump(mode="json"), sandbox="process", device="cpu"), jobs=1)
    sleeper = Work("sleeper", "sleeper.py", b"import time\ntime.sleep(600)\n")

    killed = []

    def kill_when_busy():
        while not pool.busy:
            time.sleep(0.1)
        time.sleep(1)
        killed.append(pool.workers[0].pid)
        pool.workers[0].kill()

    threading.Thread(target=kill_when_busy, daemon=True).start()
    got = {w.key: json.loads(rep) for w, rep in pool.run([sleeper, Work("syntax", "s.py", SYNTAX)])}
    assert got["sleeper"]["status"] == "internal_error" and "died" in got["sleeper"]["message"]
    assert got["syntax"]["status"] == "syntax_error"
    if os.geteuid() == 0:  # its sandbox was killed and removed, not left to run to its deadline
        assert not [c for c in Cgroup.leftovers() if any(f"/{killed[0]}-" in str(d) for d in c.dirs.values())]
        assert not [p for p in Path("/proc").glob("[0-9]*") if killed[0] in job_owners(p)]
