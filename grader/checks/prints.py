"""prints_loss_each_epoch: every epoch printed the same loss statistic, precisely enough to be evidence.

What counts (the README's "What is graded" states the same rules):
- Reports: the lines each epoch wrote, as a terminal shows them: a line redrawn with carriage returns (a
  progress bar whose postfix shows the loss) is one report, its final state in that epoch.
- Candidates: every loss the program computed in the epoch (with or without grad) and every value backward()
  ran on, each as a series, and for each series at the moment of the report: the latest value, the running
  mean (plain and weighted by batch size), the running total, the total divided by the training set size
  (plain and weighted: sum of loss × batch size / len(dataset)), the mean since the previous report; for
  `reduction='sum'` losses the same per example. Losses not back-propagated (a validation or whole-train-set
  loss after the epoch) are series of their own, one per evaluation run.
- Consistency: one statistic (series and kind) must match in every epoch; an honest print shows the same one.
- Precision: a printed number is evidence in an epoch only if its rounding interval (a unit of its last digit)
  is at most PRECISION of the larger of the value and the spread of that epoch's training losses; and the
  chosen statistic's matches together must be unlikely by luck: the product over the matched epochs of
  (rounding interval / that scale), times the ways to choose which of the epochs matched, times the number
  of statistics that matched anything, at most the rubric's policy.evidence (1 in 1,000 by default).
- Cadence: more reports than policy.max_reports_per_batch of an epoch's batches (and more than 3) is a
  report on (nearly) every batch, which fails.
- Epochs judged: one fault costs one check. A program whose training ended (ran to the end, or stopped after
  its training loop: in an evaluation, later code, a hang) passes when every epoch it trained printed properly,
  however many epochs that was (the count is `epochs`' to judge); otherwise it earns (epochs that printed
  properly) / (epochs it trained). A run cut off inside its training (see runs.stopped_in_training) earns
  (epochs that printed properly) / max(required epochs, epochs that ran), its unfinished last epoch not held
  against it, and passes only when it printed in every one of at least the required epochs.
"""

from __future__ import annotations

import bisect
import heapq
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from grader.checks.base import Context, Outcome, plural
from grader.checks.runs import stopped_in_training
from grader.trace import Epoch

FLOAT = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][-+]?\d+)?|\b(?:nan|inf)\b", re.IGNORECASE)
PRECISION = 0.2  # largest rounding interval, relative to the epoch's scale, that still tells a loss from a guess
MAX_NUMBERS = 8  # numbers read per report: a line of many numbers must not buy many chances
FEW_REPORTS = 3  # up to this many reports per epoch are always fine
MNIST_TRAIN = 60000
COARSE_HINT = "print the loss with at least 3 significant digits (e.g. f'{loss:.4f}')"
FAKE_HINT = "print the loss value your program computed (loss.item(), or an average of it), not a made-up number"
# what "a loss the program computed" means, said in full wherever a print is called unexplained: a loss computed
# by hand (no torch loss function) and never back-propagated is invisible to the grader
WATCHED = "a loss the program computed (with a torch loss function, or back-propagated) or an average of one"


def _printed_numbers(text: str) -> list[tuple[float, float]]:
    """(value, tolerance) of each decimal number in a line. Integers are skipped: they are epoch/batch counters."""
    out = []
    for m in FLOAT.finditer(text):
        token = m.group(0)
        try:
            value = float(token)
        except ValueError:
            continue
        if not math.isfinite(value):
            out.append((value, 0.0))
            continue
        mantissa, _, exp = token.lower().partition("e")
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        tol = 0.5 * 10 ** (int(exp or 0) - decimals) * 1.001
        out.append((value, max(tol, 1e-5 * abs(value), 1e-12)))
    return out[:MAX_NUMBERS]


def _num(value) -> float | None:
    if isinstance(value, str):
        try:
            return float(value)  # "nan"/"inf" as recorded
        except ValueError:
            return None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# ---------------------------------------------------------------- reports
