"""Every loss computed, what each backward() ran on, how much of it was cross-entropy, and whether the
gradients it reaches were clear."""

from __future__ import annotations

import functools
import sys

import torch

from grader.harness.watch.data import batch_size_of

LOSS_KINDS = {
    "cross_entropy": "cross_entropy",
    "nll_loss": "nll",
    "mse_loss": "mse",
    "l1_loss": "l1",
    "smooth_l1_loss": "smooth_l1",
    "huber_loss": "huber",
    "binary_cross_entropy": "bce",
    "binary_cross_entropy_with_logits": "bce_with_logits",
    "kl_div": "kl_div",
    "poisson_nll_loss": "poisson_nll",
    "gaussian_nll_loss": "gaussian_nll",
    "multi_margin_loss": "multi_margin",
    "multilabel_margin_loss": "multilabel_margin",
    "multilabel_soft_margin_loss": "multilabel_soft_margin",
    "soft_margin_loss": "soft_margin",
    "hinge_embedding_loss": "hinge_embedding",
}


def _leaves_behind(root, limit: int = 5000) -> list:
    """The leaf tensors (parameters) whose gradients a backward from `root` accumulates into."""
    found, seen, stack = [], set(), [getattr(root, "grad_fn", None)]
    while stack and len(seen) < limit:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        var = getattr(node, "variable", None)
        if isinstance(var, torch.Tensor):
            found.append(var)
        stack.extend(fn for fn, _ in getattr(node, "next_functions", ()))
    return found


def _cross_entropy_share(root, hits) -> float | None:
    """How much of the back-propagated value the cross-entropy terms carry: each recorded loss L_i contributes
    (d root / d L_i) * L_i; a hand-written rest is root minus those. `mse + 0 * ce` gives 0, `ce + 1e-5 * l2`
    about 1, `loss / k` (gradient accumulation) exactly 1."""
    if root.numel() != 1 or not root.requires_grad:
        return None
    tensors = [h[5] for h in hits]
    grads = torch.autograd.grad(root, tensors, retain_graph=True, allow_unused=True)
    contrib = [0.0 if g is None else float((g.detach() * t.detach()).sum()) for g, t in zip(grads, tensors)]
    rest = float(root.detach()) - sum(contrib)
    total = sum(abs(c) for c in contrib) + abs(rest)
    ce = sum(abs(c) for c, h in zip(contrib, hits) if h[2] == "cross_entropy")
    return round(ce / total, 6) if total > 0 else None


