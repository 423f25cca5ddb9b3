"""prints_loss_each_epoch: the loss printed during each epoch."""

from __future__ import annotations

import bisect
import math
import re

from grader.checks.base import Context, Outcome
from grader.trace import Epoch


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