@dataclass
class Report:
    text: str
    seq: int
    numbers: list[tuple[float, float]]


def _reports(ep: Epoch) -> list[Report]:
    """The epoch's lines as a terminal shows them: a line written on the row of an earlier one replaces it (a
    redraw after \\r, a nested progress bar's row, a line recorded while still being written and what it
    became), so a progress bar is one report, in its final state within the epoch."""
    reports: list[Report] = []
    at: dict[tuple, int] = {}  # (stream, row) -> its report
    for (ev, _), key in zip(ep.lines, _rows(ep.lines)):
        report = Report(ev.get("text", ""), ev.get("i", 0), _printed_numbers(ev.get("text", "")))
        if key in at:
            reports[at[key]] = report
        else:
            at[key] = len(reports)
            reports.append(report)
    return reports


def _rows(lines: list[tuple[dict, int]]):
    """(stream, terminal row) of each line: as the harness recorded it, or for a trace without rows, as the
    line ends imply (a line that ended with \\r, or had not ended, is redrawn by the next)."""
    row: dict = {}
    for ev, _ in lines:
        stream = ev.get("s")
        if "row" in ev:
            yield stream, ev["row"]
            continue
        yield stream, row.get(stream, 0)
        row[stream] = row.get(stream, 0) + (ev.get("end", "\n") not in ("\r", ""))


# ---------------------------------------------------------------- candidate statistics
@dataclass
class Series:
    """A sequence of loss values in one epoch: what backward() ran on, a loss kind that was trained on, or
    one evaluation run (losses not back-propagated, between two training steps)."""

    label: str
    summed: bool  # reduction='sum': each value is a batch total
    seqs: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    _sums: list[tuple[float, float, int]] = field(default_factory=list, repr=False)

    def add(self, seq: int, value: float, bs) -> None:
        self.seqs.append(seq)
        self.values.append(value)
        self.sizes.append(bs if isinstance(bs, int) and bs > 0 else 1)

    def stats(self, before: int, since: int | None, datasets: tuple[int, ...]) -> list[tuple[str, float]]:
        """Each statistic an honest print made at event `before` could show."""
        u = bisect.bisect_left(self.seqs, before)
        if u == 0:
            return []
        if len(self._sums) != len(self.values) + 1:  # prefix sums of value, value × batch size, batch size
            self._sums = [(0.0, 0.0, 0)]
            for x, b in zip(self.values, self.sizes):
                t, wt, n = self._sums[-1]
                self._sums.append((t + x, wt + x * b, n + b))
        total, weighted, examples = self._sums[u]
        w = bisect.bisect_right(self.seqs, since, hi=u) if since is not None else 0
        last, last_bs = self.values[u - 1], self.sizes[u - 1]
        evaluation = self.label.startswith("eval")
        if self.summed:
            out = [("latest total", last), ("latest per example", last / last_bs), ("total", total),
                   ("per example", total / examples), ("mean per batch", total / u)]
            if w < u:
                out.append(("window per example", (total - self._sums[w][0]) / (examples - self._sums[w][2])))
        else:
            out = [("latest", last), ("mean", total / u), ("weighted mean", weighted / examples), ("total", total)]
            if w < u:
                out.append(("window mean", (total - self._sums[w][0]) / (u - w)))
        for name, size in zip(("dataset", "served set"), datasets if not evaluation else ()):
            out.append((f"total / {name}", total / size))
            if not self.summed:
                out.append((f"weighted total / {name}", weighted / size))
        return out


def _epoch_passes(ctx: Context) -> dict[tuple, int]:
    """The training pass each epoch iterated, where each epoch is one pass: {(loader, pass_no): epoch index}."""
    keys = [{tuple(b.get("in_pass") or ()) for b in ep.backwards} for ep in ctx.epochs]
    if not keys or any(len(k) != 1 or () in k for k in keys) or len(set().union(*keys)) != len(keys):
        return {}
    return {next(iter(k)): ep.index for k, ep in zip(keys, ctx.epochs)}


