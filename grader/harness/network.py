"""What a sliced network computes (its layers, and whether each gap between them is nonlinear), the
preprocessing that turns a raw MNIST image into its input, and its export for held-out evaluation.

Nonlinearity is judged by what the calls between two layers compute, not by their names: g(u + w) + g(0) equals
g(u) + g(w) for every affine g (identity, dropout in eval mode, batchnorm with running statistics) and not for
relu, clamp(min=0), torch.where(x > 0, x, 0), sigmoid, ...

The preprocessing is learned from the correspondence between the images the grader served and the input rows
that reached the network: each row is matched to its served image by correlation, then input = scale * raw/255
+ shift is fitted by least squares. Noise augmentation, a sanity call on torch.randn, uint8 batches divided
inside forward(): none of them moves the fit.
"""

from __future__ import annotations


import torch
from torch import nn

from grader.harness import portable
from grader.harness.tape import (
    AFFINE_FUNCS,
    CONV_FUNCS,
    INPUT,
    Network,
    Ref,
    _name,
    leaves,
    run_steps,
)

MAX_ARTIFACT_BYTES = 64 * 2**20
MATCH_CORR = 0.9  # a row and a served image this correlated are the same picture
NONLINEAR_TOL = 1e-3


# ------------------------------------------------------------------------------------------- structure
def structure(net: Network, params: set[int]) -> dict:
    """Layers in order, the nonlinearity of each gap, conv use, op names: the facts `architecture` reads."""
    on_data: set[int] = set()  # steps whose value depends on the input
    layers, seen = [], set()
    with torch.no_grad():
        env_out = net.outputs()
    for idx, func, args, kwargs in net.steps:
        refs = list(leaves((args, kwargs), kinds=(INPUT,)))
        data = [r for r in refs if (isinstance(r, str) and r == INPUT) or (isinstance(r, Ref) and r.entry in on_data)]
        if data:
            on_data.add(idx)
        name = _name(func)
        weights = [r for r in refs if (isinstance(r, torch.Tensor) and id(r) in params and r.dim() >= 2)
                   or (isinstance(r, Ref) and r.entry not in on_data)]
        if name in AFFINE_FUNCS and data and weights:
            operand = data[0]
            key = (tuple(_key(w) for w in weights), _key(operand))
            if key in seen:  # the same layer computed twice on the same input is one layer
                continue
            seen.add(key)
            x = net.input if isinstance(operand, str) else env_out.get((operand.entry, operand.slot))
            y = env_out.get((idx, 0))
            if isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor) and x.dim() and y.dim():
                layers.append({"op": name, "idx": idx, "in": int(x.shape[-1]), "out": int(y.shape[-1]),
                               "operand": operand})
    conv = any(_name(f) in CONV_FUNCS for _, f, _, _ in net.steps)
    gaps = []
    for a, b in zip(layers, layers[1:]):
        gaps.append(_nonlinear_between(net, (a["idx"], 0), b["operand"], env_out))
    last = layers[-1]["idx"] if layers else None
    after = [_name(f) for i, f, _, _ in net.steps if last is not None and i > last]
    return {"layers": [{"op": lay["op"], "in": lay["in"], "out": lay["out"]} for lay in layers],
            "nonlinear": gaps, "conv": conv, "ops": [_name(f) for _, f, _, _ in net.steps][:60],
            "after_last": after[:10], "input_shape": list(net.input.shape)}


def _key(ref):
    if isinstance(ref, Ref):
        return ("ref", ref.entry, ref.slot)
    return ("tensor", id(ref)) if isinstance(ref, torch.Tensor) else ("input",)