class LossWatch:
    script: str | None = None  # the submission's file, whose frames say where in it each backward() ran
    _last_where: list[int] | None = None

    def _where_in_script(self) -> list[int] | None:
        """The submission's lines on the stack, outermost first: the host tells a stop inside the training loop
        from one after it by whether a loop holds both the stop and these lines."""
        lines, frame = [], sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.script:
                lines.append(frame.f_lineno)
            frame = frame.f_back
        return lines[::-1] or None

    def _wrap_loss(self, original, kind: str):
        inst = self

        @functools.wraps(original)
        def loss(*args, **kwargs):
            # one call, one event: a loss computed inside another (nll inside cross_entropy, or the same call
            # re-dispatched through a TorchFunctionMode while a tape records) is not a loss of its own
            if getattr(inst.tls, "in_loss", False):
                return original(*args, **kwargs)
            inst.tls.in_loss = True
            try:
                out = original(*args, **kwargs)
                try:
                    inst._on_loss(kind, out, args, kwargs)
                except Exception:
                    pass
                return out
            finally:
                inst.tls.in_loss = False

        return loss

    def _on_loss(self, kind: str, out, args, kwargs) -> None:
        if not isinstance(out, torch.Tensor):
            return
        self.loss_seq += 1
        first = args[0] if args else kwargs.get("input")
        fields = {"loss": self.loss_seq, "kind": kind, "value": float(out.detach().float().mean()),
                  "bs": batch_size_of(first), "grad": bool(out.requires_grad),
                  "reduction": kwargs.get("reduction", "mean") if isinstance(kwargs.get("reduction", "mean"), str)
                  else "mean"}
        if self.current_pass:  # the pass it was computed in: a loss logged beside a batch belongs to that epoch
            fields["in_pass"] = list(self.current_pass)
        if kind == "nll" and isinstance(first, torch.Tensor) and first.dim() == 2 and first.numel():
            # log-probabilities by what they are, however they were computed: each row's exp sums to 1
            fields["log_probs"] = bool((first.detach().float().logsumexp(dim=1).abs() < 1e-3).all())
        if out.grad_fn is not None:
            kind_ce = kind == "cross_entropy" or (kind == "nll" and fields.get("log_probs"))
            self.losses[id(out.grad_fn)] = (out.grad_fn, self.loss_seq, "cross_entropy" if kind_ce else kind,
                                            fields["bs"], fields["value"], out)
            if len(self.losses) > 256:  # keep the newest; the objects are held so ids are not reused meanwhile
                self.losses.pop(next(iter(self.losses)))
        self.rec.emit("loss", **fields)

    def _losses_behind(self, tensor) -> list[tuple]:
        """Recorded losses that the tensor's autograd graph reaches (a loss, or a sum like loss + l2)."""
        start = getattr(tensor, "grad_fn", None)
        if start is None:
            return []
        found, seen, frontier = [], set(), [start]
        while frontier and len(seen) < 64:
            node = frontier.pop(0)
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            hit = self.losses.get(id(node))
            if hit is not None and hit[0] is node:
                found.append(hit)
                continue
            frontier.extend(fn for fn, _ in getattr(node, "next_functions", ()))
        return found

    def _optimizer_params(self) -> set[int]:
        return {id(p) for opt in list(self.optimizers) for g in opt.param_groups for p in g["params"]}

    def _grads_cleared(self, root) -> bool | None:
        """Were the gradients of the parameters this backward reaches (and an optimizer holds) all clear?
        Only those: a throw-away model's stale gradients say nothing about the loop being graded."""
        held = self._optimizer_params()
        reached = [p for p in _leaves_behind(root) if id(p) in held]
        if not reached:
            return None
        return not any(p.grad is not None and bool(p.grad.detach().ne(0).any()) for p in reached)

    def _wrap_backward(self, original, tensor_method: bool):
        inst = self

        @functools.wraps(original)
        def backward(*args, **kwargs):
            if getattr(inst.tls, "in_backward", False):
                return original(*args, **kwargs)
            inst.tls.in_backward = True
            try:
                targets = args[0] if args else kwargs.get("tensors")
                if tensor_method or isinstance(targets, torch.Tensor):
                    targets = [targets]
                inst.backward_no += 1
                for t in targets or ():
                    inst.watch.before_backward(t, inst.backward_no, inst._optimizer_params())
                    inst._on_backward(t)
                result = original(*args, **kwargs)
                inst.watch.after_backward(inst.backward_no)
                return result
            finally:
                inst.tls.in_backward = False

        return backward

    def _on_backward(self, tensor) -> None:
        try:
            hits = self._losses_behind(tensor)
            if len(hits) == 1 and hits[0][0] is tensor.grad_fn:  # backward on the loss itself: value known
                value = hits[0][4]
            else:
                value = float(tensor.detach().float().mean()) if tensor.numel() else None
            extra = {}
            where = self._where_in_script()
            if where != self._last_where:  # recorded when it changes: a training loop repeats it
                extra["at"] = self._last_where = where
            if hits and (self.backward_no <= 3 or self.backward_no % 25 == 0):
                extra["ce_share"] = _cross_entropy_share(tensor, hits)
            self.rec.emit("backward", **extra, losses=[h[1] for h in hits], kinds=sorted({h[2] for h in hits}),
                          value=value, bs=hits[0][3] if hits else None, cleared=self._grads_cleared(tensor),
                          in_pass=list(self.current_pass) if self.current_pass else None)
        except Exception as exc:
            self.rec.emit("note", text=f"backward not recorded: {exc}")
