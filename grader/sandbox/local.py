"""`--sandbox none`: a plain child process, for students running their own code. Not isolated, and the
report says so: no network, memory or filesystem limits apply, only the deadlines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.sandbox import Job, Result, Sandbox


def layout(root: Path, inputs: dict[str, Path]) -> None:
    """ROOT/in (links to the inputs), ROOT/work, ROOT/tmp."""
    (root / "in").mkdir()
    (root / "work").mkdir()
    (root / "tmp").mkdir()
    for name, host in inputs.items():
        os.symlink(Path(host).resolve(), root / "in" / name)


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def communicate(proc: subprocess.Popen, timeout_s: float, stdin: bytes = b"") -> tuple[bytes, bytes, bool]:
    """Feed stdin, wait; on the deadline kill the whole process group. Returns (stdout, stderr, timed_out)."""
    try:
        out, err = proc.communicate(input=stdin, timeout=timeout_s)
        return out, err, False
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        return out, err, True


class LocalSandbox(Sandbox):
    name = "none"
    isolated = False

    def run(self, job: Job) -> Result:
        with tempfile.TemporaryDirectory(prefix="grader-job-") as tmp:
            root = Path(tmp)
            layout(root, job.inputs)
            env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "PYTHONPATH", "CUDA_VISIBLE_DEVICES")}
            started = time.monotonic()
            proc = subprocess.Popen([sys.executable, "-m", job.module, str(root)], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, stdin=subprocess.PIPE, cwd=root / "work", env=env,
                                    start_new_session=True)
            out, err, timed_out = communicate(proc, job.timeout_s, job.stdin)
            return Result(out, err, proc.returncode, time.monotonic() - started, timed_out=timed_out)

    def enforced(self, job: Job) -> dict:
        return {**super().enforced(job), "isolation": "none: the submission ran as you, with your network and files"}
