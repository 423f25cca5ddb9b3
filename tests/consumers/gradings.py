"""Six real gradings, one `grader check` run each, whose outputs every consumer test feeds to the program
that reads them in production: a pass, a partial, a crash, a timeout, an invalid file and an internal error.

The internal error is a real grader failure, not a hand-built report: the host's MNIST test labels are cut
short after a valid header (a disk that filled up while the data was imported). The data check reads
headers only, so the grader starts and the run goes ahead; scoring the predictions then fails on the host
(every backend: the test labels never leave it), and `grader/grade.py` turns that exception into
`internal_error`, exit 3.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

from grader import data
from grader.harness import idx
from grader.report import Report

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
TIMEOUT_S = "1"  # CPU seconds; the sleeper uses none, so the wall-clock backstop (6x) ends it in ~6 s

# case -> (the file graded, extra `grader check` options)
CASES: dict[str, tuple[Path, tuple[str, ...]]] = {
    "pass": (ROOT / "reference" / "solution.py", ()),
    "partial": (ROOT / "submissions" / "no_zero_grad.py", ()),
    "crash": (ROOT / "submissions" / "crash_in_epoch3.py", ()),
    "timeout": (HERE / "submissions" / "sleeps_forever.py", ("--timeout", TIMEOUT_S)),
    "invalid": (ROOT / "submissions" / "empty.py", ()),
    "internal_error": (ROOT / "reference" / "solution.py", ()),  # graded against the broken data folder
}
# what `grader check` exits with for each (cli.py: 0 full marks, 1 not, 2 not a submission, 3 internal)
EXIT_CODES = {"pass": 0, "partial": 1, "crash": 1, "timeout": 1, "invalid": 2, "internal_error": 3}


class Grading(NamedTuple):
    report_json: str  # the JSON report, as `grader check --out` wrote it
    exit_code: int  # `grader check`'s exit status
    file: Path  # the file graded

    @property
    def report(self) -> Report:
        return Report.model_validate_json(self.report_json)

    @property
    def data(self) -> dict:
        return json.loads(self.report_json)


def broken_data(real: Path, dest: Path) -> Path:
    """A copy of the MNIST folder whose test labels stop halfway through, after a valid header."""
    dest.mkdir(parents=True, exist_ok=True)
    files = data.require(real)
    for role, path in files.items():
        if role != "test_labels":
            shutil.copy(path, dest / path.name)
    dims, payload = idx.read(files["test_labels"])
    (dest / data.FILES["test_labels"]).write_bytes(idx.header(dims) + payload[: len(payload) // 2])
    return dest


def grade_one(case: str, out: Path, data_dir: Path, sandbox: str) -> Grading:
    file, extra = CASES[case]
    report = out / f"{case}.json"
    cmd = [sys.executable, "-m", "grader", "check", str(file), "--json", "--out", str(report),
           "--sandbox", sandbox, "--device", "cpu", "--data-dir", str(data_dir), *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=out)
    if not report.is_file():
        raise RuntimeError(f"`{' '.join(cmd)}` wrote no report (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return Grading(report.read_text(), done.returncode, file)


def grade_all(out: Path, real_data: Path, sandbox: str, jobs: int = 2) -> dict[str, Grading]:
    """Every case graded once, `jobs` at a time (the sleeper and the broken data cost little CPU)."""
    out.mkdir(parents=True, exist_ok=True)
    bad = broken_data(real_data, out / "broken-mnist")
    data_for = {case: bad if case == "internal_error" else real_data for case in CASES}
    with ThreadPoolExecutor(jobs) as pool:
        futures = {case: pool.submit(grade_one, case, out, data_for[case], sandbox) for case in CASES}
        return {case: f.result() for case, f in futures.items()}


def sandbox_name() -> str:
    """The sandbox the gradings run in: $GRADER_E2E_SANDBOX, else `auto` (docker where the image exists)."""
    return os.environ.get("GRADER_E2E_SANDBOX", "auto")
