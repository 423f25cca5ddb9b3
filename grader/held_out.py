"""The held-out evaluator, kept running for a batch worker: torch is imported once per worker, not once per
submission (~2 s of CPU each), and each exported model goes to it as a request instead of a new sandbox.

It runs in its own sandbox (grader.evaluate --serve), which holds the test set and never runs submission
code; each model is scored in a forked child (see evaluate.serve for why one student's file cannot touch
the next one's score). A request that gets no answer in time, or a service that died, costs that
submission its accuracy (reported as an evaluation error), and the next request starts a fresh service.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from grader import sandbox
from grader.checks import Evaluation
from grader.trace import Trace

ANSWER_TIMEOUT_S = 120


def request_for(model: dict) -> dict:
    """What the evaluator needs besides the model file, one-shot or service alike."""
    return {"preprocess": model["preprocess"], "batch": model["batch"], "format": model.get("format", "export")}


def evaluation_of(answer: dict) -> Evaluation:
    """The evaluator's answer line, one-shot or service alike."""
    return Evaluation(accuracy=answer.get("accuracy"), examples=answer.get("examples"),
                      seconds=answer.get("seconds"), error=answer.get("error"), confusion=answer.get("confusion"))


class Service:
    def __init__(self, backend: sandbox.Sandbox, files: dict[str, Path], limits):
        self.backend, self.files, self.limits = backend, files, limits
        self.running: sandbox.Running | None = None
        self.pending: Path | None = None
        self.n = 0
        self.started = 0  # how many services this one has started (a test reads it)

    def _start(self) -> None:
        self.pending = Path(tempfile.mkdtemp(prefix="grader-eval-"))
        self.pending.chmod(0o755)  # read by the sandbox's unprivileged uid
        inputs = {"pending": self.pending, "test-images": self.files["test_images"],
                  "test-labels": self.files["test_labels"]}
        args = ("--serve", "--isolated") if self.backend.isolated else ("--serve",)
        job = sandbox.Job("grader.evaluate", inputs, self.limits, timeout_s=ANSWER_TIMEOUT_S, device="cpu", cpus=1,
                          args=args)
        self.running = self.backend.start(job)
        self.started += 1

    def evaluate(self, trace: Trace) -> Evaluation:
        """Score the run's exported model (the trace must carry one with its preprocessing)."""
        if self.running is None:
            self._start()
        self.n += 1
        path = self.pending / f"model-{self.n}.bin"
        path.write_bytes(trace.artifact)
        path.chmod(0o644)
        request = {"n": self.n, **request_for(trace.model)}
        try:
            self.running.send((json.dumps(request) + "\n").encode())
            answer = self._answer(self.n)
        except (OSError, ValueError):  # its stdin is closed: the service is gone
            answer = None
        finally:
            path.unlink(missing_ok=True)
        if answer is None:
            why = (self.running.stderr.decode("utf-8", "replace").strip().splitlines() or ["no answer"])[-1][:200]
            self.close()
            return Evaluation(error=f"the evaluator failed ({why})")
        return evaluation_of(answer)

    def _answer(self, n: int) -> dict | None:
        while (line := self.running.readline(ANSWER_TIMEOUT_S)) is not None:
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            if isinstance(answer, dict) and answer.get("n") == n:
                return answer
        return None

    def close(self) -> None:
        running, pending, self.running, self.pending = self.running, self.pending, None, None
        try:
            if running is not None:
                running.stop()
        finally:
            if pending is not None:
                shutil.rmtree(pending, ignore_errors=True)
