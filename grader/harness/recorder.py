"""Writes trace events to the harness's private pipe, one JSON object per line; an event's bytes (the exported
network, a step's evidence) follow its line raw (protocol.pack)."""

from __future__ import annotations

import json
import math
import os
import threading
import time

from grader.harness import protocol
from grader.harness.events import EVENTS

MAX_EVENTS = 200_000  # a runaway loop cannot flood the trace; counts keep going
LINE_CHARS = 400  # printed lines are kept this long in the trace
FIELD_CHARS = 4000  # any other string field
# Events go out in batches: one write per event cost the reference a third of its training time on 2 cores
# (every write woke the supervisor, which took the core from the training until it had parsed the line).
# A batch waits at most FLUSH_S (a timer flushes when no event comes), so a run killed outright (OOM, hard
# deadline) loses at most that much of its trace; everything the harness itself ends with is forced out.
FLUSH_S = 0.1
FLUSH_CHARS = 32_768  # under a pipe's 64 KiB, so a write never waits on the reader


def _clean(value):
    """JSON has no NaN/inf; losses can be both. Strings are capped (an exception's text in a note), so that
    MAX_EVENTS honest events stay far under the trace's byte cap, which the host treats as tampering."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value[:FIELD_CHARS]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class Recorder:
    def __init__(self, fd: int, key: str = "", batch: bool = True):
        self.fd = fd
        self.batch = batch  # off: every event is written at once (for the test that verdicts do not depend on it)
        self.key = key  # the supervisor drops lines without it (see supervisor.TraceReader)
        self.pid = os.getpid()  # DataLoader workers are forks of this process: they must stay silent
        self.lock = threading.RLock()
        self.seq = 0
        self.dropped = 0
        self.t0 = time.monotonic()
        self.closed = False  # set once the submission has ended: later events are the harness's own
        self.before = None  # called before each event: drains captured output so lines keep their order
        self.pending: list[bytes] = []  # encoded events not yet written
        self.pending_chars = 0
        self.flushed_at = 0.0
        self.writing = False

    def close(self) -> None:
        self.closed = True

    def emit(self, kind: str, /, *, force: bool = False, drain: bool = True, **fields) -> None:
        if os.getpid() != self.pid:
            return
        if kind not in EVENTS:  # a harness bug, not the submission's: fail loudly in tests
            raise ValueError(f"unknown trace event {kind!r}")
        if drain and self.before is not None:
            self.before()
        with self.lock:
            if not force and (self.closed or self.seq >= MAX_EVENTS):
                self.dropped += 1
                return
            self.seq += 1
            fields, payload = protocol.pack(fields)
            record = {"e": kind, "i": self.seq, "k": self.key, "t": round(time.monotonic() - self.t0, 4),
                      **{k: _clean(v) for k, v in fields.items()}}
            line = json.dumps(record, separators=(",", ":")).encode()
            self.pending += [line, b"\n", payload]
            self.pending_chars += len(line) + 1 + len(payload)
            if force or not self.batch or self.pending_chars >= FLUSH_CHARS or record["t"] - self.flushed_at >= FLUSH_S:
                self._write()

    def flush(self) -> None:
        with self.lock:
            self._write()

    def flush_stale(self) -> None:
        """For a timer: what waited longer than FLUSH_S goes out even when no new event comes to push it."""
        if self.pending and time.monotonic() - self.t0 - self.flushed_at >= FLUSH_S:
            self.flush()

    def _write(self) -> None:
        if os.getpid() != self.pid or self.writing:  # a fork's copy of the buffer is its parent's to write
            return
        # not re-entered: an event emitted while a write is under way (a finalizer that gc runs inside it, a
        # signal handler) waits in pending, so it never lands inside another event's bytes
        self.writing = True
        try:
            while self.pending:
                data = memoryview(b"".join(self.pending))
                self.pending, self.pending_chars, self.flushed_at = [], 0, time.monotonic() - self.t0
                while data:
                    data = data[os.write(self.fd, data) :]
        except OSError:
            pass  # the submission closed our pipe; the host reports the trace as cut short
        finally:
            self.writing = False
