"""A batch: find the students, grade what the store lacks, export everything from the store.

Ctrl-C once: no new submissions start, the running ones finish and are stored, the exports are written.
Ctrl-C twice: the running ones are abandoned (they stay ungraded; the next run grades them).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from grader import __version__, inert
from grader.batch import exports, inputs
from grader.batch.executor import Executor, LocalPool, Settings, Work
from grader.batch.store import Store

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_INFRA, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


@dataclass
class Plan:
    inputs: list[Path]
    out: Path
    settings: Settings
    rubric_digest: str
    jobs: int
    force: bool = False
    retry_errors: bool = False
    min_score: float | None = None
    gradebook: str | None = None
    title: str = "MNIST training loop"
    column_id: str | None = None
    points: float | None = None  # what the assignment is worth in the LMS: gradebook scores are scaled to it
    formats: tuple[str, ...] = ()
    pattern: str | None = None
    progress: str = "auto"  # auto (bar on a terminal, else lines) | bar | lines | quiet
    command: str = ""


@dataclass
class Outcome:
    students: int
    to_grade: int
    graded: int
    from_store: int
    interrupted: bool
    exit_code: int
    notes: list[str] = field(default_factory=list)
    mean: float | None = None
    failed: list[exports.Failure] = field(default_factory=list)  # exports not written, each with why


def default_jobs(memory_mb: int) -> int:
    """What the machine holds: one job per core, and per (sandbox memory + ~1 GB for the evaluator and worker)."""
    cores = len(os.sched_getaffinity(0))
    try:
        with open("/proc/meminfo") as fh:
            avail_kb = next(int(ln.split()[1]) for ln in fh if ln.startswith("MemAvailable:"))
        by_memory = (avail_kb // 1024) // (memory_mb + 1024)
    except (OSError, StopIteration, ValueError):
        by_memory = cores
    return max(1, min(cores, by_memory))


class _Progress:
    """A bar (count, ETA, running mean, failures) on a terminal; one line per submission otherwise."""

    def __init__(self, mode: str, total: int, owners: dict[str, list[str]], min_score: float | None):
        self.mode = mode if mode != "auto" else ("bar" if sys.stderr.isatty() else "lines")
        self.total, self.owners, self.min_score = total, owners, min_score
        self.scores: list[float] = []
        self.failures = self.done = 0
        self.bar = None
        if self.mode == "bar" and total:
            self.bar = click.progressbar(length=total, label="grading", show_eta=True, show_pos=True, file=sys.stderr,
                                         item_show_func=lambda _: self._status())
            self.bar.__enter__()

    def _status(self) -> str:
        mean = f"mean {statistics.mean(self.scores):.1f}" if self.scores else "mean –"
        return f"{mean} · {self.failures} below the bar"

    def update(self, work: Work, report: dict) -> None:
        self.done += 1
        self.scores.append(report["score"])
        need = report["max_score"] if self.min_score is None else self.min_score
        self.failures += report["score"] < need
        if self.bar is not None:
            self.bar.update(1, work.key)
        elif self.mode == "lines":
            who = inert.terminal(", ".join(self.owners.get(work.key, [])[:3]), one_line=True)  # names students chose
            click.echo(f"[{self.done}/{self.total}] {who}: {report['score']:g}/{report['max_score']:g} "
                       f"{report['status']} ({(report.get('timings') or {}).get('total_s', 0):.1f} s)", err=True)

    def say(self, text: str) -> None:
        if self.mode != "quiet":  # warnings quote entry names from the inputs
            click.echo(("\n" if self.bar is not None else "") + inert.terminal(text), err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def work_name(data: bytes, names: list[str]) -> str:
    """The name identical files are graded under, once for all their owners. Its suffix says how the bytes
    are read: where owners named them differently, the suffix that fits the bytes (a notebook is JSON), so
    one student's file name cannot change how another's file is read."""
    if len({Path(n).suffix.lower() for n in names}) == 1:
        return names[0]
    fits = ".ipynb" if data.lstrip().startswith(b"{") else ".py"
    return next((n for n in names if n.lower().endswith(fits)), names[0])


def run(plan: Plan, executor: Executor | None = None) -> Outcome:
    found = inputs.discover(plan.inputs, pattern=plan.pattern)
    if not found.students:
        raise inputs.InputError("found no submissions in " + ", ".join(map(str, plan.inputs)))
    plan.out.mkdir(parents=True, exist_ok=True)
    store = Store(plan.out / "grader.db")
    try:
        return _run(plan, found, store, executor)
    finally:
        store.close()


def _run(plan: Plan, found: inputs.Discovery, store: Store, executor: Executor | None) -> Outcome:
    run_id = store.begin_run(plan.command, plan.rubric_digest, __version__, found.warnings)
    store.set_roster(found.students)
    have = set() if plan.force else store.graded(plan.rubric_digest, __version__, retry_errors=plan.retry_errors)
    owners: dict[str, list[str]] = {}
    named: dict[str, list[str]] = {}
    for s in found.students:
        if s.data is not None:
            owners.setdefault(s.sha256, []).append(s.id)
            named.setdefault(s.sha256, []).append(s.filename or "submission.py")
    data = {s.sha256: s.data for s in found.students if s.data is not None}
    todo = {key: Work(key, work_name(data[key], named[key]), data[key]) for key in owners if key not in have}
    unique = len(owners)
    progress = _Progress(plan.progress, len(todo), owners, plan.min_score)
    progress.say(f"{len(found.students)} students, {unique} distinct files: {len(todo)} to grade, "
                 f"{unique - len(todo)} already in {plan.out / 'grader.db'}"
                 + (f", {plan.jobs} at a time" if todo and plan.jobs else ""))
    for w in found.warnings:
        progress.say(f"warning: {w}")
    executor = executor or LocalPool(plan.settings, plan.jobs)
    executor.say = progress.say
    interrupts = 0

    def on_sigint(signum, frame):
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            executor.stop()
            progress.say("stopping: no new submissions start; the running ones finish and are kept "
                         "(Ctrl-C again to abandon them)")
        else:
            executor.abandon()

    previous = signal.signal(signal.SIGINT, on_sigint)
    graded = 0
    started = time.monotonic()
    try:
        for work, report_json in executor.run(list(todo.values())):
            store.save(work.key, plan.rubric_digest, __version__, report_json, run_id)
            graded += 1
            progress.update(work, json.loads(report_json))
    finally:
        signal.signal(signal.SIGINT, previous)
        progress.close()
    interrupted = interrupts > 0 and graded < len(todo)
    store.end_run(run_id, "interrupted" if interrupted else "complete")
    rows = store.rows(plan.rubric_digest, __version__)
    written = exports.write_all(plan.out, rows, store.run_info(run_id), min_score=plan.min_score,
                                gradebook_kind=plan.gradebook, title=plan.title, column_id=plan.column_id,
                                format_names=plan.formats, points=plan.points)
    if graded:
        written.notes.insert(0, f"graded {graded} file(s) in {time.monotonic() - started:.1f} s")
    written.notes.extend(executor.notes)
    return _outcome(plan, rows, len(found.students), len(todo), graded, interrupted, written)


def _outcome(plan: Plan, rows, students: int, to_grade: int, graded: int, interrupted: bool,
             written: exports.Written) -> Outcome:
    reps = [json.loads(r.report) for r in rows if r.report]
    if interrupted:
        code = EXIT_INTERRUPTED
    elif any(r["status"] == "internal_error" for r in reps) or any(f.internal for f in written.failed):
        code = EXIT_INFRA
    elif any(r.student.problem for r in rows) or written.failed:
        code = EXIT_USAGE
    elif any(r["score"] < (r["max_score"] if plan.min_score is None else plan.min_score) for r in reps):
        code = EXIT_FAIL
    else:
        code = EXIT_PASS
    mean = statistics.mean(r["score"] for r in reps) if reps else None
    return Outcome(students, to_grade, graded, len({r.sha256 for r in rows if r.report}) - graded, interrupted,
                   code, written.notes, mean, written.failed)
