"""The network as the program computed it: a tape of torch calls, sliced from the input batch to the logits.

Models come in many spellings: an nn.Module, three bare nn.Linear modules called from a plain function,
`x @ self.w.T + self.b` with nn.Parameters, plain tensors with requires_grad, ReLU as `clamp(min=0)` or
`torch.where`. What they share is the computation. So, for one training step, every torch call is recorded
(a TorchFunctionMode sees functions, tensor methods and operators alike), and the step's loss is traced back
through the recorded calls to the parameters and to the one data tensor they were applied to. That slice is
the network: it can be replayed on new inputs with the parameters' final values (for held-out evaluation, via
torch.export), and its layers and nonlinearities are read from what it computes.
"""

from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode

MAX_ENTRIES = 20_000
LOSS_FUNCS = {"cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
              "binary_cross_entropy", "binary_cross_entropy_with_logits", "multi_margin_loss", "soft_margin_loss",
              "multilabel_soft_margin_loss", "poisson_nll_loss", "gaussian_nll_loss"}
AFFINE_FUNCS = {"linear", "matmul", "mm", "addmm", "__matmul__", "__rmatmul__", "einsum", "bmm", "baddbmm",
                "bilinear", "addmv", "mv"}
CONV_FUNCS = {"conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}
EVAL_MODE = {"dropout": 2, "alpha_dropout": 2, "feature_alpha_dropout": 2, "dropout1d": 2, "dropout2d": 2,
             "dropout3d": 2, "batch_norm": 5, "instance_norm": 5}  # position of the `training` argument


def _name(func) -> str:
    return getattr(func, "__name__", "") or type(func).__name__


class Tape(TorchFunctionMode):
    """Records (func, args, kwargs, out) of every top-level torch call while active."""

    def __init__(self):
        super().__init__()
        self.entries: list[tuple] = []
        self.overflow = False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if len(self.entries) < MAX_ENTRIES:
            self.entries.append((func, args, kwargs, out))
        else:
            self.overflow = True
        return out


# ---------------------------------------------------------------------------------------------- the slice
class Ref:
    """An argument of a recorded call: the output `slot` of entry `entry`, the input, or a constant."""

    __slots__ = ("entry", "slot")

    def __init__(self, entry: int, slot: int):
        self.entry, self.slot = entry, slot


INPUT = "input"


class Network:
    """The slice of a tape from one data tensor (the input) to the logits, ready to replay."""

    def __init__(self, steps, input_tensor, logits_index, consts, params):
        self.steps = steps  # [(entry index, func, args with Ref/INPUT/const tensors, kwargs)]
        self.input = input_tensor  # the recorded input batch (the data operand of the first layer)
        self.logits = logits_index  # (entry index, slot)
        self.consts = consts  # id -> tensor: parameters, buffers and other constants, bound live
        self.params = params  # the parameters on the path, in order of first use

    def replay(self, x=None, start: tuple | None = None, stop: tuple | None = None, value=None):
        """The logits for input x (default: the recorded input), with the parameters' current values and
        dropout/batchnorm in eval mode. With start/stop: the output at `stop` when `start` is replaced by `value`."""
        env = run_steps(self.steps, self.input if x is None else x, start=start, stop=stop or self.logits,
                        value=value)
        return env[stop or self.logits]

    def outputs(self) -> dict:
        """Every replayed call's output on the recorded input, keyed by (entry, slot)."""
        return run_steps(self.steps, self.input)


def run_steps(steps, x, eval_mode: bool = True, resolve=None, start=None, stop=None, value=None) -> dict:
    """Replay recorded calls. `resolve` maps a placeholder argument to its value (export's buffers)."""
    env: dict[tuple, object] = {}
    for idx, func, args, kwargs in steps:
        a, k = _subst(args, env, x, resolve), _subst(kwargs, env, x, resolve)
        if eval_mode:
            a, k = _eval_args(func, a, k)
        out = func(*a, **k)
        outs = [out] if isinstance(out, torch.Tensor) else list(out) if isinstance(out, (list, tuple)) else []
        for slot, o in enumerate(outs):
            env[(idx, slot)] = o
        if start is not None and start[0] == idx:
            env[start] = value
        if stop is not None and stop[0] == idx:
            break
    return env


def _subst(value, env, x, resolve=None):
    if isinstance(value, Ref):
        return env[(value.entry, value.slot)]
    if isinstance(value, str) and value == INPUT:
        return x
    if isinstance(value, list):
        return [_subst(v, env, x, resolve) for v in value]
    if isinstance(value, tuple):
        return tuple(_subst(v, env, x, resolve) for v in value)
    if isinstance(value, dict):
        return {k: _subst(v, env, x, resolve) for k, v in value.items()}
    return resolve(value) if resolve is not None else value


def _eval_args(func, args, kwargs):
    pos = EVAL_MODE.get(_name(func))
    if pos is None:
        return args, kwargs
    if "training" in kwargs:
        kwargs = {**kwargs, "training": False}
    elif len(args) > pos:
        args = (*args[:pos], False, *args[pos + 1:])
    elif "dropout" in _name(func):  # F.dropout and its kin default to training=True
        kwargs = {**kwargs, "training": False}
    return args, kwargs


def slice_network(tape: Tape, params: set[int], root: torch.Tensor | None = None,
                  logits_tensor: torch.Tensor | None = None) -> tuple[Network | None, str]:
    """The network inside a tape: from the loss `root` (or the given logits) back to the parameters and input."""
    entries = tape.entries
    producer: dict[int, tuple[int, int]] = {}  # id(tensor) -> (entry, slot) of its latest producer
    deps: list[list] = []  # per entry: its args and kwargs with tensors replaced by Ref / the tensor itself
    for idx, (func, args, kwargs, out) in enumerate(entries):
        deps.append([_refs(args, producer), _refs(kwargs, producer)])
        outs = [out] if isinstance(out, torch.Tensor) else list(out) if isinstance(out, (list, tuple)) else []
        for slot, o in enumerate(outs):
            if isinstance(o, torch.Tensor) and id(o) not in params:  # the optimizer's in-place updates aside
                producer[id(o)] = (idx, slot)

    def parents(idx):
        return [r.entry for r in leaves(deps[idx]) if isinstance(r, Ref)]

    needed: set[int] = set()
    if logits_tensor is not None:
        logits = producer.get(id(logits_tensor))
        if logits is None:
            return None, "the model's output was not computed by torch calls the grader could follow"
    else:
        start = producer.get(id(root))
        if start is None:
            return None, "the loss was not computed by torch calls the grader could follow"
        stack = [start[0]]  # everything the loss depends on
        while stack:
            idx = stack.pop()
            if idx in needed:
                continue
            needed.add(idx)
            stack.extend(parents(idx))
        # the loss call nearest the root: its first argument is the logits
        loss_idx = max((i for i in needed if _name(entries[i][0]) in LOSS_FUNCS), default=None)
        if loss_idx is None:
            return None, "no loss function call was found on the way to backward()"
        first = deps[loss_idx][0][0] if deps[loss_idx][0] else None
        if not isinstance(first, Ref):
            return None, "the loss was not applied to the output of a computation the grader could follow"
        logits = (first.entry, first.slot)
    # entries the logits depend on, and which of them depend on a parameter
    sub, stack = set(), [logits[0]]
    while stack:
        idx = stack.pop()
        if idx in sub:
            continue
        sub.add(idx)
        stack.extend(parents(idx))
    on_params = _depends_on(sub, deps, params, entries)
    if not on_params:
        return None, "the logits do not depend on any parameter the optimizer holds"
    # the data operands: tensors that feed the parameter-dependent calls without depending on a parameter
    batch = _shape0(entries[logits[0]][3], logits[1])
    operands: dict[tuple, torch.Tensor] = {}
    for idx in on_params:
        for r in leaves(deps[idx]):
            if isinstance(r, Ref) and r.entry not in on_params:
                t = _output(entries[r.entry][3], r.slot)
                if isinstance(t, torch.Tensor) and t.dim() >= 1 and t.shape[0] == batch and not t.requires_grad:
                    operands[(r.entry, r.slot)] = t
            elif isinstance(r, torch.Tensor) and id(r) not in params and r.dim() >= 1 and r.shape[0] == batch \
                    and not r.requires_grad and r.numel() >= batch * 64:
                operands[("leaf", id(r))] = r
    if len(operands) != 1:
        return None, ("the model's input could not be told apart" if operands else
                      "no input batch was found on the way from the data to the logits")
    (in_key, in_tensor), = operands.items()
    steps, consts, used_params = _bound_steps(on_params, deps, in_key, params, entries)
    net = Network(steps, in_tensor, logits, consts, used_params)
    net.entries_out = {idx: entries[idx][3] for idx in on_params}
    if logits_tensor is None:
        # the step's whole computation, input to the back-propagated value (the loss, a penalty added to it,
        # a division for accumulation): what the host replays as evidence of the step (grader/replay.py)
        through = _depends_on(needed, deps, params, entries)
        net.loss_steps, net.loss_consts, _ = _bound_steps(through, deps, in_key, params, entries)
        net.root = start
    return net, ""


def _depends_on(wanted: set[int], deps, params: set[int], entries) -> set[int]:
    """The entries among `wanted` whose value depends on a parameter."""
    on: set[int] = set()
    for idx in sorted(wanted):
        if any(isinstance(t, torch.Tensor) and id(t) in params for t in leaves(deps[idx])) or \
                any(isinstance(r, Ref) and r.entry in on for r in leaves(deps[idx])):
            on.add(idx)
    return on


def _bound_steps(chosen: set[int], deps, in_key, params: set[int], entries) -> tuple[list, dict, list]:
    """The chosen entries as replayable steps, their constants, and the parameters they use in order."""
    steps, consts, used_params = [], {}, []
    for idx in sorted(chosen):
        args, kwargs = deps[idx]
        for t in leaves(deps[idx]):
            if isinstance(t, torch.Tensor) and id(t) in params and not any(t is p for p in used_params):
                used_params.append(t)
        steps.append((idx, entries[idx][0], _bind(args, in_key, chosen, consts, entries),
                      _bind(kwargs, in_key, chosen, consts, entries)))
    return steps, consts, used_params


def _refs(value, producer):
    if isinstance(value, torch.Tensor):
        hit = producer.get(id(value))
        return Ref(*hit) if hit is not None else value
    if isinstance(value, list):
        return [_refs(v, producer) for v in value]
    if isinstance(value, tuple):
        return tuple(_refs(v, producer) for v in value)
    if isinstance(value, dict):
        return {k: _refs(v, producer) for k, v in value.items()}
    return value


def leaves(value, kinds=(None,)):
    """Walk nested lists, tuples and dicts of call arguments: the Refs, tensors (and, with INPUT in the
    wanted kinds, input markers) in order."""
    if isinstance(value, (Ref, torch.Tensor)) or (isinstance(value, str) and value == INPUT and INPUT in kinds):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from leaves(v, kinds)
    elif isinstance(value, dict):
        for v in value.values():
            yield from leaves(v, kinds)


def _bind(value, in_key, on_params, consts, entries):
    """Arguments for replay: the input marker, refs to replayed calls, or constants (bound live)."""
    if isinstance(value, Ref):
        if (value.entry, value.slot) == in_key:
            return INPUT
        if value.entry in on_params:
            return value
        value = _output(entries[value.entry][3], value.slot)  # made from data, not parameters: a constant
    if isinstance(value, torch.Tensor):
        if in_key == ("leaf", id(value)):
            return INPUT
        consts[id(value)] = value
        return value
    if isinstance(value, list):
        return [_bind(v, in_key, on_params, consts, entries) for v in value]
    if isinstance(value, tuple):
        return tuple(_bind(v, in_key, on_params, consts, entries) for v in value)
    if isinstance(value, dict):
        return {k: _bind(v, in_key, on_params, consts, entries) for k, v in value.items()}
    return value


def _output(out, slot):
    if isinstance(out, torch.Tensor):
        return out if slot == 0 else None
    if isinstance(out, (list, tuple)) and slot < len(out):
        return out[slot]
    return None


def _shape0(out, slot):
    t = _output(out, slot)
    return int(t.shape[0]) if isinstance(t, torch.Tensor) and t.dim() else None
