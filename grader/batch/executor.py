"""Batch workers behind one small interface: (submission bytes + name, rubric, options) -> report JSON.

Nothing on the host's disk is shared between the caller and a worker: the work carries the file's bytes,
the settings are plain data, and the answer is the report as JSON. A distributed engine can take the local
pool's place by implementing `Executor.run`. The work is a list (a batch) or a `Feed` (the service), which
is asked for one more piece only when a worker is free: the workers stay warm between files, and what to
grade next is decided at the last moment (the service's store decides it fairly).

The local pool runs `Grader.grade` (the same engine as `grader check`) in N worker processes. Fairness on
a small machine: each job's sandboxes get `cores / N` CPUs (torch threads to match), and each worker is
pinned to its own share of the cores. Each worker keeps one held-out
evaluator running for all its submissions (grader/held_out.py): it waits while a submission trains and
scores the model afterwards, so each job has one busy process at a time and `--jobs 2` on 2 cores runs 2
busy grading threads, not 4 (measured: README, "Grading a class"). Docker containers are not children of
the worker, so there only the per-container CPU quota applies.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import queue
import signal
import tempfile
import traceback
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from grader import inert

PR_SET_PDEATHSIG = 1
POLL_S = 0.5


@dataclass(frozen=True)
class Work:
    key: str  # the caller's handle for this file (the store uses its sha256)
    name: str  # the file's name: its suffix says .py or .ipynb, and tracebacks show it
    content: bytes


@dataclass(frozen=True)
class Settings:
    """Everything a worker needs to build its Grader, as plain data (the rubric as a dict)."""

    rubric: dict
    device: str = "auto"
    data_dir: str | None = None  # None: the worker's own $GRADER_DATA_DIR or cache
    seed: int | None = None
    timeout: float | None = None
    sandbox: str = "auto"
    image: str = "grader:latest"
    jobs: int = 1


class Feed(ABC):
    """Work that arrives while the executor runs: asked for one piece whenever a worker is free."""

    @abstractmethod
    def next(self) -> Work | None:
        """The next piece of work, or None when there is none now (the executor asks again shortly)."""

    @property
    @abstractmethod
    def closed(self) -> bool:
        """True once no more work will come: the executor finishes what runs and returns."""


class Pending:
    """The work not handed out yet: a batch's list, or a feed; work a lost worker gave back goes first."""

    def __init__(self, work: Iterable[Work] | Feed):
        self.feed = work if isinstance(work, Feed) else None
        self.back = [] if self.feed else list(work)[::-1]  # pop() from the end keeps the caller's order

    def take(self) -> Work | None:
        if self.back:
            return self.back.pop()
        return self.feed.next() if self.feed else None

    def give_back(self, work: Work) -> None:
        self.back.append(work)

    @property
    def open(self) -> bool:
        """More may still be taken."""
        return bool(self.back) or self.feed is not None and not self.feed.closed

    def at_most(self) -> int:
        """How many pieces may still come (a feed: no bound), to size the workers."""
        return 1 << 30 if self.feed else len(self.back)


class Executor(ABC):
    notes: Sequence[str] = ()  # what the batch tells the user at the end (a node that graded nothing, and why)

    def say(self, text: str) -> None:
        """Tell the user now (the batch points this at its progress output)."""

    @abstractmethod
    def run(self, work: Iterable[Work] | Feed) -> Iterator[tuple[Work, str]]:
        """Grade every piece of work; yield (work, report JSON) as each finishes, in any order. A feed is
        graded until it closes."""

    def stop(self) -> None:
        """Start no new work; what is running finishes and is still yielded."""

    def abandon(self) -> None:
        """Kill what is running (its sandboxes die with the workers)."""


def make_grader(settings: Settings):
    from grader.grade import Grader, Options
    from grader.rubric import Rubric

    opts = Options(rubric=Rubric.model_validate(settings.rubric), device=settings.device,
                   data_dir=Path(settings.data_dir) if settings.data_dir else None, seed=settings.seed,
                   timeout=settings.timeout, sandbox=settings.sandbox, image=settings.image, jobs=settings.jobs,
                   allow_download=False, warm_evaluator=len(os.sched_getaffinity(0)) / max(1, settings.jobs) >= 2,
                   evaluator_service=True, warm_worker=True)
    return Grader(opts)


def grade_bytes(grader, work: Work, node: str | None = None) -> str:
    """The unit of work: write the bytes into a private temp dir, grade them, report as JSON. `node`: the
    cluster node that graded it, for the report (None on the local pool)."""
    with tempfile.TemporaryDirectory(prefix="grader-batch-") as tmp:
        path = Path(tmp) / inert.file_name(Path(work.name).name or "submission.py")  # a student's name: bounded
        path.write_bytes(work.content)
        report = grader.grade(path)
    report.submission.path = work.name  # never the worker's temp path
    report.environment.node = node
    return report.model_dump_json()


def unjudged_report(name: str, status: str, message: str, max_score: float, rubric_digest: str | None,
                    warnings: list[str] = (), size: int | None = None):
    """A report for a file no run judged: its worker died (internal_error), or the student handed in no
    single gradable file (invalid_submission, for the LMS hooks). No checks ran, so none are listed."""
    from grader.report import Report, Status, SubmissionInfo

    kind = {".py": "python", ".ipynb": "notebook"}.get(Path(name).suffix.lower(), "unknown")
    return Report(submission=SubmissionInfo(path=name, name=Path(name).name, kind=kind, size_bytes=size),
                  status=Status(status), message=message, score=0, max_score=max_score,
                  rubric_digest=rubric_digest, warnings=list(warnings))


