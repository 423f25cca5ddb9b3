"""The host's own work on one submission's trace, under a deadline it cannot outlast.

The checks are pure Python over a trace the submission could forge. They are linear (or n log n) in a trace
whose size the host caps, but a bug or a path nobody costed must still not hold a batch up: the work runs in
a fork of this process, which is killed at the deadline. The fork needs no input sent to it (it shares the
parent's memory, copy-on-write) and sends its answer back pickled.
"""

from __future__ import annotations

import os
import pickle
import selectors
import signal
import time
from typing import Callable, TypeVar

T = TypeVar("T")


class DeadlineExceeded(Exception):
    """The work did not finish in time; it was stopped."""


def call_within(seconds: float, work: Callable[[], T]) -> T:
    """work(), or DeadlineExceeded once `seconds` have passed. An exception inside work() is raised here (as a
    RuntimeError naming it where it cannot be pickled)."""
    if not hasattr(os, "fork"):
        return work()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the fork: answer, then leave without running the parent's clean-up
        os.close(read_end)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(int(seconds) + 5)  # ends the fork even if its parent died and nobody kills it
        _answer(write_end, work)
        os._exit(0)
    os.close(write_end)
    try:
        data = _read_until(read_end, time.monotonic() + seconds)
    finally:
        os.close(read_end)
        if data is None:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    if data is None:
        raise DeadlineExceeded(f"not done within {seconds:g} s")
    if not data:
        raise RuntimeError("the fork judging the trace ended without an answer")
    ok, value = pickle.loads(data)
    if not ok:
        raise value
    return value


def _answer(fd: int, work: Callable) -> None:
    try:
        try:
            data = pickle.dumps((True, work()))
        except BaseException as exc:  # noqa: BLE001 - whatever happened goes back to the parent
            try:
                data = pickle.dumps((False, exc))
            except Exception:
                data = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except BaseException:  # noqa: BLE001 - the fork must never return into the parent's code
        os._exit(1)


def _read_until(fd: int, deadline: float) -> bytes | None:
    """Everything written to `fd` until its writer closed it, or None at the deadline."""
    chunks = []
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                return None
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