def _computed_in(ev: dict, epochs: list[Epoch], opens: list[int], passes: dict[tuple, int]) -> int | None:
    """The epoch a loss (not back-propagated) was computed in. One computed while an epoch's pass served its
    batches is that epoch's (a loss logged before the first backward() of a pass included); any other, such as
    an evaluation after the pass, the epoch's that was running. `opens`: the epochs' first events, in order."""
    owner = passes.get(tuple(ev.get("in_pass") or ()))
    if owner is not None:
        return owner
    k = bisect.bisect_right(opens, ev.get("i", 0)) - 1
    return epochs[k].index if k >= 0 and epochs[k].holds(ev.get("i", 0)) else None


@dataclass
class _Losses:
    """The run's loss events indexed once, so that each epoch takes its own without rescanning the trace."""

    by_id: dict  # loss id -> its events
    owner: dict  # loss id -> the first epoch whose backward() consumed it
    computed_in: dict  # epoch index -> the losses no backward() consumed that were computed in it, in order

    @classmethod
    def of(cls, ctx: Context, trained: set) -> "_Losses":
        if getattr(ctx, "_losses", None) is None:
            by_id, owner, computed_in = {}, {}, {}
            for ev in ctx.trace.of("loss"):
                by_id.setdefault(ev.get("loss"), []).append(ev)
            for ep in ctx.epochs:
                for b in ep.backwards:
                    for lid in b.get("losses") or []:
                        owner.setdefault(lid, ep.index)
            passes, opens = _epoch_passes(ctx), [ep.opens for ep in ctx.epochs]
            for ev in ctx.trace.of("loss"):
                if ev.get("loss") not in trained and (n := _computed_in(ev, ctx.epochs, opens, passes)) is not None:
                    computed_in.setdefault(n, []).append(ev)
            ctx._losses = cls(by_id, owner, computed_in)
        return ctx._losses

    def of_epoch(self, ep: Epoch) -> list[dict]:
        mine = {lid for b in ep.backwards for lid in b.get("losses") or [] if self.owner.get(lid) == ep.index}
        own = [ev for lid in mine for ev in self.by_id.get(lid, ())]
        return sorted(own + self.computed_in.get(ep.index, []), key=lambda ev: ev.get("i", 0))


MAX_SERIES = 24  # an honest epoch has a handful (backward, a loss kind or two, up to 3 evaluation runs each)


