"""architecture: the network on the trained model's forward path."""

from __future__ import annotations

from grader.checks.base import Context, Outcome, plural
from grader.trace import Trace


def _model_path(trace: Trace) -> dict | None:
    paths = trace.of("forward_path")
    model = trace.model or {}
    chosen = next((p for p in paths if p.get("module") == model.get("module")), None)
    if chosen is None and paths:  # no model event (killed): the module with the most affine ops
        chosen = max(paths, key=lambda p: sum(o.get("cat") == "affine" for o in p.get("ops", [])))
    return chosen


def check_architecture(ctx: Context) -> Outcome:
    path = _model_path(ctx.trace)
    if path is None:
        return Outcome(False, "no forward pass of a model with parameters was observed",
                       "define an nn.Module and call it on each batch: outputs = model(images)")
    ops = path.get("ops", [])
    affine = [(i, o) for i, o in enumerate(ops) if o.get("cat") == "affine"]
    dims = [affine[0][1]["features"][0]] + [o["features"][1] for _, o in affine] if affine and all(
        "features" in o for _, o in affine) else []
    chain = " → ".join(str(d) for d in dims) if dims else "?"
    acts = sorted({o["op"].rstrip("_") for o in ops if o.get("cat") == "nonlinear"})
    evidence = {"model": path.get("cls"), "layers": chain, "activations": acts,
                "ops": [o["op"] for o in ops][:40], "input_shape": path.get("input")}
    layer_hint = "e.g. Linear(784, 128) → ReLU → Linear(128, 64) → ReLU → Linear(64, 10)"
    if any(o.get("cat") == "conv" for o in ops):
        return Outcome(False, f"the model uses convolution layers (a CNN: {path.get('cls')}); the exercise asks for "
                              "fully connected layers only", f"use two hidden nn.Linear layers, {layer_hint}", evidence)
    if len(affine) != 3:
        hidden = max(0, len(affine) - 1)
        return Outcome(False, f"{plural(hidden, 'hidden layer')} on the forward path ({chain}); the exercise asks "
                              "for exactly two", f"use three linear layers, {layer_hint}", evidence)
    if dims[0] != 784:
        return Outcome(False, f"the first layer takes {dims[0]} features; a flattened 28×28 image has 784",
                       "flatten each image (x.view(-1, 28*28) or nn.Flatten()) before the first nn.Linear(784, ...)",
                       evidence)
    if dims[-1] != 10:
        return Outcome(False, f"the last layer has {dims[-1]} outputs; MNIST has 10 classes",
                       "end with nn.Linear(..., 10): one output per digit", evidence)
    if dims[1] != affine[1][1]["features"][0] or dims[2] != affine[2][1]["features"][0]:
        return Outcome(False, f"the layers do not connect ({chain})", layer_hint, evidence)
    for (a, _), (b, _), n in ((affine[0], affine[1], 1), (affine[1], affine[2], 2)):
        if not any(o.get("cat") == "nonlinear" for o in ops[a + 1 : b]):
            return Outcome(False, f"no activation between linear layers {n} and {n + 1} ({chain}), so they collapse "
                                  "into a single linear map",
                           "apply a nonlinearity such as nn.ReLU() or F.relu between the linear layers", evidence)
    return Outcome(True, f"{chain} with {', '.join(acts) or 'activations'} between the layers", None, evidence)
