"""learns: held-out accuracy of the trained model."""

from __future__ import annotations

from grader.checks.base import Context, Outcome


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