def _series(ctx: Context, ep: Epoch, trained: set) -> list[Series]:
    """A trained loss belongs to the epoch whose backward() consumed it (it is computed just before; the first
    such epoch); any other loss to the epoch it was computed in. At most MAX_SERIES: each is compared with
    every report, so their number must not grow with the trace."""
    index = _Losses.of(ctx, trained)
    losses = index.of_epoch(ep)
    out = []
    back = Series("backward", summed=False)
    for b in ep.backwards:
        reductions = {index.by_id.get(lid, [{}])[-1].get("reduction", "mean") for lid in b.get("losses") or []}
        back.summed = back.summed or reductions == {"sum"}
        if (value := _num(b.get("value"))) is not None:
            back.add(b["i"], value, b.get("bs"))
    out.append(back)
    kinds: dict[str, Series] = {}
    runs: dict[str, list[Series]] = {}
    steps = [b["i"] for b in ep.backwards]
    for ev in losses:
        value, kind = _num(ev.get("value")), ev.get("kind") or "loss"
        if value is None:
            continue
        summed = ev.get("reduction", "mean") == "sum"
        if ev.get("loss") in trained:
            kinds.setdefault(kind, Series(f"loss {kind}", summed)).add(ev["i"], value, ev.get("bs"))
            continue
        mine = runs.setdefault(kind, [])
        after = bisect.bisect_left(steps, ev["i"])  # training steps before this loss: a new run after each
        if not mine or mine[-1].label.split("@")[1] != str(after):
            mine.append(Series(f"eval {kind} {len(mine) + 1}@{after}", summed))
        mine[-1].add(ev["i"], value, ev.get("bs"))
    out += kinds.values()
    for kind, mine in runs.items():
        # a loss beside every training step (a no-grad copy for logging) is one series, like a training loss;
        # runs of several losses, or after the epoch's last step, are evaluations, numbered within the epoch
        beside = [r for r in mine if len(r.values) == 1 and int(r.label.split("@")[1]) < len(steps)]
        if len(beside) > 3 and all(int(r.label.split("@")[1]) > 0 for r in beside):
            # logged after each step (step(); total += criterion(out, y).item()): the last batch's is the first
            # loss after the epoch's last step, before any evaluation, and has the last batch's size
            end = next((r for r in mine if int(r.label.split("@")[1]) == len(steps)), None)
            if end is not None and end.sizes[0] == ep.backwards[-1].get("bs"):
                beside.append(Series(end.label, end.summed, end.seqs[:1], end.values[:1], end.sizes[:1]))
                end.seqs, end.values, end.sizes = end.seqs[1:], end.values[1:], end.sizes[1:]
                mine = [r for r in mine if r.values]
        evals = [r for r in mine if r not in beside] if len(beside) > 3 else mine
        if len(beside) > 3:
            merged = Series(f"other {kind}", beside[0].summed)
            for r in beside:
                merged.add(r.seqs[0], r.values[0], r.sizes[0])
            out.append(merged)
        for n, r in enumerate(evals[:3], start=1):
            r.label = f"eval {kind} {n}"
            out.append(r)
    return out[:MAX_SERIES]


def _datasets(ctx: Context, ep: Epoch) -> tuple[int, ...]:
    """len(dataset) a print may divide by: one pass's size, and the served training set where they differ
    (batches dropped by hand: the pass is smaller than len(X))."""
    sizes = [n for n in (ep.size, ctx.trace.train_size) if isinstance(n, int) and n > 0]
    return tuple(dict.fromkeys(sizes))


def _scale(ep: Epoch, run_spread: float) -> float:
    """How far apart this epoch's training losses are: the yardstick for a printed number's precision."""
    values = [v for v in (_num(b.get("value")) for b in ep.backwards) if v is not None and math.isfinite(v)]
    spread = max(values) - min(values) if len(values) > 1 else 0.0
    return spread if spread > 0 else run_spread


@dataclass
class Match:
    kind: tuple[str, str]  # (series label, statistic)
    report: Report
    value: float
    precise: bool
    evidence: float  # log10 of the chance that a number this precise lands on the value by luck
    printed: float = 0.0
    tol: float = 0.0
    spread: float = 0.0


def _matches(ctx: Context, ep: Epoch, trained: set, run_spread: float) -> tuple[list[Report], list[Match]]:
    reports = _reports(ep)
    series = _series(ctx, ep, trained)
    spread = _scale(ep, run_spread)
    found, previous = [], None
    for rep in reports:
        if not rep.numbers:
            continue
        candidates = [((s.label, stat), value) for s in series
                      for stat, value in s.stats(rep.seq, previous, _datasets(ctx, ep))]
        for printed, tol in rep.numbers:
            for kind, value in candidates:
                if abs(printed - value) <= tol or not math.isfinite(printed):
                    m = _compare(printed, tol, value, spread)
                    if m is not None:
                        found.append(Match(kind, rep, value, *m, printed=printed, tol=tol, spread=spread))
        previous = rep.seq
    return reports, found


def _compare(printed: float, tol: float, value: float, spread: float) -> tuple[bool, float] | None:
    if not math.isfinite(value) or not math.isfinite(printed):
        same = math.isnan(value) and math.isnan(printed) or value == printed
        return (True, -1.0) if same else None
    if abs(printed - value) > tol:
        return None
    scale = max(spread, abs(value), 1e-9)
    return 2 * tol <= PRECISION * scale, min(0.0, max(-6.0, math.log10(max(2 * tol, 1e-15) / scale)))


