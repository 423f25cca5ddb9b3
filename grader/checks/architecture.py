"""architecture: the network that was trained (or, when nothing trained, the one that was built).

Read from the network the harness sliced out of a training step (harness/tape.py): its affine layers in order
and, for each gap between two layers, whether what happens there is nonlinear, tested by what it computes
(harness/network.py). A run killed before that summary falls back to the ops recorded on a module's first call.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.checks.base import Context, Outcome, plural
from grader.trace import Trace

LAYER_HINT = "e.g. Linear(784, 128) → ReLU → Linear(128, 64) → ReLU → Linear(64, 10)"


@dataclass
class Network:
    layers: list[tuple[int, int]]  # (in features, out features) of each affine layer, input to output
    nonlinear: list[bool]  # one per gap between consecutive layers
    conv: bool
    ops: list[str]
    source: str


def observed_network(trace: Trace) -> Network | None:
    model = trace.model or {}
    s = model.get("structure")
    if isinstance(s, dict) and "layers" in s:
        return Network([(lay["in"], lay["out"]) for lay in s["layers"]], list(s.get("nonlinear", [])),
                       bool(s.get("conv")), list(s.get("ops", [])), model.get("source", "training step"))
    paths = trace.of("forward_path")
    if not paths:
        return None
    path = max(paths, key=lambda p: sum(o.get("cat") == "affine" for o in p.get("ops", [])))
    ops = path.get("ops", [])
    affine = [i for i, o in enumerate(ops) if o.get("cat") == "affine" and "features" in o]
    layers = [tuple(ops[i]["features"]) for i in affine]
    gaps = [any(o.get("cat") == "nonlinear" for o in ops[a + 1 : b]) for a, b in zip(affine, affine[1:])]
    return Network(layers, gaps, any(o.get("cat") == "conv" for o in ops), [o["op"] for o in ops],
                   f"the first call of {path.get('cls')}")


def check_architecture(ctx: Context) -> Outcome:
    net = observed_network(ctx.trace)
    if net is None:
        why = (ctx.trace.model or {}).get("tape_failures") or []
        return Outcome(False, "no network with parameters was seen computing an output"
                              + (f" ({why[-1]})" if why else ""),
                       "define the network and call it on each batch: outputs = model(images)")
    dims = [net.layers[0][0]] + [out for _, out in net.layers] if net.layers else []
    chain = " → ".join(str(d) for d in dims) if dims else "no linear layer"
    evidence = {"layers": chain, "nonlinear_between": net.nonlinear, "ops": net.ops[:40], "judged": net.source}
    if net.conv:
        return Outcome(False, "the network uses convolution layers (a CNN); the exercise asks for fully "
                              "connected layers only", f"use two hidden nn.Linear layers, {LAYER_HINT}", evidence)
    if len(net.layers) != 3:
        hidden = max(0, len(net.layers) - 1)
        return Outcome(False, f"{plural(hidden, 'hidden layer')} ({chain}); the exercise asks for exactly two",
                       f"use three linear layers, {LAYER_HINT}", evidence)
    if dims[0] != 784:
        return Outcome(False, f"the first layer takes {dims[0]} features; a flattened 28×28 image has 784",
                       "flatten each image (x.view(-1, 28*28) or nn.Flatten()) before the first nn.Linear(784, ...)",
                       evidence)
    if dims[-1] != 10:
        return Outcome(False, f"the last layer has {dims[-1]} outputs; MNIST has 10 classes",
                       "end with nn.Linear(..., 10): one output per digit", evidence)
    if any(a[1] != b[0] for a, b in zip(net.layers, net.layers[1:])):
        return Outcome(False, f"the layers do not connect ({chain})", LAYER_HINT, evidence)
    for n, nonlinear in enumerate(net.nonlinear, start=1):
        if not nonlinear:
            return Outcome(False, f"what happens between linear layers {n} and {n + 1} is linear ({chain}), so "
                                  "the two collapse into a single linear map",
                           "apply a nonlinearity such as nn.ReLU() or F.relu between the linear layers", evidence)
    return Outcome(True, f"{chain}, nonlinear between the layers", None, evidence)
