"""zero_grad: each optimizer step used only the gradients of its own batch(es).

Judged by the gradients themselves, whatever cleared them (zero_grad, set_to_none, p.grad = None): the first
backward() after each step must find the gradients clear. Later backwards before the next step accumulate on
purpose (gradient accumulation) and are fine. Clearing between backward() and step() leaves the step nothing to
use, which the step itself shows (its gradients were all zero).
"""

from __future__ import annotations

from grader.checks.base import Context, Outcome

HINT = "call optimizer.zero_grad() at the start of every iteration, before loss.backward()"


def check_zero_grad(ctx: Context) -> Outcome:
    events = [e for e in ctx.trace.events if e.get("e") in ("backward", "step")]
    backwards = [e for e in events if e["e"] == "backward"]
    if not backwards:
        return Outcome(False, "no backward pass was observed", HINT)
    firsts, after_step = [], True
    for e in events:
        if e["e"] == "step":
            after_step = True
        elif after_step:
            after_step = False
            if e.get("cleared") is not None:
                firsts.append(e)
    emptied = [s for s in ctx.trace.of("step") if s.get("grads_zero")]
    evidence = {"backward_calls": len(backwards), "checked": len(firsts),
                "zero_grad_calls": len(ctx.trace.of("zero_grad")), "steps_with_zero_gradients": len(emptied)}
    if emptied:
        return Outcome(False, "the gradients were cleared between loss.backward() and optimizer.step(), so the "
                              f"steps had nothing to apply ({len(emptied)} checked steps saw only zero gradients)",
                       "move optimizer.zero_grad() before loss.backward(): zero_grad → forward → loss → backward → "
                       "step", evidence)
    if not firsts:
        return Outcome(False, "no optimizer held the parameters that backward() reached, so gradient clearing "
                              "could not be observed", "create the optimizer before the training loop", evidence)
    stale = [b for b in firsts if not b["cleared"]]
    evidence["stale"] = len(stale)
    if not stale:
        return Outcome(True, f"the gradients were clear at the start of each of the {len(firsts)} optimizer steps' "
                             "backward passes", None, evidence)
    hint = HINT + ("" if ctx.facts.of("zero_grad") else " (the file never calls zero_grad)")
    return Outcome(False, f"old gradients were still there at {len(stale)} of {len(firsts)} steps' first backward "
                          "pass, so each step used gradients summed over earlier batches", hint, evidence)
