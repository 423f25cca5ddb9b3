"""The service's store as the queue, without a server or a grading: the order files are claimed in (round-robin
over students), a regrade under an older rubric, identical bytes read as each owner's, the limits checked in the
insert's transaction, browser sessions that end, and the dispatcher handing a free worker the next file at once.

The verdicts here are stand-ins (unjudged_report): what is tested is who is graded when, not the grading, which
tests/test_serve.py does for real.
"""

import json
import queue
import threading
import time

import pytest

from grader import __version__
from grader.batch.executor import Executor, Pending, unjudged_report
from grader.serve.store import Caller, OverLimit, ServeStore
from grader.serve.worker import Dispatcher

DIGEST = "rubric-now"


@pytest.fixture
def store(tmp_path):
    s = ServeStore(tmp_path / "grader.db")
    yield s
    s.close()


def verdict(name: str, score: float = 1.0) -> str:
    rep = json.loads(unjudged_report(name, "invalid_submission", "stand-in", 1.0, DIGEST).model_dump_json())
    return json.dumps({**rep, "score": score})


def upload(store: ServeStore, student: str, name: str, digest: str = DIGEST, **kw):
    return store.accept(student, name, f"# {name}\n".encode(), digest, __version__, **kw)


def drain(store: ServeStore, digest: str = DIGEST) -> list[str]:
    """Claim and settle everything queued; the file names in the order they were claimed."""
    order = []
    while (claimed := store.claim(digest, __version__)) is not None:
        order.append(claimed[1])
        store.finish(claimed[0], digest, __version__, verdict(claimed[1]), run_id=1)
    return order


def test_one_students_many_uploads_take_turns_with_everyone_elses(store):
    for i in range(5):
        upload(store, "alice", f"a{i}.py")
    upload(store, "bob", "b0.py")
    upload(store, "carol", "c0.py")
    waiting = upload(store, "bob", "b1.py")
    assert store.position(waiting) == 5  # a0, b0, c0, a1, then b1: not behind all of alice's
    assert drain(store) == ["a0.py", "b0.py", "c0.py", "a1.py", "b1.py", "a2.py", "a3.py", "a4.py"]
    upload(store, "alice", "a5.py")
    upload(store, "bob", "b2.py")  # alice was served last: bob goes first
    assert drain(store) == ["b2.py", "a5.py"]


def test_identical_bytes_are_claimed_once_and_each_owner_reads_their_own(store):
    content = b"# the same file\n"
    first = store.accept("alice", "mine.py", content, DIGEST, __version__)
    second = store.accept("bob", "homework.py", content, DIGEST, __version__)
    sha, name, _ = store.claim(DIGEST, __version__)
    assert name == "mine.py" and store.claim(DIGEST, __version__) is None
    store.finish(sha, DIGEST, __version__, verdict(name), run_id=1)
    third = store.accept("carol", "copy.py", content, DIGEST, __version__)  # answered from the store
    assert third.state == "done"
    for sub, who, file in ((first, "alice", "mine.py"), (second, "bob", "homework.py"), (third, "carol", "copy.py")):
        got = store.get(sub.id)
        report = json.loads(got.report)
        assert got.state == "done" and report["student"]["id"] == who
        assert report["submission"]["name"] == report["submission"]["path"] == file


def test_a_regrade_under_an_older_rubric_is_graded_under_the_current_one(store):
    sub = upload(store, "alice", "a.py", digest="rubric-before")
    assert drain(store, "rubric-before") == ["a.py"]
    queued_before = upload(store, "bob", "b.py", digest="rubric-before")  # accepted, then the server restarted
    assert store.regrade("alice") == [sub.id]
    assert sorted(drain(store)) == ["a.py", "b.py"]  # the current rubric takes both
    for sub_id in (sub.id, queued_before.id):
        assert store.get(sub_id).state == "done" and json.loads(store.get(sub_id).report)["rubric_digest"] == DIGEST


def test_queued_under_an_older_rubric_is_answered_from_the_store_when_the_current_one_has_it(store):
    upload(store, "alice", "a.py")
    drain(store)
    old = upload(store, "bob", "a.py", digest="rubric-before")  # the same bytes, queued under the old rubric
    assert drain(store) == []  # nothing to grade: the current rubric's verdict is stored
    assert store.get(old.id).state == "done"


def test_limits_hold_inside_the_insert(store):
    for i in range(3):
        upload(store, "alice", f"a{i}.py", limits=(3, 100))
    with pytest.raises(OverLimit) as over:
        upload(store, "alice", "a3.py", limits=(3, 100))
    assert over.value.limit == "per_hour" and 3500 < over.value.retry_after <= 3600
    with pytest.raises(OverLimit) as over:
        upload(store, "bob", "b.py", limits=(30, 3))
    assert over.value.limit == "queue"
    assert len(store.mine("alice")) == 3 and store.mine("bob") == []


def test_a_session_ends_and_a_new_token_ends_it_too(store):
    (token,) = store.issue_tokens([("alice", "student", None)])
    caller = store.caller(token)
    brief, lasting = store.open_session(caller, days=0.5 / 86400), store.open_session(caller, days=14)
    assert store.session_caller(brief) == store.session_caller(lasting) == Caller("alice", "student")
    assert store.session_caller(token) is None  # a token is not a session
    time.sleep(0.6)
    assert store.session_caller(brief) is None and store.session_caller(lasting) is not None
    store.issue_tokens([("alice", "student", None)])
    assert store.session_caller(lasting) is None


class OneSlot(Executor):
    """One worker that takes a file only when it is free and finishes each when the test says so."""

    def __init__(self):
        self.taken: list[str] = []
        self.release = queue.Queue()

    def run(self, work):
        pending = Pending(work)
        while pending.open:
            piece = pending.take()
            if piece is None:
                time.sleep(0.02)
                continue
            self.taken.append(piece.name)
            self.release.get(timeout=30)
            yield piece, verdict(piece.name)


def test_a_free_worker_takes_the_next_file_at_once_not_after_a_batch(store):
    for i in range(3):
        upload(store, "alice", f"a{i}.py")
    slot = OneSlot()
    dispatcher = Dispatcher(store.path, DIGEST, lambda: slot)
    dispatcher.start()
    try:
        wait_for(lambda: slot.taken == ["a0.py"])
        upload(store, "bob", "b0.py")  # while alice's first file is graded
        dispatcher.wake.set()
        for _ in range(4):
            slot.release.put(None)
        wait_for(lambda: len(slot.taken) == 4 and not store.queue_order())
    finally:
        dispatcher.stop()
    assert slot.taken == ["a0.py", "b0.py", "a1.py", "a2.py"]


def wait_for(condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
