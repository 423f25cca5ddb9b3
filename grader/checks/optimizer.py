"""optimizer: who updated the parameters."""

from __future__ import annotations

from grader.checks.base import Context, Outcome, plural


def check_optimizer(ctx: Context) -> Outcome:
    created = {o["opt"]: o for o in ctx.trace.of("optimizer")}
    steps = ctx.trace.of("step")
    adam_fix = "create optimizer = torch.optim.Adam(model.parameters(), lr=0.001) and call optimizer.step() each batch"
    if not created:
        return Outcome(False, "no torch.optim optimizer was created (parameters were not updated by one)", adam_fix)
    if not steps:
        names = ", ".join(sorted({o["cls"] for o in created.values()}))
        return Outcome(False, f"{names} was created but optimizer.step() was never called", adam_fix)
    stepping = {s["opt"] for s in steps}
    classes = {created[o]["cls"] + ("" if created[o]["is_adam"] else f" ({created[o]['module']})")
               for o in stepping if o in created}
    lrs = sorted({s["lr"] for s in steps if s.get("lr") is not None})
    evidence = {"optimizers": sorted(classes), "steps": len(steps), "lr": lrs[0] if len(lrs) == 1 else lrs}
    not_adam = [created[o] for o in stepping if o in created and not created[o]["is_adam"]]
    if not_adam:
        bad = not_adam[0]
        why = {"AdamW": "AdamW is a different optimizer (decoupled weight decay), even though it is Adam-like",
               "Adam": f"this Adam comes from {bad['module']}, not torch.optim"}.get(bad["cls"], "")
        where = ctx.fact_hint("optimizer", lambda f: f" ({ctx.where(f.line)}: `{f.text}`)",
                              suspect=lambda f: f.value["name"] != "Adam") or ""
        return Outcome(False, f"the steps were made by {bad['cls']}{where}, not torch.optim.Adam"
                              + (f"; {why}" if why else ""), adam_fix, evidence)
    if not any(s.get("changed") for s in steps):
        return Outcome(False, f"optimizer.step() ran {plural(len(steps), 'time')} but never changed a parameter",
                       "pass model.parameters() to the optimizer, and call loss.backward() before optimizer.step()",
                       evidence)
    share = (ctx.trace.model or {}).get("stepped_share")
    if share == 0:
        return Outcome(False, "the optimizer stepped parameters that do not belong to the trained model",
                       "give the optimizer the parameters of the model you train: Adam(model.parameters(), ...)",
                       evidence)
    lr = f" (lr {lrs[0]:g})" if len(lrs) == 1 else ""
    return Outcome(True, f"torch.optim.Adam{lr} made {len(steps)} steps that updated the model", None, evidence)
