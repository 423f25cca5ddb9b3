"""loss: which loss drove the backward passes."""

from __future__ import annotations

from grader.checks.base import Context, Outcome


LOSS_NAMES = {"cross_entropy": "CrossEntropyLoss", "nll": "NLLLoss", "mse": "MSELoss", "l1": "L1Loss",
              "bce": "BCELoss", "bce_with_logits": "BCEWithLogitsLoss", "unknown": "a hand-written loss"}


def check_loss(ctx: Context) -> Outcome:
    backwards = ctx.trace.of("backward")
    if not backwards:
        return Outcome(False, "loss.backward() was never called", "compute loss = criterion(outputs, labels) and "
                       "call loss.backward() for every batch")
    kinds = ctx.trace.loss_kinds
    evidence = {"backward_calls": len(backwards), "loss_kinds": dict(kinds)}
    without_ce = [b for b in backwards if "cross_entropy" not in (b.get("kinds") or [])]
    if not without_ce:
        return Outcome(True, f"CrossEntropyLoss drove all {len(backwards)} backward passes", None, evidence)
    main = ctx.trace.loss_kinds.most_common(1)[0][0]
    name = LOSS_NAMES.get(main, main)
    fix = "use criterion = nn.CrossEntropyLoss() on the model's raw outputs (logits) and the integer labels"
    if main == "nll":
        log_probs = any(e.get("log_probs") for e in ctx.trace.of("loss") if e.get("kind") == "nll")
        if log_probs:
            return Outcome(False, "NLLLoss after log_softmax drove training: that is cross-entropy, but the exercise "
                                  "asks for CrossEntropyLoss", fix, evidence)
        return Outcome(False, "NLLLoss on raw outputs drove training: without log_softmax it is not a valid "
                              "classification loss", fix, evidence)
    where = ctx.fact_hint("loss", lambda f: f" ({ctx.where(f.line)}: `{f.text}`)",
                          suspect=lambda f: f.value not in ("CrossEntropyLoss", "cross_entropy")) or ""
    return Outcome(False, f"{name} drove {len(without_ce)} of {len(backwards)} backward passes{where}; "
                          "classifying 10 digits needs CrossEntropyLoss", fix, evidence)
