"""runs: did the program run to the end, and if not, how and where it stopped."""

from __future__ import annotations

from grader.checks.base import Context, Outcome
from grader.trace import Trace


MEMORY_WORDS = ("out of memory", "can't allocate memory", "cannot allocate memory", "not enough memory")


def run_outcome(trace: Trace) -> str:
    """How the submission ended: ok | exception | exit | timeout | memory | killed | missing."""
    end, sup = trace.end, trace.sup or {}
    if end is None:
        if sup.get("soft_timeout") or sup.get("hard_timeout"):
            return "timeout"
        return "killed" if trace.start else "missing"
    if end.get("outcome") == "exception":
        exc = trace.exception or {}
        text = f"{exc.get('type', '')} {exc.get('message', '')}".lower()
        if exc.get("type") == "MemoryError" or any(w in text for w in MEMORY_WORDS):
            return "memory"
        return "exception"
    return end.get("outcome", "missing")


def stopped_in_training(ctx: Context) -> bool:
    """Was the run cut off inside its training (a crash or timeout while the loop over epochs ran), rather than
    after training ended (in an evaluation, later code, a hang)? Inside: a pass over the training data was
    unfinished, or a loop of the source holds both a line on the stack where it stopped and one on the stack of
    its last backward(). When the stop cannot be placed, it counts as inside (the stricter reading)."""
    if run_outcome(ctx.trace) == "ok" or not ctx.epochs:
        return False
    if not ctx.epochs[-1].complete:
        return True
    stop = (ctx.trace.end or {}).get("at")
    trained = next((b["at"] for b in reversed(ctx.trace.of("backward")) if b.get("at")), None)
    if not stop or not trained:
        return True
    loops = [(f.line, f.value) for f in ctx.facts.of("loop") if isinstance(f.value, int)]
    return any(start <= s <= end and any(start <= t <= end for t in trained)
               for start, end in loops for s in stop)


def _epoch_of(ctx: Context, seq: int | None) -> int | None:
    if seq is None or not ctx.epochs:
        return None
    current = None
    for ep in ctx.epochs:
        if seq >= ep.start:
            current = ep.index
    return current


def check_runs(ctx: Context) -> Outcome:
    trace, outcome = ctx.trace, run_outcome(ctx.trace)
    end = trace.end or {}
    seconds = end.get("seconds")
    last = trace.events[-1]["i"] if trace.events else None
    during = _epoch_of(ctx, (trace.exception or {}).get("i") or (end.get("i") if end else last))
    in_epoch = f" during epoch {during}" if during else (" before training started" if not ctx.epochs else "")
    if during and outcome != "ok" and not stopped_in_training(ctx):
        in_epoch = f" after the training loop (which ended after epoch {during})"
    if outcome == "ok":
        return Outcome(True, f"ran to completion in {seconds:.1f} s" if seconds is not None else "ran to completion")
    if outcome in ("exception", "memory", "exit"):
        exc = trace.exception or {}
        at = f" at {ctx.where(exc.get('lineno'))}"
        code = f" (`{exc['line']}`)" if exc.get("line") else ""
        if outcome == "exit":
            return Outcome(False, f"exited with status {end.get('exit_code')}{at}{in_epoch}{code}",
                           "a program that finishes normally exits with status 0; remove the sys.exit() call",
                           {"exit_code": end.get("exit_code"), "lineno": exc.get("lineno")})
        message = f"{exc.get('type', 'error')}: {exc.get('message', '')}".strip().rstrip(":")
        if outcome == "memory":
            mb = ctx.limits.get("memory_mb")
            return Outcome(False, f"ran out of memory{at}{in_epoch}: {message}{code}",
                           f"the sandbox allows {mb} MB; this exercise needs well under 1 GB. Look for tensors that "
                           "grow every batch (e.g. keeping losses without .item())" if mb else
                           "look for tensors that grow every batch (e.g. keeping losses without .item())",
                           {"lineno": exc.get("lineno")})
        hint = "run the file yourself with `python <file>` to see the full traceback (it is also in the output below)"
        if exc.get("type") in ("ModuleNotFoundError", "ImportError"):
            hint = ("the grading environment has torch, torchvision, numpy, tqdm and matplotlib; "
                    "remove imports of anything else")
        return Outcome(False, f"stopped{at}{in_epoch} with {message}{code}", hint,
                       {"exception": exc.get("type"), "lineno": exc.get("lineno"), "line": exc.get("line")})
    if outcome == "timeout":
        sup = trace.sup or {}
        limit = sup.get("cpu_limit_s") or ctx.limits.get("timeout_s", ctx.rubric.limits.timeout_s)
        if sup.get("timeout_reason") == "wall":
            what = f"did not finish within the wall-clock backstop ({limit * ctx.rubric.limits.wall_factor:g} s)"
        else:
            what = f"used up its {limit:g} s of CPU time without finishing"
        return Outcome(False, f"{what}{in_epoch}",
                       "the grader trains on a shortened training set, so 10 epochs take seconds of CPU; look for "
                       "an endless loop, input(), or far more work per batch than the exercise needs",
                       {"cpu_limit_s": limit, "cpu_s": sup.get("cpu_s")})
    sup = trace.sup or {}
    if ctx.oom:
        return Outcome(False, f"was killed for using more than {ctx.limits.get('memory_mb')} MB of memory{in_epoch}",
                       "look for tensors that grow every batch", {"memory_mb": ctx.limits.get("memory_mb")})
    if outcome == "killed":
        return Outcome(False, f"ended abruptly{in_epoch} (exit status {sup.get('exit')}) without finishing",
                       "os._exit(), a crash of the Python process, or a signal ended it; let the script end normally",
                       {"exit": sup.get("exit")})
    return Outcome(False, "the submission never started", "this is the grader's fault if it persists: report it")