# ---------------------------------------------------------------- the check
STAT_ORDER = ["latest", "mean", "weighted mean", "per example", "latest per example", "window mean",
              "window per example", "total", "latest total", "mean per batch", "total / dataset",
              "weighted total / dataset", "total / served set", "weighted total / served set"]


def _label_order(label: str) -> int:
    return 0 if label == "loss cross_entropy" else 1 if label.startswith("loss") else 2 if label == "backward" else 3


def describe(kind: tuple[str, str], at_end: bool = True) -> str:
    label, stat = kind
    if label.startswith("eval"):
        what = label.split()[1].replace("_", "-")
        return {"latest": f"a {what} loss evaluated after training steps",
                "latest total": f"a summed {what} loss evaluated after training steps"}.get(
            stat, f"the mean {what} loss of an evaluation run")
    base = {"latest": "the last batch's loss" if at_end else "the latest batch's loss",
            "latest per example": "the last batch's summed loss per example",
            "latest total": "the last batch's summed loss",
            "mean": "the epoch's mean loss", "weighted mean": "the epoch's mean loss",
            "per example": "the epoch's mean loss per example", "mean per batch": "the epoch's mean loss per batch",
            "window mean": "the mean loss since the previous report",
            "window per example": "the mean loss per example since the previous report",
            "total": "the running total of the loss",
            "total / dataset": "the summed loss divided by the training set's size",
            "weighted total / dataset": "the loss summed over examples divided by the training set's size",
            "total / served set": "the summed loss divided by the training set's size",
            "weighted total / served set": "the loss summed over examples divided by the training set's size"}[stat]
    if label.startswith("loss") and label != "loss cross_entropy":
        base += f" ({label.split()[1].replace('_', '-')})"
    return base


