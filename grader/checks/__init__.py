"""The checks: pure functions over what the grader observed (trace, static facts, held-out evaluation).

One module per public check id, registered in CHECKS in the order reports list them. Each returns an
Outcome; points come from the rubric. Static facts only ever add evidence or a hint.
"""

from __future__ import annotations

from typing import Callable

from grader.checks.architecture import check_architecture
from grader.checks.base import Context, Evaluation, Outcome
from grader.checks.epochs import check_epochs
from grader.checks.learns import check_learns
from grader.checks.loss import check_loss
from grader.checks.optimizer import check_optimizer
from grader.checks.prints import check_prints_loss
from grader.checks.runs import check_runs, run_outcome
from grader.checks.zero_grad import check_zero_grad

CHECKS: list[tuple[str, str, Callable[[Context], Outcome]]] = [
    ("runs", "Runs to completion", check_runs),
    ("architecture", "Two hidden layers", check_architecture),
    ("loss", "CrossEntropyLoss", check_loss),
    ("optimizer", "Adam optimizer", check_optimizer),
    ("epochs", "10 epochs", check_epochs),
    ("prints_loss_each_epoch", "Prints the loss every epoch", check_prints_loss),
    ("zero_grad", "Gradients cleared every step", check_zero_grad),
    ("learns", "Learns (held-out accuracy)", check_learns),
]

__all__ = ["CHECKS", "Context", "Evaluation", "Outcome", "run_outcome", "check_runs", "check_architecture",
           "check_loss", "check_optimizer", "check_epochs", "check_prints_loss", "check_zero_grad", "check_learns"]
