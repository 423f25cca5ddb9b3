"""learns: held-out accuracy of the trained model."""

from __future__ import annotations

from grader.checks.base import Context, Outcome


NEAR = 0.2  # a failing accuracy this close below the threshold may be an artifact of the shortened training set


def check_learns(ctx: Context) -> Outcome:
    need = ctx.rubric.accuracy_threshold
    ev, model = ctx.evaluation, ctx.trace.model or {}
    if not model.get("found"):
        return Outcome(False, "no network with parameters was found to evaluate",
                       "build the network and train it with the optimizer; the grader evaluates what was trained")
    if ev is None or ev.accuracy is None:
        why = model.get("export_error") or (ev.error if ev else None) or "the run ended before the model could be saved"
        return Outcome(False, f"could not evaluate the trained network: {why}",
                       "the grader could not rebuild the network from what it observed, so held-out accuracy is "
                       "unknown (not 0 %); ask your instructor to look at this submission",
                       {"error": why, "needs_review": True})
    evidence = {"accuracy": round(ev.accuracy, 4), "eval_examples": ev.examples, "threshold": need,
                "preprocessing": model.get("preprocess")}
    text = f"{ev.accuracy:.2%} accuracy on {ev.examples:,} held-out test images (needs {need:.0%})"
    if ev.accuracy >= need:
        return Outcome(True, text, None, evidence)
    lrs = [s.get("lr") for s in ctx.trace.of("step") if s.get("lr") is not None]
    losses = [e.mean_loss for e in ctx.complete if e.mean_loss is not None]
    trend = f"; its mean training loss went from {losses[0]:.3f} to {losses[-1]:.3f}" if len(losses) > 1 else ""
    if lrs and max(lrs) >= 0.1:
        hint = f"this program's learning rate, {max(lrs):g}, is far too large for Adam (the exercise uses 0.001)"
    elif any(s.get("grads_zero") for s in ctx.trace.of("step")) or \
            any(not b.get("cleared", True) for b in ctx.trace.of("backward")):
        hint = "the steps did not use this batch's gradients alone (see zero_grad), so the network barely learned"
    elif lrs and max(lrs) < 1e-5:
        hint = f"this program's learning rate, {max(lrs):g}, is too small to learn in 10 epochs (the exercise uses 0.001)"
    elif not ctx.trace.of("step"):
        hint = "optimizer.step() was never called, so the network never changed"
    else:
        hint = "check the loss, the learning rate and that every batch trains" + trend
    out = Outcome(False, text + (" — about chance" if ev.accuracy < 0.2 else ""), hint, evidence)
    if ev.accuracy >= need - NEAR:  # more data per epoch could carry it over the line: the full-size run decides
        out.shortening_sensitive = True
        out.shortening_reason = f"held-out accuracy {ev.accuracy:.1%} is within {NEAR:.0%} of the threshold"
    return out
