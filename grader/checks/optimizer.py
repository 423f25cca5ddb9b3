"""optimizer: the parameters were updated by torch.optim.Adam, judged by its effect.

The optimizer judged is the one that stepped most (a demonstration step on a throw-away model does not count).
It must be torch.optim.Adam itself (by identity; AdamW and look-alikes are other optimizers), the steps the host
replayed (grader/replay.py) must move the parameters exactly as Adam's update rule does from that step's
gradients and state, nothing else may change the parameters between its steps, and its own state must count the
steps that were observed.
"""

from __future__ import annotations

from grader.checks.base import Context, Outcome, plural

ADAM_FIX = "create optimizer = torch.optim.Adam(model.parameters(), lr=0.001) and call optimizer.step() each batch"


def check_optimizer(ctx: Context) -> Outcome:
    created = {o["opt"]: o for o in ctx.trace.of("optimizer")}
    steps = ctx.trace.of("step")
    if not created:
        return Outcome(False, "no torch.optim optimizer was created (parameters were not updated by one)", ADAM_FIX)
    if not steps:
        names = ", ".join(sorted({o["cls"] for o in created.values()}))
        return Outcome(False, f"{names} was created but optimizer.step() was never called", ADAM_FIX)
    counts: dict[int, int] = {}
    for s in steps:
        counts[s["opt"]] = counts.get(s["opt"], 0) + 1
    main = max(counts, key=lambda o: (counts[o], o))
    opt = created.get(main, {"cls": "an optimizer", "module": "?", "is_adam": False})
    mine = [s for s in steps if s["opt"] == main]
    lrs = sorted({s["lr"] for s in mine if s.get("lr") is not None})
    evidence = {"optimizer": opt["cls"] if opt["is_adam"] else f"{opt['cls']} ({opt['module']})",
                "steps": len(mine), "lr": lrs[0] if len(lrs) == 1 else lrs}
    if len(counts) > 1:
        evidence["other_optimizers"] = {created.get(o, {}).get("cls", "?"): n for o, n in counts.items() if o != main}
    judged = (f"the optimizer that made most steps ({len(mine)} of {len(steps)})" if len(counts) > 1 else "")
    if not opt["is_adam"]:
        why = {"AdamW": "; AdamW is a different optimizer (decoupled weight decay), even though it is Adam-like",
               "Adam": f"; this Adam comes from {opt['module']}, not torch.optim"}.get(opt["cls"], "")
        where = ctx.fact_hint("optimizer", lambda f: f" ({ctx.where(f.line)}: `{f.text}`)",
                              suspect=lambda f: f.value["name"] != "Adam") or ""
        return Outcome(False, f"the steps were made by {opt['cls']}{where}, not torch.optim.Adam{why}", ADAM_FIX,
                       evidence)
    replayed = ctx.verification.of(main) if ctx.verification is not None else []
    if replayed:
        evidence["replayed_steps"] = {str(s["n"]): "Adam's rule" if s["adam"] else "another rule" for s in replayed}
    broken = [s for s in replayed if s["adam"] is False]
    if broken:
        return Outcome(False, f"{judged or 'the Adam object'}'s steps did not move the parameters the way Adam's "
                              f"update rule does ({len(broken)} of {len(replayed)} replayed steps differ): another "
                              "update rule ran on it", ADAM_FIX, evidence)
    if ctx.verification is not None and not replayed and len(mine) > 1:
        why = "; ".join(ctx.verification.notes[:1])
        return Outcome(False, "could not verify that Adam's rule made the steps: none of them could be replayed"
                              + (f" ({why})" if why else ""),
                       "train the network with loss.backward() and optimizer.step() on each batch", evidence)
    outside = [s for s in mine + replayed if s.get("outside")]
    if outside:
        return Outcome(False, "the parameters were changed between Adam's steps by something other than the "
                              "optimizer (a manual update of the weights), so Adam did not do the training",
                       "let optimizer.step() make every update; remove the manual change of the parameters",
                       evidence)
    probed = [s for s in mine + replayed if "grads_zero" in s]
    emptied = bool(probed) and all(s["grads_zero"] for s in probed)
    # measured values where steps were sampled; the version counter (bumped even by lr=0) only otherwise
    sampled = [s for s in mine if s.get("moved") is not None] + replayed
    moved = any((s.get("moved") or 0) > 0 for s in sampled) if sampled else any(s.get("changed") for s in mine)
    if not moved and not emptied:
        why = f" (its learning rate is {lrs[0]:g})" if len(lrs) == 1 and lrs[0] == 0 else ""
        return Outcome(False, f"optimizer.step() ran {plural(len(mine), 'time')} but never changed a parameter{why}",
                       "pass model.parameters() to the optimizer with lr=0.001, and call loss.backward() before "
                       "optimizer.step()", evidence)
    summary = next((e for e in ctx.trace.of("optimizer_end") if e.get("opt") == main), None)
    if summary and summary.get("state_steps") is not None and summary["state_steps"] < summary.get("steps", 0):
        return Outcome(False, f"Adam's own state counts {summary['state_steps']} steps, but {summary['steps']} "
                              "were observed: its step function was bypassed", ADAM_FIX, evidence)
    if (ctx.trace.model or {}).get("stepped_by") == 0 and (ctx.trace.model or {}).get("found"):
        return Outcome(False, "the optimizer stepped parameters that do not belong to the trained network",
                       "give the optimizer the parameters of the model you train: Adam(model.parameters(), ...)",
                       evidence)
    lr = f" (lr {lrs[0]:g})" if len(lrs) == 1 else ""
    checked = f", {len(replayed)} of them replayed and checked against Adam's rule" if replayed else ""
    return Outcome(True, f"torch.optim.Adam{lr} made {len(mine)} steps{checked}"
                         + (f"; judged {judged}" if judged else ""), None, evidence)
