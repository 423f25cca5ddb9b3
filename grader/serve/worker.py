"""The grading side of the service: a thread that takes queued files from the store and grades them in the
batch engine's executor, storing each verdict the moment it arrives.

It claims a batch of distinct queued files, runs it through a fresh executor, and claims again; a file
uploaded meanwhile waits for the next batch. The store, not this thread, holds the queue: after `kill -9`
the next start marks what was running as queued again, and what was stored is never graded twice.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

from grader import __version__
from grader.batch.executor import Executor, Work
from grader.serve.store import ServeStore

log = logging.getLogger("grader.serve")
IDLE_S = 1.0


class Dispatcher:
    def __init__(self, db: Path, digest: str, make_executor: Callable[[], Executor], batch: int):
        self.db, self.digest, self.make_executor, self.batch = db, digest, make_executor, batch
        self.wake = threading.Event()
        self.stopping = False
        self.executor: Executor | None = None
        self.thread = threading.Thread(target=self._loop, name="grader-dispatcher", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Start nothing new; the batch that runs is abandoned (it stays queued for the next start)."""
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
            while not self.stopping:
                claimed = store.claim(self.digest, __version__, self.batch)
                if not claimed:
                    self.wake.wait(IDLE_S)
                    self.wake.clear()
                    continue
                self._grade(store, run_id, [Work(sha, name, content) for sha, name, content in claimed])
        except Exception:
            log.exception("the grading thread stopped")  # /healthz reports it: nothing more is graded
            raise
        finally:
            store.close()

    def _grade(self, store: ServeStore, run_id: int, works: list[Work]) -> None:
        self.executor = self.make_executor()
        try:
            for work, report_json in self.executor.run(works):
                store.finish(work.key, self.digest, __version__, report_json, run_id)
                log.info("graded %s", work.key[:12])
        finally:
            self.executor = None

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()
