"""Geometry for the hand-written SVG charts: scales, ticks and path strings. Numbers in, strings of numbers
out, so nothing a student wrote can ever reach an SVG attribute through here."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass


@dataclass
class Frame:
    """A plot area inside a width x height viewBox, mapping data (x0..x1, y0..y1) to pixels."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    x0: float = 0.0
    x1: float = 1.0
    y0: float = 0.0
    y1: float = 1.0

    def x(self, v: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return round(self.left + (v - self.x0) / span * (self.width - self.left - self.right), 1)

    def y(self, v: float) -> float:
        v = min(max(v, self.y0), self.y1)  # values off the scale sit on its edge
        span = (self.y1 - self.y0) or 1.0
        return round(self.height - self.bottom - (v - self.y0) / span * (self.height - self.top - self.bottom), 1)

    @property
    def plot_top(self) -> int:
        return self.top

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k at or above value."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power


def ticks(top: float, count: int = 4) -> list[float]:
    step = nice_ceiling(top / count)
    return [round(i * step, 10) for i in range(int(top / step + 1e-9) + 1)]


def label(value: float) -> str:
    return f"{value:g}" if abs(value) >= 0.01 or value == 0 else f"{value:.1e}"


def epoch_positions(count: int, starts: list[int], per_point: int = 1) -> list[float]:
    """x of each point in epochs (epoch 1 spans 0..1): a step's place inside its own epoch, so runs with
    different batch sizes line up epoch by epoch."""
    steps = count * per_point
    starts = [s for s in starts if 0 <= s < max(steps, 1)]
    if not starts or starts[0] != 0:
        starts = [0] + starts  # steps before the first epoch (rare) share the first column
    bounds = starts + [steps]
    xs = []
    for p in range(count):
        step = p * per_point + (per_point - 1) / 2
        e = max(0, bisect.bisect_right(starts, step) - 1)
        length = max(bounds[e + 1] - bounds[e], 1)
        xs.append(e + (step - bounds[e] + 0.5) / length)
    return xs


def line(frame: Frame, xs: list[float], ys: list[float | None]) -> str:
    """A polyline as a path; None leaves a gap."""
    parts, pen_down = [], False
    for x, y in zip(xs, ys):
        if y is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{frame.x(x)} {frame.y(y)}")
        pen_down = True
    return "".join(parts)


def band(frame: Frame, xs: list[float], lows: list[float | None], highs: list[float | None]) -> str:
    """A filled band between lows and highs; None splits it."""
    out, run = [], []
    for x, lo, hi in [*zip(xs, lows, highs), (None, None, None)]:
        if lo is None or hi is None:
            if len(run) > 1:
                top = "L".join(f"{frame.x(px)} {frame.y(ph)}" for px, _, ph in run)
                bottom = "L".join(f"{frame.x(px)} {frame.y(pl)}" for px, pl, _ in reversed(run))
                out.append(f"M{top}L{bottom}Z")
            run = []
            continue
        run.append((x, lo, hi))
    return "".join(out)


def thin(values: list[float | None], most: int) -> list[float | None]:
    """At most `most` points: the mean of each group (for the class overlay, where hundreds of curves meet)."""
    if len(values) <= most:
        return list(values)
    size = math.ceil(len(values) / most)
    out = []
    for i in range(0, len(values), size):
        chunk = [v for v in values[i : i + size] if v is not None]
        out.append(sum(chunk) / len(chunk) if chunk else None)
    return out
