"""zero_grad: gradients cleared before every backward."""

from __future__ import annotations

from grader.checks.base import Context, Outcome


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