def check_prints_loss(ctx: Context) -> Outcome:
    epochs, policy, want = ctx.epochs, ctx.rubric.policy, ctx.rubric.epochs
    if not epochs:
        return Outcome(False, "no training epoch was observed (backward() never ran on a batch), so there was no "
                              "per-epoch loss to print", "print the loss once per epoch, after the loop over batches")
    trained = {lid for b in ctx.trace.of("backward") for lid in b.get("losses") or []}
    finite = [v for v in (_num(b.get("value")) for b in ctx.trace.of("backward")) if v is not None and math.isfinite(v)]
    run_spread = max(finite) - min(finite) if len(finite) > 1 else 0.0
    seen = {ep.index: _matches(ctx, ep, trained, run_spread) for ep in epochs}

    # the statistic shown in the most epochs, most convincingly
    by_kind: dict[tuple, dict[int, Match]] = {}
    for ep in epochs:
        for m in seen[ep.index][1]:
            if m.precise:
                best = by_kind.setdefault(m.kind, {}).get(ep.index)
                if best is None or m.evidence < best.evidence:
                    by_kind[m.kind][ep.index] = m
    explains = Counter(m.kind for ep in epochs for m in seen[ep.index][1] if m.precise)
    kind = min(by_kind, default=None, key=lambda k: (-len(by_kind[k]), -explains[k],
                                                     sum(m.evidence for m in by_kind[k].values()),
                                                     STAT_ORDER.index(k[1]), _label_order(k[0]), k))
    shown = by_kind.get(kind, {})
    # round(loss, 2) prints 0.1 for 0.1003: a number that equals the statistic to the finest precision this
    # program printed it with elsewhere counts at that precision (trailing zeros were dropped)
    finest = min((m.tol for m in shown.values()), default=None)
    for ep in epochs:
        if ep.index in shown or finest is None:
            continue
        for m in seen[ep.index][1]:
            if m.kind == kind and math.isfinite(m.printed) and abs(m.printed - m.value) <= finest:
                again = _compare(m.printed, finest, m.value, m.spread)
                if again is not None and again[0]:
                    shown[ep.index] = Match(kind, m.report, m.value, True, again[1], m.printed, finest, m.spread)
                    break

    last = epochs[-1]
    # training that ended (whatever came after it) is judged on the epochs it trained, however many; a run cut
    # off inside its training owes the required epochs, less an unfinished last one
    cut_off = stopped_in_training(ctx)
    judged = epochs[:-1] if cut_off and not last.complete and last.index not in shown else epochs
    proper = [ep for ep in judged if ep.index in shown]
    # the chance of this by luck: each epoch's (rounding interval / scale), times the ways to pick which epochs
    # matched and the statistics that were tried (a cheat gets to miss epochs, and to match any statistic)
    evidence = sum(shown[ep.index].evidence for ep in proper)
    if proper:
        evidence += math.log10(math.comb(len(judged), len(proper))) + math.log10(len(by_kind))
    credible = bool(proper) and evidence <= math.log10(policy.evidence)

    per_epoch = []
    for ep in judged:
        reports, matches = seen[ep.index]
        loss_reports = {id(m.report) for m in matches if m.precise}
        example = shown[ep.index].report.text if ep.index in shown else next(
            (r.text for r in reports if r.numbers), None)
        per_epoch.append({"epoch": ep.index, "batches": ep.batches, "reports": len(loss_reports),
                          "example": example[:120] if example else None,
                          "shows": describe(kind, _at_end(ep, shown[ep.index])) if ep.index in shown else None})
    facts = {"epochs": per_epoch, "statistic": describe(kind) if kind else None, "required_epochs": want,
             "epochs_judged": len(judged), "epochs_printed": len(proper) if credible else 0,
             "chance_log10": round(evidence, 2) if proper else None}

    def outcome(passed: bool, message: str, hint: str | None = None, credit: float = 0.0, artifact: str | None = None):
        facts["credit"] = 1.0 if passed else round(credit, 4)
        return Outcome(passed, message, hint, facts, credit=0.0 if passed else credit,
                       shortening_sensitive=artifact is not None, shortening_reason=artifact)

    # cadence: a report on (nearly) every batch
    busy = [p for p in per_epoch if p["reports"] > FEW_REPORTS and policy.max_reports_per_batch is not None
            and p["batches"] and p["reports"] > policy.max_reports_per_batch * p["batches"]]
    if credible and len(busy) * 2 >= len(proper):
        worst = max(busy, key=lambda p: p["reports"] / p["batches"])
        share = "every batch" if worst["reports"] >= worst["batches"] else \
            f"{100 * worst['reports'] // worst['batches']}% of the batches"
        return outcome(False, f"printed the loss on {share} of epoch {worst['epoch']} (e.g. '{worst['example']}'), "
                              f"and so in {plural(len(busy), 'epoch')}: a report on nearly every batch; the exercise "
                              "asks for the loss once per epoch",
                       "report the loss once per epoch, or every few hundred batches; a progress bar that shows "
                       "it in its postfix counts as one report")

    if not judged:
        return outcome(False, "the run stopped during epoch 1, before the end of any epoch, and no loss was printed "
                              "by then", "the missing points are for epochs that did not run (see `runs`)")
    missing = [ep for ep in judged if ep.index not in shown or not credible]
    ran = len(judged)
    owed = max(want, ran) if cut_off else ran
    credit = len(proper) / owed if credible else 0.0
    if not missing:
        first = per_epoch[0]
        times = max(p["reports"] for p in per_epoch)
        how = f", {times} times per epoch" if times > 1 else ""
        each = f"each of the {ran} epochs" if ran > 1 else "the only epoch"
        if ran >= want or not cut_off:
            count = "" if ran == want else " (how many epochs it trained is judged by `epochs`)"
            return outcome(True, f"{each} printed its loss{how} ({first['shows']}), e.g. "
                                 f"'{first['example']}'{count}")
        return outcome(False, f"{each} that ran before the run stopped printed its loss ({first['shows']}), e.g. "
                              f"'{first['example']}', but the run was cut off inside its training: "
                              f"{len(proper)}/{owed} of the points",
                       "the missing points are for epochs that did not run (see `epochs` and `runs`)", credit)

    if _printed_later(ctx, missing, epochs, trained, run_spread):
        late = _ranges([ep.index for ep in missing if ep is not epochs[-1]])
        return outcome(False, f"the losses of epochs {late} were printed only after training, not during "
                              "each epoch", "print each epoch's loss while it runs, at the end of that epoch",
                       credit)
    why = {ep.index: _why_not(ep, seen[ep.index], kind if credible else None, _scale(ep, run_spread))
           for ep in missing}
    silent = [ep.index for ep in missing if why[ep.index][0] == "silent"]
    # a cadence counted in batches (every 100 batches, a global step counter) may not fire in a shortened
    # epoch; one counted in epochs (every 5th epoch) prints after an epoch's last batch, whatever its size
    by_batches = not any(_at_end(ep, m) for ep in epochs for m in seen[ep.index][1] if m.precise)
    artifact = None
    if silent and by_batches and (ctx.trace.train_size or ctx.rubric.train_examples) < MNIST_TRAIN:
        artifact = (f"epochs {_ranges(silent)} showed no loss report; a print every N batches may fire only in "
                    "the longer epochs of a full-size run")
    if not credible:
        return outcome(False, *_no_evidence(missing, why), artifact=artifact)
    ok = _ranges([ep.index for ep in proper])
    first = next(p for p in per_epoch if p["shows"])
    parts = []
    for reason, text in (("silent", "printed no loss value"), ("other", "printed a different statistic"),
                         ("coarse", "printed a number too coarse to be evidence"),
                         ("fake", f"printed a number that is not {WATCHED}")):
        eps = [e for e in why if why[e][0] == reason]
        if eps:
            example = next((why[e][1] for e in eps if why[e][1]), None)
            parts.append(f"epoch{'s' if len(eps) > 1 else ''} {_ranges(eps)} {text}"
                         + (f" (e.g. '{example[:80]}')" if example else ""))
    hint = {"silent": "print the loss in every epoch, e.g. once after the loop over batches",
            "other": "print the same quantity every epoch (e.g. always the epoch's mean loss)",
            "coarse": COARSE_HINT, "fake": FAKE_HINT}
    return outcome(False, f"epoch{'s' if len(proper) > 1 else ''} {ok} printed {first['shows']} (e.g. '{first['example']}'), but "
                          + "; ".join(parts), hint[why[missing[0].index][0]], credit, artifact)


