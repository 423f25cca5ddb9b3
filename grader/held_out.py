"""Held-out accuracy, the host's side: what the evaluator (grader/evaluate.py) is asked, how its answer is
read, and the score, computed here from its predictions and the test labels, which never enter a sandbox.

An answer counts only when it comes from the evaluator's own process as the protocol says: the one-shot
evaluator's whole stdout, from a clean exit; the service's next line for the request, or the service is
replaced. A model that is not data (a network the tape cannot carry) is "could not evaluate", never loaded.

The service is kept running for a batch worker: torch is imported once per worker, not once per submission
(~2 s of CPU each), and each exported model goes to it as a request instead of a new sandbox. Each model is
replayed in a child forked from its pristine process, and nothing the child does survives it (see
evaluate.in_child). A request that gets no answer in time, or a service that died, costs that submission
its accuracy (reported as an evaluation error), and the next request starts a fresh service.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import shutil
import tempfile
from pathlib import Path

from grader import sandbox
from grader.checks import Evaluation
from grader.trace import Trace

ANSWER_TIMEOUT_S = 120


FORMAT = "tape"  # harness/portable.py's: the only format the evaluator reads
ANSWER_KEYS = {"predictions": str, "examples": int, "seconds": (int, float)}


def refusal(model: dict) -> str | None:
    """Why the exported model is not evaluated, or None: only data crosses into the evaluator."""
    fmt = model.get("format")
    if fmt != FORMAT:
        return f"the exported model is a program ({fmt or 'unknown format'}), not data, and programs are never " \
               "run beside the test set"
    return None


def request_for(model: dict) -> dict:
    """What the evaluator needs besides the tape, one-shot or service alike (see grader/evaluate.py)."""
    return {"preprocess": model["preprocess"], "batch": model["batch"]}


@functools.lru_cache(maxsize=4)
def labels(path: Path) -> bytes:
    from grader.harness import idx

    (_,), data = idx.read(path)
    return bytes(data)


def evaluation_of(answer: dict, truth: bytes) -> Evaluation:
    """Accuracy and the confusion matrix ([true digit][predicted digit]) of the evaluator's predictions."""
    if "error" in answer:
        return Evaluation(error=str(answer["error"])[:400])
    if set(answer) - {"n"} != set(ANSWER_KEYS) or \
            not all(isinstance(answer[k], t) and not isinstance(answer[k], bool) for k, t in ANSWER_KEYS.items()):
        return Evaluation(error="the evaluator's answer is malformed")
    try:
        predicted = base64.b64decode(answer["predictions"], validate=True)
    except (binascii.Error, ValueError):
        return Evaluation(error="the evaluator's answer is malformed")
    if len(predicted) != len(truth) or answer["examples"] != len(truth):
        return Evaluation(error=f"the evaluator answered for {len(predicted)} images, not {len(truth)}")
    confusion = [[0] * 10 for _ in range(10)]
    correct = 0
    for p, t in zip(predicted, truth):
        correct += p == t
        if p < 10:  # a model with more than 10 outputs may predict a class that is no digit
            confusion[t][p] += 1
    return Evaluation(accuracy=correct / len(truth), examples=len(truth), seconds=answer["seconds"],
                      confusion=confusion)


def one_shot_answer(result: sandbox.Result) -> dict:
    """The one-shot evaluator's answer: its whole stdout, one JSON object, from a process that exited cleanly
    (anything a model wrote before it, or an evaluator killed after it, spoils it)."""
    if result.timed_out or result.oom or result.exit_code != 0:
        why = "timed out" if result.timed_out else "ran out of memory" if result.oom else \
            f"exit status {result.exit_code}: " + \
            ((result.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"])[-1][:200])
        return {"error": f"the evaluator failed ({why})"}
    try:
        answer = json.loads(result.stdout)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or not result.stdout.endswith(b"}\n") or result.stdout.count(b"\n") != 1:
        return {"error": "the evaluator's output is not one answer"}
    return answer


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
        inputs = {"pending": self.pending, "test-images": self.files["test_images"]}
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
        return evaluation_of(answer, labels(self.files["test_labels"]))

    def _answer(self, n: int) -> dict | None:
        """The next line, which must be this request's answer: anything else means the stream is not the
        service's alone any more, and the service is replaced."""
        line = self.running.readline(ANSWER_TIMEOUT_S)
        try:
            answer = json.loads(line) if line is not None else None
        except ValueError:
            answer = None
        return answer if isinstance(answer, dict) and answer.get("n") == n else None

    def close(self) -> None:
        running, pending, self.running, self.pending = self.running, self.pending, None, None
        try:
            if running is not None:
                running.stop()
        finally:
            if pending is not None:
                shutil.rmtree(pending, ignore_errors=True)