def failure_report(work: Work, message: str, settings: Settings) -> str:
    from grader.rubric import Rubric, digest

    rubric = Rubric.model_validate(settings.rubric)
    return unjudged_report(work.name, "internal_error", f"The grader failed: {message}", rubric.max_score,
                           digest(rubric, settings.seed, settings.timeout),
                           ["not the student's fault: grade it again with --retry-errors"],
                           len(work.content)).model_dump_json()


def cpu_shares(jobs: int) -> list[set[int] | None]:
    """Disjoint cores for each worker when they divide evenly enough; None (no pin) otherwise."""
    cores = sorted(os.sched_getaffinity(0))
    if jobs <= 1 or jobs > len(cores):
        return [None] * max(1, jobs)
    per = len(cores) // jobs
    return [set(cores[i * per:(i + 1) * per]) for i in range(jobs)]


def _die_with_parent(parent: int) -> None:
    """A worker must not outlive the batch (kill -9 of the caller): its sandboxes die with it in turn."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


def _worker(index: int, cores: set[int] | None, settings: Settings, parent: int, inbox, outbox) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle: it lets running work finish
    if cores:
        os.sched_setaffinity(0, cores)
    try:
        grader = make_grader(settings)
    except Exception as exc:
        outbox.put(("setup", index, None, f"{type(exc).__name__}: {exc}"))
        return
    outbox.put(("ready", index, None, None))
    try:
        while (work := inbox.get()) is not None:
            try:
                outbox.put(("done", index, work.key, grade_bytes(grader, work)))
            except Exception:
                outbox.put(("error", index, work.key, traceback.format_exc(limit=3)))
    finally:
        grader.close()


class SetupFailed(Exception):
    """A worker could not build its Grader (data, sandbox): nothing can be graded."""


class LocalPool(Executor):
    def __init__(self, settings: Settings, jobs: int):
        self.settings, self.jobs = settings, max(1, jobs)
        self.ctx = mp.get_context("spawn")  # no fork of a threaded parent
        self.outbox = self.ctx.Queue()
        self.workers: list = []
        self.inboxes: list = []
        self.busy: dict[int, Work] = {}
        self.stopping = self.abandoned = False

    def _start(self, index: int, cores) -> None:
        inbox = self.ctx.Queue()
        proc = self.ctx.Process(target=_worker, args=(index, cores, self.settings, os.getpid(), inbox, self.outbox),
                                daemon=True, name=f"grader-worker-{index}")
        proc.start()
        if index < len(self.workers):
            self.workers[index], self.inboxes[index] = proc, inbox
        else:
            self.workers.append(proc)
            self.inboxes.append(inbox)

    def run(self, work: Iterable[Work] | Feed) -> Iterator[tuple[Work, str]]:
        pending = Pending(work)
        if not pending.open:  # everything was in the store: no worker (and no Grader) to start
            return
        shares = cpu_shares(self.jobs)
        for i in range(min(self.jobs, pending.at_most())):
            self._start(i, shares[i])
        idle: list[int] = []
        try:
            while pending.open and not self.stopping or self.busy:
                while idle and not self.stopping and (piece := pending.take()) is not None:
                    i = idle.pop()
                    self.busy[i] = piece
                    self.inboxes[i].put(piece)
                try:
                    kind, i, _key, payload = self.outbox.get(timeout=POLL_S)
                except queue.Empty:
                    yield from self._reap_dead(shares, idle)
                    if not (self.abandoned or self.busy or idle) and all(not w.is_alive() for w in self.workers):
                        raise SetupFailed("every grading worker exited")
                    continue
                if kind == "setup":
                    raise SetupFailed(payload)
                if kind in ("done", "error"):
                    done = self.busy.pop(i)
                    yield done, payload if kind == "done" else failure_report(done, payload.strip().splitlines()[-1],
                                                                               self.settings)
                idle.append(i)
        finally:
            self._shutdown()

    def _reap_dead(self, shares, idle) -> Iterator[tuple[Work, str]]:
        """A worker that died mid-job (killed, out of host memory) costs that job, never the batch."""
        from grader import sandbox

        for i, proc in enumerate(self.workers):
            if proc.is_alive() or i not in self.busy:
                continue
            done = self.busy.pop(i)
            sandbox.clean_leftovers()  # its sandbox would run on to its deadline: nobody reads it any more
            if self.abandoned:  # killed on purpose: it stays ungraded, and the next run grades it
                continue
            yield done, failure_report(done, f"the worker grading it died (exit {proc.exitcode})", self.settings)
            if not self.stopping:
                self._start(i, shares[i])

    def stop(self) -> None:
        self.stopping = True

    def abandon(self) -> None:
        self.stopping = self.abandoned = True
        for proc in self.workers:
            if proc.is_alive():
                proc.kill()

    def _shutdown(self) -> None:
        for inbox, proc in zip(self.inboxes, self.workers):
            if proc.is_alive():
                inbox.put(None)
        for proc in self.workers:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()

