"""The checks: pure functions over what the grader observed (trace, static facts, held-out evaluation).

One function per public check id, registered in CHECKS in the order reports list them. Each returns an
Outcome; points come from the rubric. Static facts only ever add evidence or a hint.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from typing import Callable

from grader.rubric import Rubric
from grader.static import StaticFacts
from grader.trace import Epoch, Trace


@dataclass
class Evaluation:
    accuracy: float | None = None
    examples: int | None = None
    seconds: float | None = None
    error: str | None = None
    confusion: list[list[int]] | None = None  # [true digit][predicted digit], for the pictures


@dataclass
class Outcome:
    passed: bool
    message: str
    hint: str | None = None
    evidence: dict = field(default_factory=dict)


@dataclass
class Context:
    trace: Trace
    facts: StaticFacts
    rubric: Rubric
    evaluation: Evaluation | None = None
    where: Callable[[int | None], str] = lambda n: f"line {n}" if n else "an unknown line"
    limits: dict = field(default_factory=dict)
    oom: bool = False  # the sandbox (container or cgroup) says the memory limit killed the run

    def __post_init__(self):
        self.epochs: list[Epoch] = self.trace.epochs()
        self.complete = [e for e in self.epochs if e.complete]

    def fact_hint(self, kind: str, describe: Callable, suspect: Callable = lambda f: True) -> str | None:
        """Describe the static fact of this kind that best explains a failure (a suspect one first)."""
        facts = sorted(self.facts.of(kind), key=lambda f: not suspect(f))
        return describe(facts[0]) if facts else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}{'es' if word.endswith('s') else 's'}"


# ------------------------------------------------------------------------------------------ runs
MEMORY_WORDS = ("out of memory", "can't allocate memory", "cannot allocate memory", "not enough memory")


def run_outcome(trace: Trace) -> str:
    """How the submission ended: ok | exception | exit | timeout | memory | killed | missing."""
    end, sup = trace.end, trace.sup or {}
    if end is None:
        if sup.get("soft_timeout") or sup.get("hard_timeout"):
            return "timeout"
        return "killed" if trace.start else "missing"
    if end.get("outcome") == "exception":
        exc = trace.exception or {}
        text = f"{exc.get('type', '')} {exc.get('message', '')}".lower()
        if exc.get("type") == "MemoryError" or any(w in text for w in MEMORY_WORDS):
            return "memory"
        return "exception"
    return end.get("outcome", "missing")


def _epoch_of(ctx: Context, seq: int | None) -> int | None:
    if seq is None or not ctx.epochs:
        return None
    current = None
    for ep in ctx.epochs:
        if seq >= ep.start:
            current = ep.index
    return current


def check_runs(ctx: Context) -> Outcome:
    trace, outcome = ctx.trace, run_outcome(ctx.trace)
    end = trace.end or {}
    seconds = end.get("seconds")
    last = trace.events[-1]["i"] if trace.events else None
    during = _epoch_of(ctx, (trace.exception or {}).get("i") or (end.get("i") if end else last))
    in_epoch = f" during epoch {during}" if during else (" before training started" if not ctx.epochs else "")
    if outcome == "ok":
        return Outcome(True, f"ran to completion in {seconds:.1f} s" if seconds is not None else "ran to completion")
    if outcome in ("exception", "memory", "exit"):
        exc = trace.exception or {}
        at = f" at {ctx.where(exc.get('lineno'))}"
        code = f" (`{exc['line']}`)" if exc.get("line") else ""
        if outcome == "exit":
            return Outcome(False, f"exited with status {end.get('exit_code')}{at}{in_epoch}{code}",
                           "a program that finishes normally exits with status 0; remove the sys.exit() call",
                           {"exit_code": end.get("exit_code"), "lineno": exc.get("lineno")})
        message = f"{exc.get('type', 'error')}: {exc.get('message', '')}".strip().rstrip(":")
        if outcome == "memory":
            mb = ctx.limits.get("memory_mb")
            return Outcome(False, f"ran out of memory{at}{in_epoch}: {message}{code}",
                           f"the sandbox allows {mb} MB; this exercise needs well under 1 GB. Look for tensors that "
                           "grow every batch (e.g. keeping losses without .item())" if mb else
                           "look for tensors that grow every batch (e.g. keeping losses without .item())",
                           {"lineno": exc.get("lineno")})
        hint = "run the file yourself with `python <file>` to see the full traceback (it is also in the output below)"
        if exc.get("type") in ("ModuleNotFoundError", "ImportError"):
            hint = ("the grading environment has torch, torchvision, numpy, tqdm and matplotlib; "
                    "remove imports of anything else")
        return Outcome(False, f"stopped{at}{in_epoch} with {message}{code}", hint,
                       {"exception": exc.get("type"), "lineno": exc.get("lineno"), "line": exc.get("line")})
    if outcome == "timeout":
        limit = ctx.limits.get("timeout_s", ctx.rubric.limits.timeout_s)
        return Outcome(False, f"did not finish within {limit:g} s{in_epoch}",
                       f"the grader trains on a {ctx.rubric.train_examples}-image subset, so 10 epochs take seconds; "
                       "look for an endless loop, or far more work per batch than the exercise needs",
                       {"timeout_s": limit})
    sup = trace.sup or {}
    if ctx.oom:
        return Outcome(False, f"was killed for using more than {ctx.limits.get('memory_mb')} MB of memory{in_epoch}",
                       "look for tensors that grow every batch", {"memory_mb": ctx.limits.get("memory_mb")})
    if outcome == "killed":
        return Outcome(False, f"ended abruptly{in_epoch} (exit status {sup.get('exit')}) without finishing",
                       "os._exit(), a crash of the Python process, or a signal ended it; let the script end normally",
                       {"exit": sup.get("exit")})
    return Outcome(False, "the submission never started", "this is the grader's fault if it persists: report it")


# ------------------------------------------------------------------------------------------ architecture
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
        return Outcome(False, f"{_plural(hidden, 'hidden layer')} on the forward path ({chain}); the exercise asks "
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


# ------------------------------------------------------------------------------------------ loss
LOSS_NAMES = {"cross_entropy": "CrossEntropyLoss", "nll": "NLLLoss", "mse": "MSELoss", "l1": "L1Loss",
              "bce": "BCELoss", "bce_with_logits": "BCEWithLogitsLoss", "unknown": "a hand-written loss"}


def check_loss(ctx: Context) -> Outcome:
    backwards = ctx.trace.of("backward")
    if not backwards:
        return Outcome(False, "loss.backward() was never called", "compute loss = criterion(outputs, labels) and "
                       "call loss.backward() for every batch")
    kinds = ctx.trace.loss_kinds
    evidence = {"backward_calls": len(backwards), "loss_kinds": dict(kinds)}
    without_ce = [b for b in backwards if "cross_entropy" not in (b.get("kinds") or [])]
    if not without_ce:
        return Outcome(True, f"CrossEntropyLoss drove all {len(backwards)} backward passes", None, evidence)
    main = ctx.trace.loss_kinds.most_common(1)[0][0]
    name = LOSS_NAMES.get(main, main)
    fix = "use criterion = nn.CrossEntropyLoss() on the model's raw outputs (logits) and the integer labels"
    if main == "nll":
        log_probs = any(e.get("log_probs") for e in ctx.trace.of("loss") if e.get("kind") == "nll")
        if log_probs:
            return Outcome(False, "NLLLoss after log_softmax drove training: that is cross-entropy, but the exercise "
                                  "asks for CrossEntropyLoss", fix, evidence)
        return Outcome(False, "NLLLoss on raw outputs drove training: without log_softmax it is not a valid "
                              "classification loss", fix, evidence)
    where = ctx.fact_hint("loss", lambda f: f" ({ctx.where(f.line)}: `{f.text}`)",
                          suspect=lambda f: f.value not in ("CrossEntropyLoss", "cross_entropy")) or ""
    return Outcome(False, f"{name} drove {len(without_ce)} of {len(backwards)} backward passes{where}; "
                          "classifying 10 digits needs CrossEntropyLoss", fix, evidence)


# ------------------------------------------------------------------------------------------ optimizer
def check_optimizer(ctx: Context) -> Outcome:
    created = {o["opt"]: o for o in ctx.trace.of("optimizer")}
    steps = ctx.trace.of("step")
    adam_fix = "create optimizer = torch.optim.Adam(model.parameters(), lr=0.001) and call optimizer.step() each batch"
    if not created:
        return Outcome(False, "no torch.optim optimizer was created (parameters were not updated by one)", adam_fix)
    if not steps:
        names = ", ".join(sorted({o["cls"] for o in created.values()}))
        return Outcome(False, f"{names} was created but optimizer.step() was never called", adam_fix)
    stepping = {s["opt"] for s in steps}
    classes = {created[o]["cls"] + ("" if created[o]["is_adam"] else f" ({created[o]['module']})")
               for o in stepping if o in created}
    lrs = sorted({s["lr"] for s in steps if s.get("lr") is not None})
    evidence = {"optimizers": sorted(classes), "steps": len(steps), "lr": lrs[0] if len(lrs) == 1 else lrs}
    not_adam = [created[o] for o in stepping if o in created and not created[o]["is_adam"]]
    if not_adam:
        bad = not_adam[0]
        why = {"AdamW": "AdamW is a different optimizer (decoupled weight decay), even though it is Adam-like",
               "Adam": f"this Adam comes from {bad['module']}, not torch.optim"}.get(bad["cls"], "")
        where = ctx.fact_hint("optimizer", lambda f: f" ({ctx.where(f.line)}: `{f.text}`)",
                              suspect=lambda f: f.value["name"] != "Adam") or ""
        return Outcome(False, f"the steps were made by {bad['cls']}{where}, not torch.optim.Adam"
                              + (f"; {why}" if why else ""), adam_fix, evidence)
    if not any(s.get("changed") for s in steps):
        return Outcome(False, f"optimizer.step() ran {_plural(len(steps), 'time')} but never changed a parameter",
                       "pass model.parameters() to the optimizer, and call loss.backward() before optimizer.step()",
                       evidence)
    share = (ctx.trace.model or {}).get("stepped_share")
    if share == 0:
        return Outcome(False, "the optimizer stepped parameters that do not belong to the trained model",
                       "give the optimizer the parameters of the model you train: Adam(model.parameters(), ...)",
                       evidence)
    lr = f" (lr {lrs[0]:g})" if len(lrs) == 1 else ""
    return Outcome(True, f"torch.optim.Adam{lr} made {len(steps)} steps that updated the model", None, evidence)


# ------------------------------------------------------------------------------------------ epochs
def check_epochs(ctx: Context) -> Outcome:
    want = ctx.rubric.epochs
    done, started = len(ctx.complete), len(ctx.epochs)
    size = ctx.trace.train_size
    batches = ctx.complete[0].batches if ctx.complete else None
    evidence = {"complete_passes": done, "passes_started": started, "batches_per_pass": batches,
                "train_examples": size, "examples_trained": ctx.trace.examples_trained}
    if size:
        evidence["passes_by_examples"] = round(ctx.trace.examples_trained / size, 2)
    of_what = f"the {size} training images" if size else "the training data"
    each = f" ({batches} batches each)" if batches else ""
    if done == want and started == want:
        return Outcome(True, f"{want} full passes over {of_what}{each}", None, evidence)
    stated = ctx.fact_hint("epochs", lambda f: f"{ctx.where(f.line)} sets `{f.text}`", suspect=lambda f: f.value != want)
    hint = f"train for exactly {want} epochs" + (f"; {stated}" if stated else "")
    if started == 0:
        return Outcome(False, "no training pass was observed (no backward() on training batches)", hint, evidence)
    partial = started - done
    if done == 0:
        return Outcome(False, f"no pass over {of_what} was completed (training stopped or broke out early)",
                       hint, evidence)
    extra = f", plus {_plural(partial, 'unfinished pass')}" if partial else ""
    return Outcome(False, f"{_plural(done, 'full pass')} over {of_what}{extra}; the exercise asks for {want}",
                   hint, evidence)


# ------------------------------------------------------------------------------------------ printing the loss
FLOAT = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][-+]?\d+)?|\b(?:nan|inf)\b", re.IGNORECASE)


def _printed_numbers(text: str) -> list[tuple[float, float]]:
    """(value, tolerance) of each decimal number in a line. Integers are skipped: they are epoch/batch counters."""
    out = []
    for m in FLOAT.finditer(text):
        token = m.group(0)
        try:
            value = float(token)
        except ValueError:
            continue
        if not math.isfinite(value):
            out.append((value, 0.0))
            continue
        mantissa, _, exp = token.lower().partition("e")
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        tol = 0.5 * 10 ** (int(exp or 0) - decimals) * 1.001
        out.append((value, max(tol, 1e-5 * abs(value), 1e-12)))
    return out


class _Candidates:
    """Loss values an honest print in this epoch could show: any batch's loss, the running/epoch mean
    (plain or weighted by batch size) and the running total, each known from a given batch on."""

    KINDS = ("batch loss", "mean loss", "mean loss", "running total")

    def __init__(self, epoch: Epoch):
        values, sizes = [], []
        for b in epoch.backwards:
            v = b.get("value")
            if isinstance(v, str):
                v = float(v)  # "nan"/"inf" as recorded
            values.append(v if isinstance(v, (int, float)) else float("nan"))
            sizes.append(b.get("bs") or 1)
        self.n = len(values)
        rows, total, weighted, count = [], 0.0, 0.0, 0
        for j, (v, bs) in enumerate(zip(values, sizes, strict=True), start=1):
            total += v
            weighted += v * bs
            count += bs
            rows += [(v, j, 0), (total / j, j, 1), (weighted / count, j, 2), (total, j, 3)]
        self.finite = sorted(r for r in rows if math.isfinite(r[0]))
        self.keys = [r[0] for r in self.finite]
        self.nonfinite = {(str(r[0]), r[1]) for r in rows if not math.isfinite(r[0])}

    def match(self, value: float, tol: float, upto: int) -> tuple | None:
        if not math.isfinite(value):
            return next(((value, j, 0) for s, j in self.nonfinite if s == str(value) and j <= upto), None)
        lo = bisect.bisect_left(self.keys, value - tol)
        hi = bisect.bisect_right(self.keys, value + tol)
        return next((r for r in self.finite[lo:hi] if r[1] <= upto), None)

    def describe(self, row: tuple) -> str:
        value, j, kind = row
        if kind == 0:
            return "the last batch's loss" if j == self.n else f"batch {j}'s loss"
        if kind in (1, 2):
            return "the epoch's mean loss" if j == self.n else "a running average of the loss"
        return "the running total of the loss"


def check_prints_loss(ctx: Context) -> Outcome:
    epochs = ctx.complete
    if not epochs:
        return Outcome(False, "no epoch completed, so there was no per-epoch loss to print",
                       "print the loss once per epoch, after the loop over batches")
    per_epoch, missing, fakes = [], [], []
    cands = {ep.index: _Candidates(ep) for ep in ctx.epochs}
    for ep in epochs:
        hits = []
        for line, upto in ep.lines:
            for value, tol in _printed_numbers(line.get("text", "")):
                row = cands[ep.index].match(value, tol, upto)
                if row is not None:
                    hits.append((line["text"], cands[ep.index].describe(row)))
                    break
            else:
                if "loss" in line.get("text", "").lower() and _printed_numbers(line.get("text", "")):
                    fakes.append((ep.index, line["text"]))
        per_epoch.append({"epoch": ep.index, "lines": len(hits), "example": hits[0][0][:120] if hits else None,
                          "shows": hits[0][1] if hits else None})
        if not hits:
            missing.append(ep)
    evidence = {"epochs": per_epoch}
    if not missing:
        first = per_epoch[0]
        most = max(p["lines"] for p in per_epoch)
        batches = epochs[0].batches or 0
        if most > 3 and batches and most >= batches / 2:
            return Outcome(True, f"printed the loss in each of the {len(epochs)} epochs, {most} times per epoch "
                                 f"(every batch); once per epoch is enough", None, evidence)
        return Outcome(True, f"each of the {len(epochs)} epochs printed its loss ({first['shows']}), e.g. "
                             f"'{first['example']}'", None, evidence)
    hint = ("after the loop over batches, print(f'Epoch [{epoch+1}/{num_epochs}], Loss: {loss.item():.4f}') — "
            "the value must be the loss your program computed")
    names = _ranges([ep.index for ep in missing])
    late = _printed_later(ctx, missing, cands)
    if late:
        return Outcome(False, f"the losses of epochs {names} were printed only after training, not during each epoch",
                       hint, evidence)
    if fakes:
        ep_no, text = next(((e, t) for e, t in fakes if e in {m.index for m in missing}), fakes[0])
        if len(missing) == len(epochs):
            return Outcome(False, f"every epoch printed a line like '{text[:80]}', but none of those numbers is a "
                                  "loss the program computed", hint, evidence)
        also = f"; epochs {names} printed no real loss" if len(missing) > 1 else ""
        return Outcome(False, f"epoch {ep_no} printed '{text[:80]}', but that number is not a loss the program "
                              f"computed in that epoch{also}", hint, evidence)
    if len(missing) == len(epochs):
        return Outcome(False, "no line printed during training shows a loss value the program computed", hint,
                       evidence)
    return Outcome(False, f"epochs {names} printed no loss value", hint, evidence)


def _printed_later(ctx: Context, missing: list[Epoch], cands: dict) -> bool:
    """Were the missing epochs' losses printed in a later epoch (e.g. all of them after training)?"""
    for ep in missing:
        later = [(line, upto) for other in ctx.epochs if other.index > ep.index for line, upto in other.lines]
        if not any(cands[ep.index].match(v, tol, cands[ep.index].n)
                   for line, _ in later for v, tol in _printed_numbers(line.get("text", ""))):
            return False
    return True


