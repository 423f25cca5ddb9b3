"""The warm worker's life (harness/zygote.py, sandbox/warm.py): a worker that died is started again, one that
cannot start leaves jobs to a cold start, and a worker ends with its Grader. What a forked harness may see
and do is held to a cold one's in tests/test_sandbox.py, with every hostile submission."""

import os
import signal
import time
from pathlib import Path

import pytest

from grader.grade import Grader, Options
from grader.report import Status
from grader.sandbox.process import ProcessSandbox

pytestmark = [pytest.mark.e2e, pytest.mark.bwrap,
              pytest.mark.skipif(os.geteuid() != 0 or not ProcessSandbox().cgroups,
                                 reason="the warm worker needs root and writable cgroups")]

REFERENCE = Path(__file__).resolve().parent.parent / "reference" / "solution.py"
WARM = "forked by a warm worker, then entered this sandbox"


def warm_grader(real_data) -> Grader:
    return Grader(Options(sandbox="process", data_dir=real_data, device="cpu", warm_worker=True))


def workers(grader: Grader) -> list:
    return [z.proc for z in grader.backend.zygotes.values() if z.proc is not None]


def test_a_worker_that_died_is_started_again(real_data):
    grader = warm_grader(real_data)
    try:
        first = grader.grade(REFERENCE)
        assert first.score == 100 and first.sandbox.limits["harness"] == WARM, first.message
        [worker] = workers(grader)
        assert first.timings.import_s < 0.5  # torch was already there
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        again = grader.grade(REFERENCE)
        assert again.score == 100 and again.sandbox.limits["harness"] == WARM, again.message
        assert [w.pid for w in workers(grader)] != [worker.pid]
    finally:
        grader.close()


def test_a_worker_that_cannot_start_leaves_the_job_to_a_cold_start(real_data, monkeypatch):
    # an interpreter that cannot even start (no standard library): the worker never says it is ready
    monkeypatch.setattr(Grader, "_warm_env", lambda self: {"PYTHONHOME": "/nonexistent"})
    grader = warm_grader(real_data)
    try:
        rep = grader.grade(REFERENCE)
        assert rep.status == Status.graded and rep.score == 100, rep.message
        assert rep.sandbox.limits["harness"] == "a new interpreter"
        [zygote] = grader.backend.zygotes.values()
        assert zygote.why_not and zygote.proc is None
    finally:
        grader.close()


def test_the_worker_ends_with_its_grader(real_data):
    grader = warm_grader(real_data)
    assert grader.grade(REFERENCE).score == 100
    [worker] = workers(grader)
    grader.close()
    deadline = time.monotonic() + 10
    while worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert worker.returncode == 0
