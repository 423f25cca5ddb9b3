"""loss: which loss drove the backward passes."""

from __future__ import annotations

from grader.checks.base import Context, Outcome


LOSS_NAMES = {"cross_entropy": "CrossEntropyLoss", "nll": "NLLLoss", "mse": "MSELoss", "l1": "L1Loss",
              "bce": "BCELoss", "bce_with_logits": "BCEWithLogitsLoss", "unknown": "a hand-written loss"}


MIN_SHARE = 0.5  # the cross-entropy terms must carry at least this share of what is back-propagated


def check_loss(ctx: Context) -> Outcome:
    backwards = ctx.trace.of("backward")
    if not backwards:
        return Outcome(False, "loss.backward() was never called", "compute loss = criterion(outputs, labels) and "
                       "call loss.backward() for every batch")
    kinds = ctx.trace.loss_kinds
    evidence = {"backward_calls": len(backwards), "loss_kinds": dict(kinds)}
    without_ce = [b for b in backwards if "cross_entropy" not in (b.get("kinds") or [])]
    shares = [b["ce_share"] for b in backwards if isinstance(b.get("ce_share"), (int, float))]
    if not without_ce and shares and min(shares) < MIN_SHARE:
        others = sorted({k for b in backwards for k in b.get("kinds") or [] if k != "cross_entropy"})
        rest = " and ".join(LOSS_NAMES.get(k, k) for k in others) or "a hand-written term"
        evidence["cross_entropy_share"] = min(shares)
        return Outcome(False, f"cross-entropy is part of the back-propagated loss but carries only "
                              f"{min(shares):.1%} of it; {rest} does the training",
                       "back-propagate the cross-entropy loss itself (a small regulariser added to it is fine)",
                       evidence)
    if not without_ce:
        via_nll = any(e.get("kind") == "nll" and e.get("log_probs") for e in ctx.trace.of("loss"))
        how = "log_softmax + NLLLoss (which is cross-entropy)" if via_nll else "Cross-entropy"
        return Outcome(True, f"{how} drove all {len(backwards)} backward passes", None, evidence)
    main = ctx.trace.loss_kinds.most_common(1)[0][0]
    name = LOSS_NAMES.get(main, main)
    fix = "use criterion = nn.CrossEntropyLoss() on the model's raw outputs (logits) and the integer labels"
    if main == "nll":
        return Outcome(False, "NLLLoss on raw outputs drove training: without log_softmax it is not a valid "
                              "classification loss", fix, evidence)
    where = ctx.fact_hint("loss", lambda f: f" ({ctx.where(f.line)}: `{f.text}`)",
                          suspect=lambda f: f.value not in ("CrossEntropyLoss", "cross_entropy")) or ""
    return Outcome(False, f"{name} drove {len(without_ce)} of {len(backwards)} backward passes{where}; "
                          "classifying 10 digits needs CrossEntropyLoss", fix, evidence)