def _ranges(numbers: list[int]) -> str:
    parts, start = [], None
    for i, n in enumerate(numbers):
        if start is None:
            start = n
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            parts.append(str(start) if start == n else f"{start}–{n}")
            start = None
    return ", ".join(parts)


# ------------------------------------------------------------------------------------------ zero_grad
def check_zero_grad(ctx: Context) -> Outcome:
    backwards = ctx.trace.of("backward")
    known = [b for b in backwards if b.get("cleared") is not None]
    if not backwards:
        return Outcome(False, "no backward pass was observed", "call optimizer.zero_grad() before each loss.backward()")
    if not known:
        return Outcome(False, "no optimizer held the model's parameters when backward() ran, so gradient clearing "
                              "could not be observed", "create the optimizer before the training loop")
    stale = [b for b in known if not b["cleared"]]
    evidence = {"backward_calls": len(known), "stale_gradients": len(stale), "zero_grad_calls": len(ctx.trace.of("zero_grad"))}
    if not stale:
        return Outcome(True, f"gradients were cleared before each of the {len(known)} backward passes", None, evidence)
    calls = ctx.facts.of("zero_grad")
    hint = "call optimizer.zero_grad() at the start of every iteration, before loss.backward()"
    if not calls:
        hint += " (the file never calls zero_grad)"
    return Outcome(False, f"old gradients were still there at {len(stale)} of {len(known)} backward passes, so each "
                          "step used gradients summed over earlier batches", hint, evidence)


