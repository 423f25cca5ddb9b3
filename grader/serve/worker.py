"""The grading side of the service: a thread that keeps one executor running for the server's life and
feeds it from the store, one file each time a worker is free, storing each verdict the moment it arrives.

The workers stay warm between files, and a file uploaded while others are graded waits only for a free
worker and its turn (the store's round-robin over students), never for a whole batch. The store, not this
thread, holds the queue: after `kill -9` the next start marks what was running as queued again, and what
was stored is never graded twice.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable

from grader import __version__
from grader.batch.executor import Executor, Feed, Work
from grader.serve.store import ServeStore

log = logging.getLogger("grader.serve")
IDLE_S = 1.0  # with nothing queued, how often the store is asked again unprompted (an upload wakes it at once)


class Dispatcher:
    def __init__(self, db: Path, digest: str, make_executor: Callable[[], Executor]):
        self.db, self.digest, self.make_executor = db, digest, make_executor
        self.wake = threading.Event()  # set after an upload or a regrade is committed
        self.stopping = False
        self.executor: Executor | None = None
        self.thread = threading.Thread(target=self._loop, name="grader-dispatcher", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Start nothing new; what runs is abandoned (it stays queued for the next start)."""
        self.stopping = True
        self.wake.set()
        if self.executor is not None:
            self.executor.abandon()
        self.thread.join(timeout=30)

    def _loop(self) -> None:
        store = ServeStore(self.db)
        try:
            requeued = store.requeue_running()
            if requeued:
                log.info("requeued %d submission(s) a previous server accepted but did not grade", requeued)
            run_id = store.begin_run("grader serve", self.digest, __version__, [])
            self.executor = self.make_executor()
            for work, report_json in self.executor.run(StoreFeed(self, store)):
                store.finish(work.key, self.digest, __version__, report_json, run_id)
                log.info("graded %s", work.key[:12])
        except Exception:
            log.exception("the grading thread stopped")  # /healthz reports it: nothing more is graded
            raise
        finally:
            store.close()

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()


class StoreFeed(Feed):
    """The store as the executor's queue: asked by a free worker, it claims the next file (ServeStore.claim)."""

    def __init__(self, dispatcher: Dispatcher, store: ServeStore):
        self.dispatcher, self.store = dispatcher, store
        self.found_none_at = -IDLE_S

    def next(self) -> Work | None:
        woken = self.dispatcher.wake.is_set()
        if not woken and time.monotonic() - self.found_none_at < IDLE_S:
            return None  # nothing was queued a moment ago, and nothing was uploaded since
        self.dispatcher.wake.clear()
        claimed = self.store.claim(self.dispatcher.digest, __version__)
        if claimed is None:
            self.found_none_at = time.monotonic()
            return None
        return Work(*claimed)

    @property
    def closed(self) -> bool:
        return self.dispatcher.stopping
