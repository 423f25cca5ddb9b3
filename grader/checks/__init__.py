"""The checks: pure functions over what the grader observed (trace, static facts, held-out evaluation).

One module per public check id, registered in CHECKS in the order reports list them. Each returns an
Outcome; points come from the rubric. Static facts only ever add evidence or a hint.
"""

from __future__ import annotations

from typing import Callable

from grader.checks.architecture import check_architecture
from grader.checks.base import Context, Evaluation, Outcome, Verification
from grader.checks.epochs import check_epochs
from grader.checks.learns import check_learns
from grader.checks.loss import check_loss
from grader.checks.optimizer import check_optimizer
from grader.checks.prints import check_prints_loss
from grader.checks.runs import check_runs, run_outcome
from grader.checks.zero_grad import check_zero_grad


def on_verified_trace(check: Callable[[Context], Outcome]) -> Callable[[Context], Outcome]:
    """A check that reads what the trace says the training did: it judges nothing when the host's replay of
    the recorded steps (grader/replay.py) found the trace inconsistent with real training."""

    def judged(ctx: Context) -> Outcome:
        doubt = ctx.verification.doubt() if ctx.verification is not None else None
        if doubt:
            return Outcome(False, f"could not verify the recorded training, so it is not judged: {doubt}",
                           "the grader replays some of the recorded training steps and they did not match: "
                           "train the network as written, and leave the grader's instrumentation alone")
        return check(ctx)

    judged.__name__ = judged.__qualname__ = check.__name__
    return judged


CHECKS: list[tuple[str, str, Callable[[Context], Outcome]]] = [
    ("runs", "Runs to completion", check_runs),
    ("architecture", "Two hidden layers", check_architecture),
    ("loss", "CrossEntropyLoss", on_verified_trace(check_loss)),
    ("optimizer", "Adam optimizer", on_verified_trace(check_optimizer)),
    ("epochs", "10 epochs", on_verified_trace(check_epochs)),
    ("prints_loss_each_epoch", "Prints the loss every epoch", on_verified_trace(check_prints_loss)),
    ("zero_grad", "Gradients cleared every step", on_verified_trace(check_zero_grad)),
    ("learns", "Learns (held-out accuracy)", check_learns),
]

__all__ = ["CHECKS", "Context", "Evaluation", "Outcome", "Verification", "run_outcome", "check_runs",
           "check_architecture", "check_loss", "check_optimizer", "check_epochs", "check_prints_loss", "check_zero_grad", "check_learns"]