# ------------------------------------------------------------------------------------------ learns
def check_learns(ctx: Context) -> Outcome:
    need = ctx.rubric.accuracy_threshold
    ev, model = ctx.evaluation, ctx.trace.model or {}
    if not model.get("found"):
        return Outcome(False, "no trained model was found to evaluate", "train an nn.Module with the optimizer")
    if ev is None or ev.accuracy is None:
        why = model.get("export_error") or (ev.error if ev else None) or "the run ended before the model could be saved"
        return Outcome(False, f"the trained model could not be evaluated: {why}",
                       "keep forward() to tensor operations on its input (no Python-side data-dependent branching)",
                       {"error": why})
    evidence = {"accuracy": round(ev.accuracy, 4), "eval_examples": ev.examples, "threshold": need,
                "preprocessing": model.get("preprocess")}
    text = f"{ev.accuracy:.2%} accuracy on {ev.examples:,} held-out test images (needs {need:.0%})"
    if ev.accuracy >= need:
        return Outcome(True, text, None, evidence)
    lrs = [s.get("lr") for s in ctx.trace.of("step") if s.get("lr") is not None]
    if lrs and max(lrs) >= 0.1:
        hint = f"the learning rate {max(lrs):g} is far too large for Adam; the exercise uses lr=0.001"
    elif any(not b.get("cleared", True) for b in ctx.trace.of("backward")):
        hint = "gradients accumulate across batches (see zero_grad), which stops the model from learning"
    elif lrs and max(lrs) < 1e-5:
        hint = f"the learning rate {max(lrs):g} is too small to learn in 10 epochs; use lr=0.001"
    else:
        hint = "check the loss (CrossEntropyLoss on raw outputs), the learning rate (0.001) and that every batch trains"
    return Outcome(False, text + (" — about chance" if ev.accuracy < 0.2 else ""), hint, evidence)


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
