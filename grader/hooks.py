"""LMS hooks that grade one student inside the LMS's own container: Gradescope's `run_autograder` and
PrairieLearn's external-grading entry point, plus the zip an instructor uploads to Gradescope.
"""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

import grader as grader_package
from grader.batch.executor import Work, grade_bytes, unjudged_report
from grader.batch.inputs import one_student
from grader.report import Report
from grader.rubric import Limits, Rubric

PROJECT = Path(grader_package.__file__).resolve().parent.parent


def grade_folder(grader, folder: Path, source: str) -> Report:
    """Grade the one submission in FOLDER; a folder with none, or with two different ones, gets a report
    that says so (the student sees it), not a guess."""
    student = one_student(folder, "student", source)
    if student.problem:
        return unjudged_report(str(folder), "invalid_submission", f"Not graded: {student.problem}.",
                               grader.rubric.max_score, grader.rubric_digest)
    return Report.model_validate_json(grade_bytes(grader, Work(student.sha256, student.filename, student.data)))


SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (apt and the internet work here).
# The image needs Python >= 3.11: choose Ubuntu 24.04 as the base image in the assignment's settings.
set -euo pipefail
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap
python3 -m venv /opt/grader
/opt/grader/bin/pip install /autograder/source/grader-src
/opt/grader/bin/grader data download --data-dir /opt/grader/mnist
# the last step checks the image: a broken one fails here, while it is built, not at the first submission
"${{GRADER:-/opt/grader/bin/grader}}" doctor --sandbox {sandbox} --data-dir "${{GRADER_DATA_DIR:-/opt/grader/mnist}}" \\
    --rubric "${{GRADER_ROOT:-/autograder}}/source/rubric.toml" \\
    --reference "${{GRADER_ROOT:-/autograder}}/source/reference/solution.py"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: it grades /autograder/submission and writes
# /autograder/results/results.json. By hand, against a folder laid out like /autograder:
#   GRADER_ROOT=/tmp/ag GRADER=.venv/bin/grader GRADER_DATA_DIR=/data/mnist /tmp/ag/source/run_autograder
set -uo pipefail
ROOT=${{GRADER_ROOT:-/autograder}}
export GRADER_DATA_DIR=${{GRADER_DATA_DIR:-/opt/grader/mnist}}
exec "${{GRADER:-/opt/grader/bin/grader}}" gradescope --root "$ROOT" --rubric "$ROOT/source/rubric.toml" \\
    --sandbox "${{GRADER_SANDBOX:-{sandbox}}}"
"""


PRAIRIELEARN_MAX_TIMEOUT_S = 600  # PrairieLearn's docs/externalGrading.md: `timeout` "cannot exceed 600 seconds"
SETUP_MARGIN_S = 60  # the sandbox's start, torch's import and the held-out evaluation: outside every budget


def worst_case_hold_s(limits: Limits) -> float:
    """What one file may hold a worker, whatever it does: the wall-clock backstop and two grace periods."""
    return limits.timeout_s * limits.wall_factor + 2 * limits.grace_s


def legal_run_s(limits: Limits, cpus: float) -> float:
    """Wall time of an honest submission that spends its whole CPU budget, the short run and the confirmation
    run (at most CONFIRM_CPU_MULTIPLE times the short one's), on `cpus` cores, plus graces and the set-up."""
    from grader.grade import CONFIRM_CPU_MULTIPLE

    return (1 + CONFIRM_CPU_MULTIPLE) * limits.timeout_s / cpus + 2 * limits.grace_s + SETUP_MARGIN_S


def prairielearn_timeout(limits: Limits) -> int:
    """info.json's `timeout`: long enough that the grader, not PrairieLearn, ends every run (PrairieLearn's own
    kill discards results.json and shows "Grading failed"), within PrairieLearn's maximum."""
    return min(PRAIRIELEARN_MAX_TIMEOUT_S, math.ceil(worst_case_hold_s(limits) + SETUP_MARGIN_S))


def rubric_toml(rubric: Rubric) -> str:
    """The rubric as TOML (tomllib reads, the standard library cannot write)."""
    data = rubric.model_dump(mode="json")
    lines = [f"{k} = {_toml(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for table in ("points", "limits"):
        lines += ["", f"[{table}]"] + [f"{k} = {_toml(v)}" for k, v in data[table].items() if v is not None]
    return "\n".join(lines) + "\n"


def _toml(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else repr(value)


def gradescope_bundle(rubric_text: str, sandbox: str = "process") -> bytes:
    """The autograder zip: setup.sh, run_autograder, rubric.toml, and the grader's source to install."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        def add(name: str, data: str | bytes, mode: int = 0o644) -> None:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)

        add("setup.sh", SETUP_SH.format(sandbox=sandbox), 0o755)
        add("run_autograder", RUN_AUTOGRADER.format(sandbox=sandbox), 0o755)
        add("rubric.toml", rubric_text)
        add("reference/solution.py", (PROJECT / "reference" / "solution.py").read_bytes())  # for `grader doctor`
        add("grader-src/pyproject.toml", (PROJECT / "pyproject.toml").read_bytes())
        add("grader-src/README.md", (PROJECT / "README.md").read_bytes())
        for path in sorted((PROJECT / "grader").rglob("*.py")):
            add(f"grader-src/{path.relative_to(PROJECT).as_posix()}", path.read_bytes())
    return buf.getvalue()
