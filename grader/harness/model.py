"""Which network was trained, what it is, and its export for held-out evaluation.

A tape (see tape.py) is recorded over a few training steps spread through the run (after backward 1, 8, 64,
512, ...): each gives the network that step computed, sliced from the loss back to the parameters. At the end,
the network whose parameters the most-stepping optimizer held is judged, so a demonstration step on a
throw-away model does not stand in for the real training. When nothing trained (or no step could be followed),
the largest module the program built is probed on an MNIST-shaped input instead.
"""

from __future__ import annotations

import torch
from torch import nn

from grader.harness import evidence, recording
from grader.harness import network as netmod
from grader.harness.tape import Tape, slice_network

WINDOWS = recording.WINDOWS


class ModelWatch:
    def __init__(self):
        self.tape: Tape | None = None
        self.networks: list[tuple[int, object]] = []  # (backward number, Network)
        self.failures: list[str] = []
        # the step computed in the latest window, until an optimizer step writes it down (harness/evidence.py)
        self.window: evidence.Forward | None = None

    # ---------------------------------------------------------------- during the run
    def before_backward(self, root, backward_no: int, params: set[int]) -> None:
        if self.tape is None:
            return
        tape, self.tape = self.tape, None
        try:
            tape.__exit__(None, None, None)
        except Exception:
            self.window = evidence.Forward(backward_no, None)
            return
        try:
            leaves = {id(t) for e in tape.entries for t in _tensor_args(e) if t.requires_grad and t.grad_fn is None}
            net, why = slice_network(tape, params | leaves, root=root)
        except Exception as exc:  # never break the submission
            net, why = None, f"{type(exc).__name__}: {exc}"
        root_ok = isinstance(root, torch.Tensor)
        self.window = evidence.Forward(backward_no, net if net is not None and root_ok and root.numel() == 1 else None)
        if net is None:
            self.failures.append(why)
            return
        self.networks = [(n, x) for n, x in self.networks if not _same_params(x, net)] + [(backward_no, net)]

    def after_backward(self, backward_no: int) -> None:
        if backward_no in WINDOWS and self.tape is None:
            self.tape = Tape()
            try:
                self.tape.__enter__()
            except Exception:
                self.tape = None

    def stop(self) -> None:
        if self.tape is not None:
            try:
                self.tape.__exit__(None, None, None)
            except Exception:
                pass
            self.tape = None

    # ---------------------------------------------------------------- after the run
    def choose(self, optimizers: dict) -> tuple[object | None, int]:
        """The recorded network trained by the optimizer that stepped most (latest recording on a tie)."""
        best, best_key = None, None
        for n, net in self.networks:
            ids = {id(p) for p in net.params}
            steps = max((info["steps"] for opt, info in optimizers.items()
                         if ids & {id(p) for g in opt.param_groups for p in g["params"]}), default=0)
            key = (steps, n)
            if best_key is None or key > best_key:
                best, best_key = net, key
        return best, (best_key[0] if best_key else 0)


def probe_module(module: nn.Module, sample_shape: list[int] | None, batch: int = 2):
    """Run a built (maybe never trained) module on an MNIST-shaped input under a tape; returns the Network.
    `batch`: the batch size the tape is recorded at (a recorded `x.view(x.size(0), -1)` keeps it)."""
    params = {id(p) for p in module.parameters()}
    shapes = [sample_shape] if sample_shape else []
    shapes += [[1, 28, 28], [784], [28, 28]]
    was_training = module.training
    module.eval()
    try:
        for shape in shapes:
            x = torch.rand(batch, *shape)
            tape = Tape()
            try:
                with tape, torch.no_grad():
                    out = module(x)
            except Exception:
                continue
            if isinstance(out, (tuple, list)):
                out = out[0]
            if not isinstance(out, torch.Tensor):
                continue
            net, _ = slice_network(tape, params, logits_tensor=out)
            if net is not None:
                return net
    finally:
        module.train(was_training)
    return None


def _tensor_args(entry):
    _, args, kwargs, _ = entry
    stack = [args, kwargs]
    while stack:
        v = stack.pop()
        if isinstance(v, torch.Tensor):
            yield v
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())


def _same_params(a, b) -> bool:
    return {id(p) for p in a.params} == {id(p) for p in b.params}


def describe(net, params: set[int]) -> dict:
    try:
        return netmod.structure(net, params)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