def _nonlinear_between(net: Network, start: tuple, stop, env: dict) -> bool:
    """Is the map from one layer's output to the next layer's input nonlinear? Tested, not named."""
    stop_key = (stop.entry, stop.slot) if isinstance(stop, Ref) else None
    if stop_key is None or stop_key == start:
        return False
    a0 = env.get(start)
    if not isinstance(a0, torch.Tensor):
        return False
    gen = torch.Generator().manual_seed(0)
    # at least unit scale: sigmoid or tanh on small pre-activations is nearly linear, while an affine map
    # (dropout or batchnorm in eval mode) stays additive at any scale
    scale = max(float(a0.float().std()), 1.0)

    def g(v):  # on a copy: an in-place activation (ReLU(inplace=True)) would otherwise change the probe itself
        with torch.no_grad():
            return net.replay(start=start, stop=stop_key, value=v.clone()).float()

    u = torch.randn(a0.shape, generator=gen).to(a0.dtype) * scale
    w = torch.randn(a0.shape, generator=gen).to(a0.dtype) * scale
    try:
        zero = g(torch.zeros_like(a0))
        gu, gw, guw = g(u), g(w), g(u + w)
    except Exception:
        return False
    dev = float((guw + zero - gu - gw).abs().mean())
    size = float(gu.abs().mean() + gw.abs().mean()) or 1.0
    return dev / size > NONLINEAR_TOL


# ------------------------------------------------------------------------------------------- preprocessing
def learn_preprocessing(inputs: torch.Tensor, pool: torch.Tensor, chunk: int = 8192) -> tuple[dict | None, str]:
    """input = scale * raw/255 + shift, fitted on the rows that match a served image (pool: N x H x W uint8).

    The served images are compared `chunk` at a time: a full-size run serves 70,000 of them, and as one
    float64 matrix (with its standardized copy) they took 1.3 GB, most of that run's memory peak."""
    x = inputs.detach().to("cpu")
    n = x.shape[0]
    if n == 0 or x.numel() // n != pool[0].numel():
        return None, f"the model's input has {x.numel() // max(n, 1)} values per example, not one per pixel"
    rows = x.reshape(n, -1).double()
    flat = pool.reshape(len(pool), -1)
    ok, which = match_rows(rows, pool_chunks(flat, chunk))
    if not bool(ok.any()):
        return None, "the model's inputs do not correspond to the MNIST images the grader served"
    r, p = rows[ok].reshape(-1), (flat[which[ok]].double() / 255).reshape(-1)
    pm, rm = p.mean(), r.mean()
    scale = float(((p - pm) * (r - rm)).sum() / ((p - pm) ** 2).sum())
    shift = float(rm - scale * pm)
    resid = float((r - (scale * p + shift)).abs().max())
    dtype = str(inputs.dtype).replace("torch.", "")
    return {"shift": shift, "scale": scale, "shape": list(inputs.shape[1:]), "dtype": dtype,
            "exact": resid < 0.02 * max(abs(scale), 1e-6), "matched": int(ok.sum()), "rows": n}, ""


def pool_chunks(flat: torch.Tensor, chunk: int = 8192):
    """(start, standardized images) for the served images (flat: N x pixels, uint8), `chunk` at a time, in
    float32: half float64's time for a full-size run's 70,000, and a correlation needs no more digits."""
    for start in range(0, len(flat), chunk):
        yield start, _standardize(flat[start:start + chunk].float() / 255)


def match_rows(rows: torch.Tensor, chunks) -> tuple[torch.Tensor, torch.Tensor]:
    """(matched, index): for each row (n x pixels), whether a served image is the same picture, and which (the
    most correlated one). `chunks`: pool_chunks of the served images."""
    n = rows.shape[0]
    zr = _standardize(rows.double())
    best = torch.full((n,), -float("inf"), dtype=torch.float64)
    which = torch.zeros(n, dtype=torch.long)
    for start, zp in chunks:
        part_best, part_which = (zr.to(zp.dtype) @ zp.T / rows.shape[1]).double().max(dim=1)
        better = part_best > best  # strictly: on a tie the earlier image wins, as one max over all would
        best, which = torch.where(better, part_best, best), torch.where(better, part_which + start, which)
    return best > MATCH_CORR, which


def _standardize(m: torch.Tensor) -> torch.Tensor:
    m = m - m.mean(dim=1, keepdim=True)
    return m / m.std(dim=1, unbiased=False, keepdim=True).clamp_min(1e-9)