def _at_end(ep: Epoch, m: Match) -> bool:
    return m.report.seq > (ep.backwards[-1]["i"] if ep.backwards else 0)  # in order: the last is the latest


def _why_not(ep: Epoch, seen: tuple[list[Report], list[Match]], kind: tuple | None,
             spread: float) -> tuple[str, str | None]:
    """Why an epoch shows no proper report: coarse (numbers too coarse to be evidence, whether they match or
    not), other (a precise match of another statistic), fake (a loss line whose numbers match nothing), or
    silent."""
    reports, matches = seen
    lossy = [r for r in reports if r.numbers and "loss" in r.text.lower()]
    blunt = [r for r in lossy if all(2 * tol > PRECISION * max(spread, abs(p)) for p, tol in r.numbers)]
    if lossy and len(blunt) == len(lossy):
        return "coarse", blunt[0].text
    coarse = [m for m in matches if not m.precise]
    precise = [m for m in matches if m.precise and m.kind != kind]
    if precise and (kind is not None or not coarse):
        return "other", precise[0].report.text
    if coarse:
        return "coarse", coarse[0].report.text
    matched = {id(m.report) for m in matches}
    fakes = [r for r in reports if r.numbers and id(r) not in matched and "loss" in r.text.lower()]
    if fakes:
        return "fake", fakes[0].text
    return "silent", None


