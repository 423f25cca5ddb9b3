"""Evidence of a few optimizer steps, written as data for the host to replay (grader/replay.py).

Nothing is judged here: this interpreter is the submission's, and anything in it can be found and changed.
For the first step after each backward() a tape recorded (recording.WINDOWS: backward 2, 9, 65, 513, 4097), the
step is written down whole: the computation from the input batch to the back-propagated value (portable.py's
format: allowlisted torch calls and tensors, with the labels as a constant, taken when backward() starts), the
input batch, the parameters as the forward pass used them (the program's own constants) and as the step found
them, the gradients the step found, the optimizer's state and hyper-parameters, and the parameters after
(harness/tensorfile.py), as bytes beside the event's JSON (protocol.pack). The host checks, outside the
sandbox, that the batch's rows are served images with their served labels, that replaying the program gives
the recorded loss and autograd's gradients, and that the parameters moved by torch.optim.Adam's rule. A step
whose network the tape could not follow still carries its optimizer part (Adam's rule can be checked without
the network).
"""

from __future__ import annotations


import torch

from grader.harness import portable, recording, tensorfile

HYPER = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")
STATE = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")


def _hyper(group: dict) -> dict:
    out = {}
    for key in HYPER:
        value = group.get(key)
        if isinstance(value, torch.Tensor):
            value = value.item() if value.numel() == 1 else None
        if isinstance(value, (tuple, list)):
            value = [float(v) for v in value]
        out[key] = value if value is None or isinstance(value, (bool, list)) else float(value)
    return out


def _copy(t):
    return t.detach().to("cpu").clone() if isinstance(t, torch.Tensor) else None


class Forward:
    """The step's computation, written down when its backward() starts: the parameters as the forward pass
    used them (a manual update before optimizer.step() must not change what the host replays)."""

    def __init__(self, backward_no: int, net):
        self.backward, self.net = backward_no, net
        self.program, self.index, self.input, self.why = None, {}, None, None
        if net is None or not getattr(net, "loss_steps", None):
            return
        try:
            self.program = portable.dumps(net.loss_steps, net.root, self.index)
            self.input = _copy(net.input)
        except Exception as exc:  # noqa: BLE001 - Unportable, or a value that cannot be copied
            self.program, self.why = None, f"{type(exc).__name__}: {exc}"[:200]

    def params(self) -> set[int]:
        return {id(p) for p in self.net.params} if self.net is not None else set()


class StepEvidence:
    """Taken just before an optimizer step whose backward() a tape window ended at; finished just after it."""

    def __init__(self, opt, forward: Forward):
        self.backward = forward.backward
        self.items = [(p, gi) for gi, g in enumerate(opt.param_groups) for p in g["params"]]
        if sum(p.numel() for p, _ in self.items) > recording.MAX_ELEMENTS:
            raise ValueError(f"the optimizer holds more than {recording.MAX_ELEMENTS:,} parameters, "
                             f"{recording.TOO_LARGE}")
        self.groups = [_hyper(g) for g in opt.param_groups]
        mine = forward.params() <= {id(p) for p, _ in self.items}  # else another optimizer's network
        self.program = forward.program if mine else None
        self.input, self.why = (forward.input, forward.why) if mine else (None, None)
        self.slots = [forward.index.get(id(p)) if self.program else None for p, _ in self.items]
        # the values Adam starts from; where the forward pass used the same, the program's constants carry them
        self.before = [_copy(p) for p, _ in self.items]
        self.grads = [_copy(p.grad) for p, _ in self.items]
        states = [opt.state.get(p, {}) for p, _ in self.items]
        self.state = {k: [_copy(st.get(k)) for st in states] for k in STATE}
        self.state_steps = [float(st["step"]) if "step" in st else None for st in states]

    def fields(self) -> dict:
        """The event's fields, with the parameters as they are now (after the step)."""
        tensors = {"input": self.input, "before": self.before, "grads": self.grads, **self.state,
                   "after": [_copy(p) for p, _ in self.items]}
        return {"backward": self.backward, "groups": self.groups, "group_of": [gi for _, gi in self.items],
                "state_steps": self.state_steps, "slots": self.slots,
                "program": self.program, "tensors": tensorfile.dumps(tensors), "why": self.why}


class Unrecorded:
    """A step that should have been written down but could not be: the host is told why."""

    def __init__(self, backward_no: int, why: str):
        self.backward, self.why = backward_no, why

    def fields(self) -> dict:
        return {"backward": self.backward, "why": self.why}
