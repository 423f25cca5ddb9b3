"""A loss sparkline for the terminal: one block character per epoch, lower is better."""

from __future__ import annotations

import math

from grader.report import Report

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None], low: float | None = None, high: float | None = None) -> str:
    """Blocks scaled between low and high (default: the values' own range); a gap for a missing value,
    '!' for one that is not a finite number."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return ""
    low = min(finite) if low is None else low
    high = max(finite) if high is None else high
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif not math.isfinite(v):
            out.append("!")
        else:
            share = (min(max(v, low), high) - low) / (high - low) if high > low else 0.5
            out.append(BLOCKS[min(len(BLOCKS) - 1, int(share * len(BLOCKS)))])
    return "".join(out)


def loss_line(report: Report) -> str | None:
    """'Loss per epoch  █▅▃▂▂▁▁▁▁▁  2.07 → 0.21 (reference ends at 0.19)', or None without epochs."""
    losses = report.training.epoch_losses
    if not losses:
        return None
    ref = report.reference_curve
    ref_end = None
    if ref and ref.mean:
        tail = ref.mean[-max(1, len(ref.mean) // max(1, len(ref.epoch_starts) or 10)):]
        ref_end = sum(tail) / len(tail)
    scale = [v for v in losses if math.isfinite(v)] + ([ref_end] if ref_end is not None else [])
    line = sparkline(losses, low=0.0, high=max(scale) if scale else None)
    text = f"Loss per epoch  {line}  {losses[0]:.3g} → {losses[-1]:.3g}"
    if ref_end is not None:
        text += f" (the reference ends near {ref_end:.2g})"
    return text
