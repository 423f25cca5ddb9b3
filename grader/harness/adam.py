"""Adam judged by its effect, not its name.

On a sample of steps the parameters, gradients and Adam state are copied before the step, and afterwards the
new values are compared with what torch.optim.Adam's update rule gives from them (with the optimizer's own
hyper-parameters). The step after a sampled one also checks that nothing changed the parameters in between
(a manual `p.data -= lr * p.grad` beside an Adam that does nothing). `SGD.step(adam)`, a class named Adam, or
Adam(lr=0) with the real training elsewhere all show up here, whatever the classes are called.
"""

from __future__ import annotations

import torch

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
                st = opt.state.get(p, {})
                self.items.append((p, group, p.detach().clone(), p.grad.detach().clone(),
                                   {k: (v.detach().clone() if isinstance(v, torch.Tensor) else v)
                                    for k, v in st.items()}))
        self.skipped = False

    def grads_zero(self) -> bool:
        """A backward ran since the last step, yet the step found no gradient: cleared in between."""
        return self.backward and self.all_clear

    def follows_adam(self) -> tuple[bool | None, float]:
        """(do the new values follow Adam's rule?, largest change of a parameter). Computed in the parameters'
        own dtype with torch's own sequence of operations, and compared element by element: a step of
        another rule differs almost everywhere, rounding in a handful of elements at most."""
        if self.skipped or not self.items:
            return None, 0.0
        off = total = 0
        moved = 0.0
        for p, group, before, grad, state in self.items:
            after = p.detach()
            want = adam_update(before, grad, state, group)
            diff = (after - want).abs()
            change = (after - before).abs()
            moved = max(moved, float(change.max())) if change.numel() else moved
            tol = 1e-5 * (after.abs() + before.abs()) + 1e-3 * change + 1e-7
            off += int((diff > tol).sum())
            total += diff.numel()
        return off <= max(1, total // 1000), moved


def adam_update(p, g, state, group):
    """torch.optim.Adam's single-tensor rule (torch/optim/adam.py), on copies."""
    lr = float(group.get("lr", 1e-3))
    beta1, beta2 = (float(b) for b in group.get("betas", (0.9, 0.999)))
    eps = float(group.get("eps", 1e-8))
    wd = float(group.get("weight_decay", 0) or 0)
    if group.get("maximize"):
        g = -g
    if wd:
        g = g.add(p, alpha=wd)
    step = float(state["step"]) + 1 if "step" in state else 1.0
    m = state["exp_avg"].clone() if "exp_avg" in state else torch.zeros_like(p)
    v = state["exp_avg_sq"].clone() if "exp_avg_sq" in state else torch.zeros_like(p)
    m.lerp_(g, 1 - beta1)
    v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
    bc1, bc2 = 1 - beta1 ** step, 1 - beta2 ** step
    if group.get("amsgrad"):
        v = torch.maximum(state["max_exp_avg_sq"], v) if "max_exp_avg_sq" in state else v
    denom = (v.sqrt() / (bc2 ** 0.5)).add_(eps)
    return p.clone().addcdiv_(m, denom, value=-(lr / bc1))


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
