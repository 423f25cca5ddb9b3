"""What a sample of optimizer steps did: how far the parameters moved, whether the step found any gradient,
and whether something else changed the parameters between two steps (a manual `p.data -= lr * p.grad` beside
an Adam that does nothing).

Whether a step followed Adam's rule is not judged here, where the submission could change the judge: the
harness writes a few steps down as evidence (evidence.py) and the host replays them (grader/replay.py).
"""

from __future__ import annotations


SAMPLED = {1, 2, 3, 5, 10, 20, 50, 100, 200, 400, 800, 1600, 3200, 6400}
MAX_ELEMENTS = 2_000_000  # skip the comparison for huge models (copies cost memory)


class StepSnapshot:
    def __init__(self, opt, backward_since_last_step: bool = True):
        self.items = []
        self.backward = backward_since_last_step
        self.all_clear = all(p.grad is None or not bool(p.grad.ne(0).any())
                             for group in opt.param_groups for p in group["params"])
        total = 0
        for group in opt.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                total += p.numel()
                if total > MAX_ELEMENTS:
                    self.items = []
                    self.skipped = True
                    return
                self.items.append((p, p.detach().clone()))
        self.skipped = False

    def grads_zero(self) -> bool:
        """A backward ran since the last step, yet the step found no gradient: cleared in between."""
        return self.backward and self.all_clear

    def moved(self) -> float:
        """The largest change of a parameter in this step."""
        changes = [float((p.detach() - before).abs().max()) for p, before in self.items if before.numel()]
        return max(changes, default=0.0)


def changed_since(values: list[tuple]) -> bool:
    """Did any parameter change since `values` were taken (after the previous step)?"""
    for p, before in values:
        if p.shape != before.shape or bool((p.detach() != before).any()):
            return True
    return False


def take_values(opt) -> list[tuple]:
    total = sum(p.numel() for g in opt.param_groups for p in g["params"])
    if total > MAX_ELEMENTS:
        return []
    return [(p, p.detach().clone()) for g in opt.param_groups for p in g["params"]]


def adam_state_steps(opt) -> int | None:
    steps = [int(float(st["step"])) for st in opt.state.values() if isinstance(st, dict) and "step" in st]
    return max(steps) if steps else None
