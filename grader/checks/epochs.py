"""epochs: full passes over the training data (see grader/trace.py for how passes are recognised)."""

from __future__ import annotations

from grader.checks.base import Context, Outcome, plural
from grader.checks.runs import run_outcome, stopped_in_training

MNIST_TRAIN = 60000


def _of_what(ctx: Context, batches: int | None) -> str:
    """The training data, described without a size the student never had: the grader shortens the set, so
    its sizes and batch counts are always said to be the shortened run's."""
    served = ctx.trace.train_size
    size = next((e.size for e in ctx.complete or ctx.epochs if e.size), None) or served
    each = f", {batches} batches each" if batches else ""
    if not size:
        return "the training data" + (f" ({batches} batches each)" if batches else "")
    if size >= MNIST_TRAIN:
        return f"the {size:,} training images" + (f" ({batches} batches each)" if batches else "")
    if size == served:
        return f"the training set (shortened to {size:,} images for grading{each})"
    return f"the training data your loader iterates ({size:,} images in the shortened grading run{each})"


def check_epochs(ctx: Context) -> Outcome:
    want = ctx.rubric.epochs
    done, started = len(ctx.complete), len(ctx.epochs)
    size = ctx.trace.train_size
    batches = ctx.complete[0].batches if ctx.complete else None
    evidence = {"complete_passes": done, "passes_started": started, "batches_per_pass": batches,
                "pass_size": next((e.size for e in ctx.epochs if e.size), None),
                "train_examples": size, "examples_trained": ctx.trace.examples_trained}
    pass_size = evidence["pass_size"]
    if pass_size:
        evidence["passes_by_examples"] = round(ctx.trace.examples_trained / pass_size, 2)
    if done == want and started == want:
        return Outcome(True, f"{want} full passes over {_of_what(ctx, batches)}", None, evidence)
    of_what = _of_what(ctx, None)
    stopped = run_outcome(ctx.trace) != "ok"
    # cite only a line that disagrees with the requirement: a run that stopped early may have the right loop
    stated = next((f"{ctx.where(f.line)} sets `{f.text}`" for f in ctx.facts.of("epochs") if f.value != want), None)
    hint = f"train for exactly {want} epochs" + (f"; {stated}" if stated else "")
    if stopped_in_training(ctx) and not stated:  # a stop after the training loop ended says nothing of its count
        hint = "the run stopped before training finished (see `runs`); the epochs that did not run are missing"
    if started == 0:
        return Outcome(False, "no training pass was observed (no backward() on training batches)", hint, evidence)
    partial = started - done
    ended = " before the run stopped" if stopped else ""
    if done == 0:
        if started > 1:
            return Outcome(False, f"the training loop ran {started} times, but none of them went through all of "
                                  f"{of_what}: each trained on {_per_pass(ctx)} before the next began",
                           "train on every batch of the training loader in each epoch"
                           + (f"; {stated}" if stated else ""), evidence)
        return Outcome(False, f"no pass over {of_what} was completed{ended} (training stopped or broke out early)",
                       hint, evidence)
    extra = f", plus {plural(partial, 'unfinished pass')}" if partial else ""
    return Outcome(False, f"{plural(done, 'full pass')} over {of_what}{extra}{ended}; the exercise asks for {want}",
                   hint, evidence)


def _per_pass(ctx: Context) -> str:
    counts = sorted({len(e.backwards) for e in ctx.epochs})
    n = counts[0] if len(counts) == 1 else None
    return plural(n, "batch") if n is not None else f"{counts[0]}–{counts[-1]} batches"
