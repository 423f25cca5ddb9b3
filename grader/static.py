"""Static facts from the source (no execution): evidence and hints, never a verdict.

The run decides every check; these facts explain it ("line 12 sets num_epochs = 5"). One kind places what the
run observed: `loop` spans, which tell whether a recorded stop happened inside the loop that trained.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

OPTIMIZERS = {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS",
              "SparseAdam", "ASGD", "Rprop", "Adafactor", "Muon"}
LOSSES = {"CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "SmoothL1Loss",
          "HuberLoss", "KLDivLoss", "MultiMarginLoss", "cross_entropy", "nll_loss", "mse_loss", "l1_loss",
          "binary_cross_entropy", "binary_cross_entropy_with_logits", "smooth_l1_loss", "huber_loss", "kl_div"}


@dataclass
class Fact:
    kind: str  # epochs | optimizer | loss | zero_grad | layer | conv | batch_size | import | loop
    line: int
    text: str  # the source line, stripped
    value: object = None


@dataclass
class StaticFacts:
    syntax_error: dict | None = None  # {line, col, message, text}
    facts: list[Fact] = field(default_factory=list)

    def of(self, kind: str) -> list[Fact]:
        return [f for f in self.facts if f.kind == kind]


def _name(node) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _int(node) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    return None


def _number(node) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    return None


def analyse(source: str) -> StaticFacts:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return StaticFacts(syntax_error={"line": exc.lineno, "col": exc.offset, "message": exc.msg,
                                         "text": (exc.text or "").strip()})
    lines = source.splitlines()
    out = StaticFacts()

    def add(kind: str, node, value=None) -> None:
        text = lines[node.lineno - 1].strip() if 0 < node.lineno <= len(lines) else ""
        out.facts.append(Fact(kind, node.lineno, text[:160], value))

    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            add("loop", node, node.end_lineno)
        if isinstance(node, ast.Assign) and _int(node.value) is not None:
            for target in node.targets:
                if isinstance(target, ast.Name) and "epoch" in target.id.lower():
                    add("epochs", node, _int(node.value))
        elif isinstance(node, ast.For) and isinstance(node.iter, ast.Call) and _name(node.iter.func) == "range":
            target = node.target.id if isinstance(node.target, ast.Name) else ""
            bounds = [_int(a) for a in node.iter.args]
            if "epoch" in target.lower() and bounds and None not in bounds:
                add("epochs", node, len(range(*bounds)))
        elif isinstance(node, ast.Call):
            name = _name(node.func)
            kwargs = {k.arg: k.value for k in node.keywords if k.arg}
            if name == "add_argument" and node.args and isinstance(node.args[0], ast.Constant) \
                    and "epoch" in str(node.args[0].value).lower() and _int(kwargs.get("default")) is not None:
                add("epochs", node, _int(kwargs["default"]))
            elif name in OPTIMIZERS:
                lr = _number(kwargs.get("lr")) if "lr" in kwargs else (
                    _number(node.args[1]) if len(node.args) > 1 else None)
                add("optimizer", node, {"name": name, "lr": lr})
            elif name in LOSSES:
                add("loss", node, name)
            elif name == "zero_grad":
                add("zero_grad", node)
            elif name == "Linear" and len(node.args) >= 2:
                add("layer", node, [_int(node.args[0]), _int(node.args[1])])
            elif name in ("Conv1d", "Conv2d", "Conv3d", "conv2d"):
                add("conv", node, name)
            elif name == "DataLoader" and _int(kwargs.get("batch_size")) is not None:
                add("batch_size", node, _int(kwargs["batch_size"]))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                add("import", node, name.split(".")[0])
    out.facts.sort(key=lambda f: f.line)
    return out
