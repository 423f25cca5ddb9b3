"""Held-out accuracy, the host's side: what the evaluator (grader/evaluate.py) is asked, how its answer is
read, and the score, computed here from its predictions and the test labels, which never enter a sandbox.
The same request carries the recorded steps the host chose to replay (grader/replay.py): the evaluator has
torch imported already, and runs nothing of the submission's but data.

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
from dataclasses import dataclass
from pathlib import Path

from grader import sandbox
from grader.harness import protocol
from grader.checks import Evaluation

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


@dataclass
class Question:
    """What one run asks the evaluator: the exported model's predictions (when it is data), the replay of the
    records the host chose (replay.Plan.request), or both; and what the run served, for the replay."""

    model: bytes | None
    model_info: dict | None
    replay: dict | None
    served: dict

    @property
    def empty(self) -> bool:
        return self.model is None and self.replay is None

    def write(self, pending: Path, suffix: str = "") -> dict:
        """Put the tape and the records beside the request (readable by the sandbox's uid); the request."""
        if self.model is not None:
            _readable(pending / f"model{suffix}.bin", self.model)
        if self.replay is not None:
            _readable(pending / f"evidence{suffix}.bin", protocol.request_file(self.replay))
        return {"model": {"preprocess": self.model_info["preprocess"], "batch": self.model_info["batch"]}
                if self.model is not None else None,
                "replay": {"served": self.served, "count_parameters": self.replay["count_parameters"]}
                if self.replay is not None else None}

    def forget(self, pending: Path, suffix: str = "") -> None:
        for name in (f"model{suffix}.bin", f"evidence{suffix}.bin"):
            (pending / name).unlink(missing_ok=True)


@dataclass
class Answer:
    evaluation: Evaluation | None  # None: no model was asked about
    replay: dict | None  # replayer.answer's, or None with why_not
    why_not: str = "no answer"


def _readable(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o644)


def answer_to(question: Question, answer: dict, truth: bytes) -> Answer:
    """Read the evaluator's answer (evaluate.respond's, or {"error": why} when it gave none)."""
    failed = answer.get("error") if isinstance(answer.get("error"), str) else None
    evaluation = None
    if question.model is not None:
        part = answer.get("evaluation")
        evaluation = evaluation_of(part if isinstance(part, dict) else {"error": failed or "no answer"}, truth)
    part = answer.get("replay")
    if question.replay is None:
        return Answer(evaluation, None)
    if not isinstance(part, dict) or "error" in part:
        why = part.get("error") if isinstance(part, dict) else failed
        return Answer(evaluation, None, str(why or "the evaluator gave no replay")[:300])
    return Answer(evaluation, part)


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


def training_inputs(backend: sandbox.Sandbox, files: dict[str, Path]) -> dict[str, Path]:
    """The training images and labels a sandbox gets as inputs (none where the image has them baked in): the
    harness serves from them, the evaluator matches replayed batches against them."""
    if backend.baked("train-images"):
        return {}
    return {"train-images": files["train_images"], "train-labels": files["train_labels"]}


def training_paths(backend: sandbox.Sandbox) -> dict[str, str]:
    """Where a sandbox finds them: the baked-in path, or its input relative to the sandbox's root."""
    return {"images": backend.baked("train-images") or "in/train-images",
            "labels": backend.baked("train-labels") or "in/train-labels"}


def evaluator_inputs(backend: sandbox.Sandbox, files: dict[str, Path]) -> dict[str, Path]:
    """The test images, and the training images for the replay; never a label of the test set."""
    return {"test-images": files["test_images"], **training_inputs(backend, files)}


def served_spec(backend: sandbox.Sandbox, rubric, seed: int, full: bool) -> dict:
    """What a run served, as the evaluator finds it (grader/evaluate.py's served_pool)."""
    return {**training_paths(backend), "train_examples": rubric.train_examples,
            "eval_examples": rubric.eval_examples, "seed": seed, "full": full}


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
        inputs = {"pending": self.pending, **evaluator_inputs(self.backend, self.files)}
        args = ("--serve", "--isolated") if self.backend.isolated else ("--serve",)
        job = sandbox.Job("grader.evaluate", inputs, self.limits, timeout_s=ANSWER_TIMEOUT_S, device="cpu", cpus=1,
                          args=args)
        self.running = self.backend.start(job)
        self.started += 1

    def ask(self, question: Question) -> Answer:
        """The evaluator's answer to one run's question."""
        if self.running is None:
            self._start()
        self.n += 1
        suffix = f"-{self.n}"
        try:
            request = {"n": self.n, **question.write(self.pending, suffix)}
            self.running.send((json.dumps(request) + "\n").encode())
            answer = self._answer(self.n)
        except (OSError, ValueError):  # its stdin is closed: the service is gone
            answer = None
        finally:
            question.forget(self.pending, suffix)
        if answer is None:
            why = (self.running.stderr.decode("utf-8", "replace").strip().splitlines() or ["no answer"])[-1][:200]
            self.close()
            answer = {"error": f"the evaluator failed ({why})"}
        return answer_to(question, answer, labels(self.files["test_labels"]))

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
