"""epochs: full passes over the training data."""

from __future__ import annotations

from grader.checks.base import Context, Outcome, plural


def check_epochs(ctx: Context) -> Outcome:
    want = ctx.rubric.epochs
    done, started = len(ctx.complete), len(ctx.epochs)
    size = ctx.trace.train_size
    batches = ctx.complete[0].batches if ctx.complete else None
    evidence = {"complete_passes": done, "passes_started": started, "batches_per_pass": batches,
                "train_examples": size, "examples_trained": ctx.trace.examples_trained}
    if size:
        evidence["passes_by_examples"] = round(ctx.trace.examples_trained / size, 2)
    of_what = f"the {size} training images" if size else "the training data"
    each = f" ({batches} batches each)" if batches else ""
    if done == want and started == want:
        return Outcome(True, f"{want} full passes over {of_what}{each}", None, evidence)
    stated = ctx.fact_hint("epochs", lambda f: f"{ctx.where(f.line)} sets `{f.text}`", suspect=lambda f: f.value != want)
    hint = f"train for exactly {want} epochs" + (f"; {stated}" if stated else "")
    if started == 0:
        return Outcome(False, "no training pass was observed (no backward() on training batches)", hint, evidence)
    partial = started - done
    if done == 0:
        return Outcome(False, f"no pass over {of_what} was completed (training stopped or broke out early)",
                       hint, evidence)
    extra = f", plus {plural(partial, 'unfinished pass')}" if partial else ""
    return Outcome(False, f"{plural(done, 'full pass')} over {of_what}{extra}; the exercise asks for {want}",
                   hint, evidence)
