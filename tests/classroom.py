"""A class of reports for the class-page tests: real graded reports, varied the way a real class varies
(loss curves a little higher or lower, noisier, a few steps cut short; accuracies up or down), so the
dashboard is tested on real data at class scale without grading hundreds of files."""

from __future__ import annotations

import random

from grader.report import Report


def vary(base: Report, n: int, rng: random.Random) -> Report:
    rep = base.model_copy(deep=True)
    rep.submission.name = rep.submission.path = f"student{n:03d}.py"
    if rep.curve:
        scale = rng.uniform(0.85, 1.2)
        noise = rng.uniform(0.0, 0.08)

        def jitter(v):
            return None if v is None else float(f"{max(0.0, v * scale * (1 + rng.uniform(-noise, noise))):.5g}")

        rep.curve.mean = [jitter(v) for v in rep.curve.mean]
        rep.curve.low = [jitter(v) for v in rep.curve.low]
        rep.curve.high = [jitter(v) for v in rep.curve.high]
        rep.training.epoch_losses = [round(v * scale, 4) for v in rep.training.epoch_losses]
    if rep.training.accuracy is not None:
        rep.training.accuracy = min(1.0, max(0.0, rep.training.accuracy + rng.uniform(-0.03, 0.03)))
    return rep


def classroom(bases: list[Report], size: int, seed: int = 0) -> list[tuple[str, Report]]:
    """`size` students: each base report once as graded, then varied copies of them in turn."""
    rng = random.Random(seed)
    out = [(f"student{n:03d}", base) for n, base in enumerate(bases)]
    while len(out) < size:
        n = len(out)
        out.append((f"student{n:03d}", vary(bases[n % len(bases)], n, rng)))
    return out[:size]
