"""`--sandbox none`: a plain child process, for students running their own code. Not isolated, and the
report says so: no network, memory or filesystem limits apply, only the deadlines."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.sandbox import Job, Result, Running, Sandbox


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


def running(proc: subprocess.Popen, first: bytes, cleanup=lambda: None) -> Running:
    """A started process as a service: `first` is written to its stdin, which stays open for requests."""

    def write(data: bytes) -> None:
        proc.stdin.write(data)
        proc.stdin.flush()

    def stop() -> None:
        kill_group(proc)
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
        cleanup()

    write(first)
    return Running(write, iter(lambda: proc.stdout.read1(1 << 16), b""), stop,
                   iter(lambda: proc.stderr.read1(1 << 16), b""))


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

    def _launch(self, job: Job, root: Path) -> subprocess.Popen:
        layout(root, job.inputs)
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "PYTHONPATH", "CUDA_VISIBLE_DEVICES")}
        return subprocess.Popen(job.command(sys.executable, str(root)), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.PIPE, cwd=root / "work", env=env,
                                start_new_session=True)

    def run(self, job: Job) -> Result:
        with tempfile.TemporaryDirectory(prefix="grader-job-") as tmp:
            started = time.monotonic()
            proc = self._launch(job, Path(tmp))
            out, err, timed_out = communicate(proc, job.timeout_s, job.stdin)
            return Result(out, err, proc.returncode, time.monotonic() - started, timed_out=timed_out)

    def start(self, job: Job) -> Running:
        tmp = tempfile.mkdtemp(prefix="grader-job-")
        return running(self._launch(job, Path(tmp)), job.stdin, lambda: shutil.rmtree(tmp, ignore_errors=True))

    def enforced(self, job: Job) -> dict:
        return {**super().enforced(job), "isolation": "none: the submission ran as you, with your network and files"}