# ------------------------------------------------------------------------------------------- export
class Replayed(nn.Module):
    """The sliced network as a module: constants (parameters, buffers) become buffers, so export sees them."""

    def __init__(self, net: Network):
        super().__init__()
        self.steps = []
        names: dict[int, str] = {}
        for i, t in enumerate(net.consts.values()):
            names[id(t)] = f"c{i}"
            self.register_buffer(f"c{i}", t.detach().clone())
        for idx, func, args, kwargs in net.steps:
            self.steps.append((idx, func, _mark(args, names), _mark(kwargs, names)))
        self.logits = net.logits

    def forward(self, x):
        resolve = lambda v: getattr(self, v.name) if isinstance(v, _Const) else v  # noqa: E731
        return run_steps(self.steps, x, resolve=resolve)[self.logits]


class _Const:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


def _mark(value, names):
    if isinstance(value, torch.Tensor):
        return _Const(names[id(value)]) if id(value) in names else value
    if isinstance(value, list):
        return [_mark(v, names) for v in value]
    if isinstance(value, tuple):
        return tuple(_mark(v, names) for v in value)
    if isinstance(value, dict):
        return {k: _mark(v, names) for k, v in value.items()}
    return value


def probe_batch(raw_images: torch.Tensor, prep: dict, batch: int) -> torch.Tensor:
    x = raw_images[:batch].double() / 255 * prep["scale"] + prep["shift"]
    dtype = getattr(torch, prep["dtype"], torch.float32)
    if not dtype.is_floating_point:
        x = x.round()
    return x.reshape(len(x), *prep["shape"]).to(dtype)


def export(module: nn.Module, prep: dict, raw_images: torch.Tensor, batch: int,
           net=None) -> tuple[dict, bytes | None, str]:
    """(facts, serialized program, format): the network's tape as data (see portable.py), checked to compute
    what the module computes. There is no other format: a network the tape cannot carry is not exported,
    because the evaluator never runs a program of the submission's making (the learns check says so)."""
    facts: dict = {}
    try:
        module.eval()
        module.to("cpu")
        x = probe_batch(raw_images, prep, batch)
        if net is None:
            raise portable.Unportable("no recorded torch calls rebuild it")
        blob = portable.dumps(net.steps, net.logits)
        with torch.no_grad():
            if not torch.equal(portable.loads(blob)(x).float(), module(x).float()):
                raise portable.Unportable("its recorded torch calls do not compute what it computes")
        facts["export_matches"] = True
        return facts, blob, portable.FORMAT
    except Exception as exc:  # Unportable, or a call that only works on the original device
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        facts["export_error"] = f"the network cannot be carried as data ({first}), and the grader runs no " \
                                "program of a submission's making beside the test set"
        return facts, None, ""


class Probed:
    """A module's probed tape, fed what the module is fed: the slice starts at the first layer's data operand,
    so a reshape of the module's input to that operand's shape goes first (a `view(-1, 784)` in forward).
    network.export checks that the whole computes what the module computes."""

    def __init__(self, net: Network, module_input_shape: list[int]):
        self.logits = net.logits
        self.steps = list(net.steps)
        sliced_shape = list(net.input.shape[1:])
        if sliced_shape != list(module_input_shape):
            start = Ref(-1, 0)
            self.steps = [(-1, torch.reshape, (INPUT, [-1, *sliced_shape]), {})] + \
                [(idx, func, _swap_input(args, start), _swap_input(kwargs, start)) for idx, func, args, kwargs in net.steps]


def _swap_input(value, ref):
    if isinstance(value, str) and value == INPUT:
        return ref
    if isinstance(value, (list, tuple)):
        return type(value)(_swap_input(v, ref) for v in value)
    if isinstance(value, dict):
        return {k: _swap_input(v, ref) for k, v in value.items()}
    return value


