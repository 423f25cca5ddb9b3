"""A class of reports for the class-page tests: real graded reports, varied the way a real class varies
(loss curves a little higher or lower, noisier, a few steps cut short; accuracies up or down), so the
dashboard is tested on real data at class scale without grading hundreds of files."""

from __future__ import annotations

import random

from grader import curve
from grader.report import (CheckResult, LossCurve, Output, ReferenceCurve, Report, Sandbox, Source, Status,
                           SubmissionInfo, Training)


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


def sample_report(text: str = "plain", epoch_losses=(2.0, 1.0), source: str = "import torch\nx = 1\n") -> Report:
    """A small hand-built report with `text` in every string field (the hostile-text tests pass markup)."""
    checks = [CheckResult(id=cid, title=f"{cid} {text}", passed=cid != "runs" and cid != "zero_grad",
                          points=0 if cid in ("runs", "zero_grad") else 10, max_points=10,
                          message=f"line 2 says {text}", hint=None if cid not in ("runs", "zero_grad") else f"hint {text}",
                          evidence={"lineno": 2, "note": text} if cid == "runs" else
                          {"epochs": [{"epoch": 1, "lines": 1, "example": text}, {"epoch": 2, "lines": 0}]}
                          if cid == "prints_loss_each_epoch" else {})
              for cid in ("runs", "architecture", "loss", "optimizer", "epochs", "prints_loss_each_epoch",
                          "zero_grad", "learns")]
    confusion = [[90 if t == p else 1 for p in range(10)] for t in range(10)]
    return Report(
        submission=SubmissionInfo(path=f"{text}/{text}.py", name=f"{text}.py", sha256=text), status=Status.runtime_error,
        message=text, score=60, max_score=80, checks=checks,
        training=Training(epochs=2, epoch_losses=list(epoch_losses), accuracy=0.5, device=text,
                          per_digit_accuracy=curve.per_digit_accuracy(confusion), confusion=confusion),
        output=Output(stdout_tail=f"{text}\nEpoch 1 loss 2.0\n{text}\n"), warnings=[text],
        sandbox=Sandbox(backend=text, isolated=True),
        curve=LossCurve(steps=6, mean=[2.0, 1.5, None, 1.0, 0.8, 0.6], epoch_starts=[0, 3]),
        reference_curve=ReferenceCurve(digest=text, steps=6, per_point=2, low=[1.5, 1.0, 0.5], mean=[1.8, 1.1, 0.6],
                                       high=[2.0, 1.2, 0.7], epoch_starts=[0, 3], accuracy=0.9),
        source=Source(text=f"{source}# {text}\n"))