def _no_evidence(missing: list[Epoch], why: dict) -> tuple[str, str]:
    reasons = [why[ep.index] for ep in missing]
    coarse = [t for r, t in reasons if r == "coarse" and t]
    fakes = [t for r, t in reasons if r in ("fake", "other") and t]  # "other": matched by chance, not every epoch
    if coarse:
        message = (f"the printed numbers are too coarse to show they are losses (e.g. '{coarse[0][:80]}'): a "
                   "number with so few digits matches some loss by chance")
        return message, COARSE_HINT + ", the same quantity every epoch"
    if fakes:
        if len(fakes) == len(missing):
            message = f"every epoch printed a line like '{fakes[0][:80]}', but none of those numbers is {WATCHED}"
            return message, FAKE_HINT
        epoch = next(ep.index for ep in missing if why[ep.index][0] in ("fake", "other"))
        message = (f"epoch {epoch} printed '{fakes[0][:80]}', but that number is not {WATCHED} in that epoch; "
                   f"epochs {_ranges([ep.index for ep in missing])} printed no such loss")
        return message, FAKE_HINT
    return (f"no line printed during training shows {WATCHED}",
            "print the loss once per epoch, e.g. after the loop over batches")


def _printed_later(ctx: Context, missing: list[Epoch], epochs: list[Epoch], trained: set, run_spread: float) -> bool:
    """Were the missing epochs' losses all printed after training (in the last epoch's lines)? The last
    epoch's own lines come after training, so it is not asked about."""
    missing = [ep for ep in missing if ep is not epochs[-1]]
    printed = [(p, tol) for r in _reports(epochs[-1]) for p, tol in r.numbers]
    finals = [(value, _scale(ep, run_spread), ep.index) for ep in missing for s in _series(ctx, ep, trained)
              for _, value in s.stats(ep.end or 1 << 62, None, _datasets(ctx, ep))]
    return bool(missing) and _shown(printed, finals) >= {ep.index for ep in missing}


def _shown(printed: list[tuple[float, float]], finals: list[tuple[float, float, int]]) -> set[int]:
    """The epochs (of (value, spread, epoch)) whose value some printed number shows precisely, as _compare
    judges: one sweep over both sorted, not every printed number against every value. A finite value is
    shown when the most precise number whose rounding interval holds it is precise enough for it."""
    odd = {str(p) for p, _ in printed if not math.isfinite(p)}  # nan/inf show only themselves
    spans = sorted((p - tol, p + tol, tol) for p, tol in printed if math.isfinite(p))
    open_spans: list[tuple[float, float]] = []  # (tol, upper end), the most precise on top
    shown, k = set(), 0
    for value, spread, epoch in sorted(finals, key=_finite_first):
        if not math.isfinite(value):
            if str(value) in odd:
                shown.add(epoch)
            continue
        while k < len(spans) and spans[k][0] <= value:
            heapq.heappush(open_spans, (spans[k][2], spans[k][1]))
            k += 1
        while open_spans and open_spans[0][1] < value:  # ends before this value, so before every later one
            heapq.heappop(open_spans)
        if open_spans and 2 * open_spans[0][0] <= PRECISION * max(spread, abs(value), 1e-9):
            shown.add(epoch)
    return shown


def _finite_first(final: tuple) -> tuple:
    """nan/inf first (matched by identity), then the finite values in ascending order, as the sweep needs."""
    return (True, final[0]) if math.isfinite(final[0]) else (False, 0.0)


def _ranges(numbers: list[int]) -> str:
    parts, start = [], None
    for i, n in enumerate(numbers):
        if start is None:
            start = n
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            parts.append(str(start) if start == n else f"{start}–{n}")
            start = None
    return ", ".join(parts)
