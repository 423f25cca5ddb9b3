"""Hand-built traces in the harness's event vocabulary, for testing checks without running torch."""

from __future__ import annotations

from grader.harness import events
from grader.trace import Trace

REFERENCE_OPS = [
    {"op": "view", "cat": "reshape", "in": [64, 1, 28, 28], "out": [64, 784]},
    {"op": "linear", "cat": "affine", "in": [64, 784], "out": [64, 128], "features": [784, 128]},
    {"op": "relu", "cat": "nonlinear", "in": [64, 128], "out": [64, 128]},
    {"op": "linear", "cat": "affine", "in": [64, 128], "out": [64, 64], "features": [128, 64]},
    {"op": "relu", "cat": "nonlinear", "in": [64, 64], "out": [64, 64]},
    {"op": "linear", "cat": "affine", "in": [64, 64], "out": [64, 10], "features": [64, 10]},
]


def affine(n_in: int, n_out: int) -> dict:
    return {"op": "linear", "cat": "affine", "in": [64, n_in], "out": [64, n_out], "features": [n_in, n_out]}


def act(name: str = "relu") -> dict:
    return {"op": name, "cat": "nonlinear"}


class TraceBuilder:
    def __init__(self):
        self.events: list[dict] = []
        self.loss_seq = 0

    def ev(self, event: str, /, **fields) -> "TraceBuilder":
        bad = events.unknown_fields(event, fields)
        assert not bad, f"not in the harness's vocabulary (grader/harness/events.py): {event} {bad}"
        self.events.append({"e": event, "i": len(self.events) + 1, "t": 0.0, **fields})
        return self

    def setup(self, train_size: int = 640, opt_cls: str = "Adam", is_adam: bool = True, lr: float = 0.001,
              ops=None) -> "TraceBuilder":
        self.ev("start", python="3.11", torch="2.x", torchvision="0.x", cuda=False)
        self.ev("phase", name="import", seconds=1.0).ev("phase", name="data", seconds=0.1)
        self.ev("dataset", ds=1, train=True, size=train_size)
        self.ev("optimizer", opt=1, cls=opt_cls, module="torch.optim", is_adam=is_adam, lr=lr, params=6)
        self.ev("forward_path", module=2, cls="Net", input=[64, 1, 28, 28], ops=REFERENCE_OPS if ops is None else ops)
        return self

    def epoch(self, loader: int, pass_no: int, losses: list[float], bs: int = 64, kind: str = "cross_entropy",
              cleared: bool = True, complete: bool = True, prints: list[str] = (), step: bool = True,
              changed: bool = True, of: int | None = None, reduction: str = "mean") -> "TraceBuilder":
        """One loader pass that trains on a batch per loss in `losses`. `of` is len(loader): by default the pass
        holds exactly those batches when `complete`, one more when the loop was cut short."""
        of = of if of is not None else len(losses) + (0 if complete else 1)
        self.ev("pass_start", loader=loader, pass_no=pass_no, train=True, dataset_size=bs * of, batches=of, bs=bs)
        for value in losses:
            self.train_step(value, bs=bs, kind=kind, cleared=cleared or self.loss_seq == 0,
                            in_pass=[loader, pass_no], step=step, changed=changed, reduction=reduction)
        if complete:
            self.ev("pass_end", loader=loader, pass_no=pass_no, batches=len(losses), examples=bs * len(losses))
        for text in prints:
            self.line(text)
        return self

    def loss(self, value: float, bs: int = 64, kind: str = "cross_entropy", grad: bool = True,
             reduction: str = "mean", in_pass: list[int] | None = None) -> int:
        """A loss the program computed (a `loss` event), in_pass: the loader pass serving batches then; returns
        its id."""
        self.loss_seq += 1
        where = {"in_pass": in_pass} if in_pass else {}
        self.ev("loss", loss=self.loss_seq, kind=kind, value=value, bs=bs, grad=grad, reduction=reduction, **where)
        return self.loss_seq

    def backward(self, value: float, losses: list[int] = (), kinds: list[str] = ("cross_entropy",), bs: int = 64,
                 cleared: bool = True, in_pass: list[int] | None = None) -> "TraceBuilder":
        return self.ev("backward", losses=list(losses), kinds=list(kinds), value=value, bs=bs, cleared=cleared,
                       in_pass=in_pass)

    def train_step(self, value: float, bs: int = 64, kind: str = "cross_entropy", cleared: bool = True,
                   in_pass: list[int] | None = None, step: bool = True, changed: bool = True,
                   reduction: str = "mean", backward_value: float | None = None) -> "TraceBuilder":
        """loss = criterion(...); loss.backward(); optimizer.step(). `backward_value`: what backward ran on
        when it is not the loss itself (loss / k, ce + l2)."""
        lid = self.loss(value, bs=bs, kind=kind, reduction=reduction)
        self.backward(value if backward_value is None else backward_value, [lid], [kind] if kind else [], bs,
                      cleared, in_pass)
        if step:
            self.ev("step", opt=1, changed=changed, had_grad=True, lr=0.001, device="cpu")
        return self

    def line(self, text: str, end: str = "\n", stream: str = "o", row: int | None = None) -> "TraceBuilder":
        return self.ev("line", s=stream, text=text, end=end, **({} if row is None else {"row": row}))

    def run(self, epochs: int = 10, batches: int = 10, **kw) -> "TraceBuilder":
        """A well-behaved run: `epochs` passes, losses falling, the last batch's loss printed each epoch."""
        fmt = kw.pop("fmt", "Epoch [{e}/{n}], Loss: {loss:.4f}")
        for e in range(1, epochs + 1):
            losses = [round(2.0 / (e + b / batches), 6) for b in range(batches)]
            self.epoch(1, e, losses, prints=[fmt.format(e=e, n=epochs, loss=losses[-1])] if fmt else [], **kw)
        return self

    def end(self, outcome: str = "ok", model: bool = True, **fields) -> "TraceBuilder":
        at = {"at": fields.pop("at")} if "at" in fields else {}  # the submission's lines where it stopped
        self.ev("end", outcome=outcome, exit_code=fields.pop("exit_code", None), dropped=0, seconds=1.5, **at)
        if model:
            self.ev("model", found=True, module=2, cls="Net", stepped_share=1.0, n_params=109386,
                    preprocess={"shift": -1.0, "scale": 2.0, "shape": [1, 28, 28], "dtype": "float32", "exact": True},
                    batch=64)
        return self

    def trace(self, sup: dict | None = None) -> Trace:
        return Trace.from_events(self.events, sup=sup or {"ch": "sup", "exit": 0})


def realistic_losses(epochs: int = 10, batches: int = 47, seed: int = 0) -> list[list[float]]:
    """Batch losses shaped like the reference's on the shortened set: ~2.3 at the first batch, an epoch mean
    falling from ~0.9 to ~0.05, and batch-to-batch noise of about ±50%."""
    import math
    import random

    rng = random.Random(seed)
    out = []
    for e in range(epochs):
        mean = 0.9 * math.exp(-0.32 * e)
        losses = []
        for b in range(batches):
            start = 2.3 * math.exp(-b / 6) if e == 0 else 0.0
            losses.append(round(max(mean * math.exp(rng.gauss(0, 0.5)), start), 6))
        out.append(losses)
    return out
