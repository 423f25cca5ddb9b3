"""Sandboxes: where submission code (and the held-out evaluator) runs. One small interface, several backends.

Every backend lays a job out the same way and runs `python -m MODULE ROOT` inside it:
  ROOT/in/NAME   the job's input files, read-only
  ROOT/work      the working directory (writable, size-capped, thrown away)
  ROOT/tmp       scratch (writable, size-capped, thrown away)
and returns the process's stdout (the supervisor's framed stream), its stderr and how it ended. The rest of
the grader never learns which backend ran, except to write its name and enforced limits into the report.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar, Iterator

from grader.rubric import Limits

BACKENDS = ("auto", "docker", "process", "none")


class SandboxUnavailable(Exception):
    """The backend asked for cannot run here; the message says how to get it."""


@dataclass
class Job:
    module: str  # run as `python -m MODULE ROOT [ARGS]`
    inputs: dict[str, Path]  # name -> host file, appears read-only at ROOT/in/NAME
    limits: Limits
    timeout_s: float  # hard wall clock for the whole sandbox; the supervisor's own deadlines come first
    device: str = "cpu"
    cpus: float = 1.0
    stdin: bytes = b""  # written to the sandboxed process's stdin, then closed (the supervisor's signing key)
    args: tuple[str, ...] = ()
    # the harness may come from a warm worker started with this environment (harness/zygote.py); a backend
    # that has none runs it cold, the same way
    warm_env: dict | None = None
    # the command takes `--cpu-usage HOW`, where the backend says how to see the CPU time of everything the
    # job starts (grader/harness/cpu.py); a backend that isolates nothing adds nothing
    cpu_meter: bool = False

    def command(self, python: str, root: str) -> list[str]:
        return [python, "-m", self.module, root, *self.args]

    @property
    def cpu_seconds(self) -> int:
        """RLIMIT_CPU, a backstop behind the supervisor's own CPU deadline: the budget and grace on every core."""
        return int((self.limits.timeout_s + self.limits.grace_s) * max(1, round(self.cpus)) + 60)


@dataclass
class Result:
    stdout: bytes
    stderr: bytes
    exit_code: int | None
    wall_s: float
    timed_out: bool = False  # killed by the host's hard deadline
    oom: bool = False  # the memory limit was hit (container or cgroup says so)
    notes: list[str] = field(default_factory=list)


class Running:
    """A sandboxed process that keeps running (a service): requests go in on its stdin, answers come back
    as lines on its stdout. `stop` kills it and removes what its sandbox left."""

    STDERR_TAIL = 8192

    def __init__(self, write: Callable[[bytes], None], chunks: Iterator[bytes], stop: Callable[[], None],
                 errors: Iterator[bytes] = iter(())):
        self._write, self._stop = write, stop
        self._lines: queue.Queue = queue.Queue()
        self.stderr = b""
        threading.Thread(target=self._read, args=(chunks,), daemon=True).start()
        threading.Thread(target=self._read_errors, args=(errors,), daemon=True).start()

    def _read(self, chunks: Iterator[bytes]) -> None:
        buf = b""
        try:
            for chunk in chunks:
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    self._lines.put(line)
        except Exception:  # the stream broke: the same as the process ending
            pass
        self._lines.put(None)

    def _read_errors(self, chunks: Iterator[bytes]) -> None:
        try:
            for chunk in chunks:
                self.stderr = (self.stderr + chunk)[-self.STDERR_TAIL:]
        except Exception:
            pass

    def send(self, data: bytes) -> None:
        self._write(data)

    def readline(self, timeout: float) -> bytes | None:
        """The next line; None once the process has ended (or after `timeout` seconds)."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def stop(self) -> None:
        """Kill it and clean up (once: later calls do nothing)."""
        stop, self._stop = self._stop, lambda: None
        stop()


class Sandbox(ABC):
    name: ClassVar[str]
    isolated: ClassVar[bool] = True
    # the sandbox's stdout reaches the host only as text (Docker's log drivers): binary parts go as base64
    text_stdout: ClassVar[bool] = False

    def __init__(self, settings: "Settings | None" = None):
        self.settings = settings or Settings()

    @classmethod
    def unavailable(cls, settings: "Settings") -> str | None:
        """None if the backend can run here, else what to do to get it."""
        return None

    def baked(self, name: str) -> str | None:
        """In-sandbox path of a data file the sandbox already carries (the Docker image's training set)."""
        return None

    @abstractmethod
    def run(self, job: Job) -> Result: ...

    @abstractmethod
    def start(self, job: Job) -> Running:
        """Run the job as a service: like `run`, but stdin stays open and the caller stops it. The job's
        timeout_s does not apply; the caller owns the deadlines."""

    def close(self) -> None:
        """Stop what the backend keeps running between jobs (a warm worker)."""

    def enforced(self, job: Job) -> dict:
        """The limits this backend really enforces, for the report."""
        return {"timeout_s": job.limits.timeout_s, "hard_timeout_s": job.timeout_s}


def cuda_present() -> bool:
    """Cheap GPU probe that does not import torch (which costs seconds)."""
    return os.path.exists("/dev/nvidiactl") or shutil.which("nvidia-smi") is not None


@dataclass
class Settings:
    """Backend options that come from the command line rather than the rubric."""

    image: str = "grader:latest"


def select(name: str = "auto", settings: Settings | None = None) -> Sandbox:
    """The backend to run jobs in; `auto` is docker if an engine answers, else process. `none` only on request."""
    from grader.sandbox.docker import DockerSandbox
    from grader.sandbox.local import LocalSandbox
    from grader.sandbox.process import ProcessSandbox

    settings = settings or Settings()
    kinds = {"docker": DockerSandbox, "process": ProcessSandbox, "none": LocalSandbox}
    if name not in kinds and name != "auto":
        raise SandboxUnavailable(f"unknown sandbox '{name}' (choose from {', '.join(BACKENDS)})")
    reasons = []
    for kind in [DockerSandbox, ProcessSandbox] if name == "auto" else [kinds[name]]:
        why = kind.unavailable(settings)
        if why is None:
            return kind(settings)
        reasons.append(f"{kind.name}: {why}")
    if name != "auto":
        raise SandboxUnavailable(f"the {name} sandbox is not available: {reasons[0].split(': ', 1)[1]}")
    raise SandboxUnavailable("no sandbox is available here.\n  " + "\n  ".join(reasons) +
                             "\nTo grade your own code without isolation, pass --sandbox none.")


def clean_leftovers(log=lambda message: None) -> int:
    """Kill and remove what graders that are gone left behind: process-sandbox cgroups, Docker containers and
    temporary folders (never those of a grader still running). Returns how many."""
    from grader import scratch
    from grader.sandbox import docker, process

    removed = process.clean() + scratch.clean()
    try:
        removed += docker.clean()
    except Exception as exc:  # no engine: nothing to clean there
        log(f"docker: skipped ({type(exc).__name__})")
    return removed
