"""Optimizers created (class by identity), their steps, and Adam judged by its effect (see harness/adam.py)."""

from __future__ import annotations

import functools

import torch
from torch.optim import optimizer as optim_hooks

from grader.harness import adam, evidence


class OptimizerWatch:
    def _wrap_optimizers(self) -> None:
        # held in this closure, not in a module global that one line of submission code could rebind
        inst, base, real_adam = self, torch.optim.Optimizer, torch.optim.Adam
        original_init, original_zero = base.__init__, base.zero_grad

        @functools.wraps(original_init)
        def __init__(opt, *args, **kwargs):
            original_init(opt, *args, **kwargs)
            if opt not in inst.optimizers:
                inst.optimizers[opt] = {"id": len(inst.optimizers) + 1, "steps": 0, "versions": None}
                cls = type(opt)
                lr = opt.defaults.get("lr")
                inst.rec.emit("optimizer", opt=inst.optimizers[opt]["id"], cls=cls.__name__, module=cls.__module__,
                              is_adam=cls is real_adam, lr=float(lr) if lr is not None else None,
                              params=sum(len(g["params"]) for g in opt.param_groups))

        @functools.wraps(original_zero)
        def zero_grad(opt, *args, **kwargs):
            info = inst.optimizers.get(opt)
            inst.rec.emit("zero_grad", opt=info["id"] if info else None)
            return original_zero(opt, *args, **kwargs)

        base.__init__, base.zero_grad = __init__, zero_grad
        # every optimizer class's step goes through the hooks from the start, not only once an instance of
        # that class exists: torch.optim.SGD.step(adam) must be seen as a step of the Adam object
        for cls in vars(torch.optim).values():
            if isinstance(cls, type) and issubclass(cls, base) and cls is not base and \
                    "step" in vars(cls) and not getattr(cls.step, "hooked", False):
                cls.step = base.profile_hook_step(cls.step)
                cls.step.hooked = True
        optim_hooks.register_optimizer_step_pre_hook(self._pre_step)
        optim_hooks.register_optimizer_step_post_hook(self._post_step)

    def _pre_step(self, opt, args, kwargs) -> None:
        info = self.optimizers.get(opt)
        if info is None:
            return
        try:
            if info.get("after") is not None:  # taken after the previous (sampled) step
                info["outside"] = adam.changed_since(info["after"])
                info["after"] = None
            info["snap"] = adam.StepSnapshot(opt, self.backward_no > info.get("backward_at", 0)) \
                if info["steps"] + 1 in adam.SAMPLED else None
        except Exception:
            info["snap"] = None
        info["evidence"] = self._evidence_before(opt, info)
        info["versions"] = [(p, p._version, p.grad is not None) for g in opt.param_groups for p in g["params"]]

    def _post_step(self, opt, args, kwargs) -> None:
        info = self.optimizers.get(opt)
        if info is None or info["versions"] is None:
            return
        info["steps"] += 1
        info["backward_at"] = self.backward_no
        versions, info["versions"] = info["versions"], None
        first = versions[0][0] if versions else None
        lr = opt.param_groups[0].get("lr") if opt.param_groups else None
        fields = {}
        snap, info["snap"] = info.get("snap"), None
        if snap is not None:
            try:
                fields = {"moved": snap.moved(), "grads_zero": snap.grads_zero()}
                info["after"] = adam.take_values(opt)
            except Exception:
                pass
        if "outside" in info:
            fields["outside"] = info.pop("outside")
        self.rec.emit("step", opt=info["id"], n=info["steps"], changed=any(p._version != v for p, v, _ in versions),
                      had_grad=any(g for _, _, g in versions), lr=float(lr) if lr is not None else None,
                      device=str(first.device) if first is not None else None, **fields)
        taken, info["evidence"] = info.get("evidence"), None
        if taken is not None:
            try:
                self.rec.emit("evidence", force=True, opt=info["id"], n=info["steps"], **taken.fields())
            except Exception as exc:  # noqa: BLE001 - never break the submission; the host sees none
                self.rec.emit("note", text=f"step {info['steps']} could not be written down: {exc}"[:300])

    def _evidence_before(self, opt, info):
        """The step's evidence, when a tape window ended at one of its backward passes (see evidence.py)."""
        forward = self.watch.window
        if forward is None or forward.backward <= info.get("backward_at", 0):
            return None
        self.watch.window = None
        try:
            return evidence.StepEvidence(opt, forward)
        except Exception as exc:  # noqa: BLE001 - too large, or values that cannot be copied: the host is told
            return evidence.Unrecorded(forward.backward, f"{type(exc).__name__}: {exc}"[:200])

    def optimizer_summaries(self) -> None:
        """After the run: each optimizer's own count of Adam steps (its state), beside the steps observed."""
        for opt, info in list(self.optimizers.items()):
            try:
                self.rec.emit("optimizer_end", force=True, opt=info["id"], steps=info["steps"],
                              state_steps=adam.adam_state_steps(opt))
            except Exception:
                pass