class Scripted:
    """A TorchScript module's frozen graph as tape steps (parameters folded in as constants, branches on
    constants folded away): aten calls on constants and the input, each by its public torch name."""

    def __init__(self, module: torch.jit.ScriptModule):
        graph = torch.jit.freeze(module.eval()).graph
        inputs = list(graph.inputs())
        if len(inputs) != 2:
            raise portable.Unportable(f"a scripted forward with {len(inputs) - 1} inputs")
        env: dict[str, object] = {inputs[1].debugName(): INPUT}
        self.steps = []
        for idx, node in enumerate(graph.nodes()):
            outs, kind = list(node.outputs()), node.kind()
            if kind == "prim::Constant":
                env[outs[0].debugName()] = outs[0].toIValue()
            elif kind in ("prim::ListConstruct", "prim::TupleConstruct"):
                items = [env[v.debugName()] for v in node.inputs()]
                env[outs[0].debugName()] = items if kind == "prim::ListConstruct" else tuple(items)
            elif kind.startswith("aten::"):
                schema = torch._C.parse_schema(node.schema())
                values = [env[v.debugName()] for v in node.inputs()]
                args = tuple(v for a, v in zip(schema.arguments, values) if not a.kwarg_only)
                kwargs = {a.name: v for a, v in zip(schema.arguments, values) if a.kwarg_only}
                self.steps.append((idx, _aten(kind[len("aten::"):]), args, kwargs))
                env.update((o.debugName(), Ref(idx, slot)) for slot, o in enumerate(outs))
            else:
                raise portable.Unportable(f"TorchScript node {kind}")
        out = env[list(graph.outputs())[0].debugName()]
        out = out[0] if isinstance(out, tuple) else out
        if not isinstance(out, Ref):
            raise portable.Unportable("a scripted forward whose output is not computed from its input")
        self.logits = (out.entry, out.slot)


def _aten(name: str):
    """The public torch function an aten op is called by (portable.func_ref checks it is allowed)."""
    for space in (torch, torch._C._nn, torch.nn.functional, torch.special, torch.linalg, torch.fft, torch.Tensor):
        if callable(getattr(space, name, None)):
            return getattr(space, name)
    raise portable.Unportable(f"TorchScript op aten::{name}")


SCRIPTED_NONLINEAR = {"relu", "relu_", "clamp", "clamp_", "clamp_min", "maximum", "where", "sigmoid", "tanh", "gelu",
                      "silu", "elu", "selu", "leaky_relu", "softplus", "hardtanh", "relu6", "mish", "threshold"}


def scripted_structure(module: torch.jit.ScriptModule) -> dict:
    """A TorchScript module runs where a tape cannot see: read its layers from its graph instead (weights by
    attribute path, nonlinearity by op name: the one place names are used)."""
    layers, ops, gaps, seen_nonlinear = [], [], [], False
    for node in _all_nodes(module.inlined_graph.nodes()):
        kind = node.kind().split("::")[-1]
        if node.kind().startswith("aten::"):
            ops.append(kind)
        if kind in ("linear", "matmul", "mm", "addmm"):
            weight = _script_attr(module, list(node.inputs())[2 if kind == "addmm" else 1])
            if isinstance(weight, torch.Tensor) and weight.dim() == 2:
                w_in, w_out = (weight.shape[1], weight.shape[0]) if kind in ("linear",) else weight.shape
                if layers:
                    gaps.append(seen_nonlinear)
                layers.append({"op": kind, "in": int(w_in), "out": int(w_out)})
                seen_nonlinear = False
        elif kind in SCRIPTED_NONLINEAR:
            seen_nonlinear = True
        elif kind.startswith("conv"):
            ops.append("conv")
    return {"layers": layers, "nonlinear": gaps, "conv": any(o.startswith("conv") for o in ops), "ops": ops[:60],
            "after_last": [], "input_shape": None}


def _all_nodes(nodes):
    """Graph nodes in order, including those inside blocks (F.relu compiles to an If on `inplace`)."""
    for node in nodes:
        yield node
        for block in node.blocks():
            yield from _all_nodes(block.nodes())


def _script_attr(module, value):
    """Follow prim::GetAttr nodes from `self` to the tensor a graph value names."""
    path, node = [], value.node()
    while node.kind() == "prim::GetAttr":
        path.append(node.s("name"))
        node = next(iter(node.inputs())).node()
    obj = module
    for name in reversed(path):
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj
