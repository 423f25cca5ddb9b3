"""What the pictures draw, taken from what the grader observed: the loss of each training step with the
epochs' boundaries, the held-out accuracy of each digit, and the script that ran.

Pure functions over the trace and the evaluator's answer; rendering (grader/html.py, grader/spark.py) only
ever reads the report these end up in.
"""

from __future__ import annotations

import math

from grader.report import LossCurve, ReferenceCurve, Source
from grader.trace import Epoch, Trace

MAX_POINTS = 500  # a default run (10 epochs of 47 batches) keeps every step; longer runs are bucketed
BAND_POINTS = 120  # the reference band: min/max over a few steps each, smooth enough to read as a band
SOURCE_CHARS = 100_000
SOURCE_LINES = 3000


def _finite(value) -> float | None:
    if isinstance(value, str):  # the harness records "nan"/"inf" as strings
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(f"{value:.5g}")  # 5 significant digits: plenty for a picture, small in JSON


def loss_curve(trace: Trace, epochs: list[Epoch], max_points: int = MAX_POINTS) -> LossCurve | None:
    """The loss of every backward pass, in order; bucketed to min/mean/max when there are too many."""
    backwards = trace.of("backward")
    if not backwards:
        return None
    values = [_finite(b.get("value")) for b in backwards]
    position = {b["i"]: n for n, b in enumerate(backwards) if "i" in b}
    starts = [position[ep.backwards[0]["i"]] for ep in epochs if ep.backwards and ep.backwards[0].get("i") in position]
    per_point = max(1, math.ceil(len(values) / max_points))
    if per_point == 1:
        return LossCurve(steps=len(values), mean=values, epoch_starts=starts)
    low, mean, high = _buckets(values, per_point)
    return LossCurve(steps=len(values), per_point=per_point, mean=mean, low=low, high=high, epoch_starts=starts)


def _buckets(values: list[float | None], size: int) -> tuple[list, list, list]:
    low, mean, high = [], [], []
    for start in range(0, len(values), size):
        chunk = [v for v in values[start : start + size] if v is not None]
        if not chunk:  # every step in the bucket was nan/inf: leave a gap
            low.append(None), mean.append(None), high.append(None)
            continue
        low.append(min(chunk)), high.append(max(chunk))
        mean.append(float(f"{sum(chunk) / len(chunk):.5g}"))
    return low, mean, high


def reference_band(curve: LossCurve, digest: str, accuracy: float | None, points: int = BAND_POINTS) -> ReferenceCurve:
    """The reference run's curve as a band: min and max over buckets of a few steps."""
    values = curve.mean  # every step, or the bucket means of a long run
    size = max(1, math.ceil(len(values) / points))
    low, mean, high = _buckets(values, size)
    keep = [i for i, v in enumerate(mean) if v is not None]  # the reference never diverges; be safe anyway
    return ReferenceCurve(digest=digest, steps=curve.steps, per_point=size * curve.per_point,
                          low=[low[i] for i in keep], mean=[mean[i] for i in keep], high=[high[i] for i in keep],
                          epoch_starts=curve.epoch_starts, accuracy=accuracy)


def per_digit_accuracy(confusion: list[list[int]] | None) -> list[float | None]:
    """Accuracy of each digit from the confusion matrix's rows (None for a digit with no test image)."""
    if not _is_confusion(confusion):
        return []
    return [round(row[d] / sum(row), 4) if sum(row) else None for d, row in enumerate(confusion)]


def confusion_matrix(confusion) -> list[list[int]]:
    """The evaluator's matrix if it is one (10 rows of 10 counts), else nothing."""
    return [list(row) for row in confusion] if _is_confusion(confusion) else []


def _is_confusion(value) -> bool:
    return (isinstance(value, list) and len(value) == 10 and
            all(isinstance(row, list) and len(row) == 10 and all(isinstance(n, int) and n >= 0 for n in row)
                for row in value))


def source_of(text: str, cells: list[tuple[int, int]] | None = None) -> Source:
    """The script that ran, capped; for notebooks, where each code cell begins."""
    lines = text.splitlines(keepends=True)
    kept = "".join(lines[:SOURCE_LINES])[:SOURCE_CHARS]
    starts = [(n, cell) for n, (cell, line) in enumerate(cells or [], start=1) if line == 1]
    return Source(text=kept, truncated=len(kept) < len(text), cell_starts=starts)
