"""`grader doctor`: an instructor's set-up checked end to end, run as the Gradescope bundle's setup.sh runs it
while Gradescope builds the image (one real grading of the reference), and failing, with the fix, on a broken
set-up."""

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import cli, hooks

ROOT = Path(__file__).resolve().parent.parent
SANDBOX = os.environ.get("GRADER_E2E_SANDBOX", "process")
if SANDBOX == "auto":
    SANDBOX = "process"


def doctor_step(setup_sh: str) -> str:
    """setup.sh's last command: the doctor line, with its continuation lines."""
    return setup_sh[setup_sh.index('"${GRADER:-'):]


@pytest.mark.e2e
def test_the_bundles_setup_runs_doctor_which_grades_the_reference_for_full_marks(real_data, tmp_path):
    bundle = zipfile.ZipFile(io.BytesIO(hooks.gradescope_bundle(hooks.rubric_toml(hooks.Rubric()), SANDBOX)))
    bundle.extractall(tmp_path / "source")
    step = doctor_step(bundle.read("setup.sh").decode())
    env = {**os.environ, "GRADER": str(Path(sys.executable).parent / "grader"), "GRADER_ROOT": str(tmp_path),
           "GRADER_DATA_DIR": str(real_data)}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", step], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"ok   sandbox: {SANDBOX} -> {SANDBOX}"
    assert lines[1].startswith("ok   data: MNIST in") and lines[1].endswith("sha256 verified")
    assert lines[2].startswith("ok   reference grading: solution.py: 100/100, graded")


def run_doctor(*args):
    return CliRunner().invoke(cli.cli, ["doctor", "--sandbox", SANDBOX, *map(str, args)], catch_exceptions=False)


def test_missing_data_fails_with_the_fix_and_skips_the_grading(tmp_path):
    result = run_doctor("--data-dir", tmp_path / "no-mnist")
    assert result.exit_code == 1
    assert "FAIL data: train-images-idx3-ubyte not found" in result.output
    assert "fix: run `grader data download`" in result.output
    assert "FAIL reference grading: not run" in result.output


def test_a_reference_that_does_not_earn_full_marks_fails_the_set_up(real_data):
    result = run_doctor("--data-dir", real_data, "--reference", ROOT / "submissions" / "syntax_error.py")
    assert result.exit_code == 1, result.output
    assert "FAIL reference grading: syntax_error.py: 0/100, syntax_error" in result.output
    assert "cannot grade fairly" in result.output


def test_an_unavailable_sandbox_fails_with_how_to_get_one(real_data, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no bwrap, no docker CLI on the way
    result = CliRunner().invoke(cli.cli, ["doctor", "--sandbox", "process", "--data-dir", str(real_data)],
                                catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "FAIL sandbox:" in result.output and "fix: process: install bubblewrap" in result.output
