"""The host's work on a trace is bounded by the trace (issue 15, class 5): judging is linear (or n log n) in the
events, the report's free text and lists are capped, a trace past the harness's own caps is not judged, and
judging has a deadline that ends in a report. Linearity is shown by counting operations, never by timing."""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import pytest
from builders import TraceBuilder

from grader import checks, deadline, sandbox, static, submission
from grader.checks import Context, prints
from grader.grade import MAX_NOTES, Grader, Observation, Options
from grader.harness import protocol
from grader.report import MAX_ITEMS, TEXT_CHARS, Status, SubmissionInfo
from grader.rubric import Rubric
from grader.sandbox.local import LocalSandbox
from grader.trace import MAX_TRACE_EVENTS, Trace


class Counted(dict):
    """An event that counts every read of its fields: the checks reach events only through these."""

    reads = 0

    def get(self, *args):
        Counted.reads += 1
        return super().get(*args)

    def __getitem__(self, key):
        Counted.reads += 1
        return super().__getitem__(key)


def _operations(b: TraceBuilder, monkeypatch) -> int:
    """Event reads, statistics computed and printed-vs-computed comparisons of judging this trace once."""
    calls = {"n": 0}
    for name in ("_compare", "_shown"):
        original = getattr(prints, name)
        monkeypatch.setattr(prints, name, lambda *a, _f=original: (calls.__setitem__("n", calls["n"] + 1), _f(*a))[1])
    stats = prints.Series.stats
    monkeypatch.setattr(prints.Series, "stats",
                        lambda self, *a: (calls.__setitem__("n", calls["n"] + 1), stats(self, *a))[1])
    Counted.reads = 0
    trace = Trace.from_events([Counted(e) for e in b.events], sup={"ch": "sup", "exit": 0})
    ctx = Context(trace, static.analyse(""), Rubric())
    for _, _, check in checks.CHECKS:
        check(ctx)
    return Counted.reads + calls["n"]


def tiny_epochs(n: int) -> TraceBuilder:
    """The forged shape: one-example epochs (counted view), each printing its loss."""
    b = TraceBuilder().setup(train_size=1)
    for e in range(n):
        b.train_step(0.5 + e % 7 / 100, bs=1)
        b.line(f"epoch {e} loss {0.5 + e % 7 / 100:.4f}")
    return b.end()


def loader_epochs(n: int) -> TraceBuilder:
    """Loader passes of one batch each: the loader view, which looked the training set up once per pass."""
    b = TraceBuilder().setup(train_size=64)
    for e in range(1, n + 1):
        b.epoch(1, e, [1.0 / e], prints=[f"Epoch {e} Loss: {1.0 / e:.5f}"])
    return b.end()


def printed_after_training(n: int) -> TraceBuilder:
    """No epoch prints while it runs; the last one prints every epoch's loss: each missing epoch is looked for
    among all the printed numbers."""
    b = TraceBuilder().setup(train_size=64)
    for e in range(1, n + 1):
        b.epoch(1, e, [1.0 / e])
    for e in range(1, n + 1):
        b.line(f"Epoch {e} Loss: {1.0 / e:.6f}")
    return b.end()


def many_kinds_and_reports(n: int) -> TraceBuilder:
    """One epoch with n kinds of loss and n reports: each report is compared with each series of losses."""
    b = TraceBuilder().setup(train_size=64)
    b.ev("pass_start", loader=1, pass_no=1, train=True, dataset_size=64, batches=1, bs=64)
    for k in range(n):
        b.loss(1.0 + k / n, kind=f"kind{k}")
    b.train_step(0.7, in_pass=[1, 1])
    b.ev("pass_end", loader=1, pass_no=1, batches=1, examples=64)
    for k in range(n):
        b.line(f"report {k} loss {1.0 + k / n:.5f}")
    return b.end()


@pytest.mark.parametrize("shape", [tiny_epochs, loader_epochs, printed_after_training, many_kinds_and_reports])
def test_judging_costs_work_linear_in_the_trace(shape, monkeypatch):
    small, large = _operations(shape(1000), monkeypatch), _operations(shape(4000), monkeypatch)
    # 4× the trace: linear or n log n work grows about 4×, a rescan per epoch or report 16×
    assert large < 5 * small, (small, large)


def test_the_sweep_finds_exactly_what_comparing_every_pair_finds():
    rng = random.Random(7)
    for _ in range(300):
        printed = [prints._printed_numbers(f"{rng.uniform(0, 3):.{rng.randint(1, 5)}f}")[0] for _ in range(8)]
        printed += [(math.nan, 0.0)] if rng.random() < 0.2 else []
        finals = [(rng.choice([rng.uniform(0, 3), p + rng.uniform(-2 * t, 2 * t), math.nan]), rng.uniform(0, 1), n)
                  for n, (p, t) in enumerate(printed * 2)]
        pairwise = {ep for value, spread, ep in finals for p, tol in printed
                    if (m := prints._compare(p, tol, value, spread)) is not None and m[0]}
        assert prints._shown(printed, finals) == pairwise


# ---------------------------------------------------------------- the report
@pytest.fixture
def judge(tmp_path):
    """Judge a hand-built trace the way Grader.grade judges an observed one (no sandbox, no evaluator)."""
    grader = Grader(Options(device="cpu", reference_curve=False), backend=LocalSandbox(),
                    files={"unused": tmp_path / "unused"})
    path = tmp_path / ("s" * 200 + ".py")
    path.write_text("print('hello')\n")
    sub = submission.load(path)

    def run(trace: Trace, **options):
        for key, value in options.items():
            setattr(grader.options, key, value)
        info = SubmissionInfo(path=str(path), name=sub.name, sha256=sub.sha256, kind=sub.kind, size_bytes=sub.size)
        seen = Observation(trace, sandbox.Result(b"", b"", 0, 1.0), None, None)
        return grader._judge(sub, info, static.analyse(sub.source), seen, time.monotonic())

    return run


def test_notes_messages_and_evidence_are_capped(judge):
    b = tiny_epochs(3000)
    for k in range(5000):
        b.ev("note", text="backward not recorded: the same reason" if k % 5 == 0 else f"note {k} " + "n" * 5000)
    b.ev("exception", type="E" * 10**5, message="m" * 10**6, lineno=1, line="l" * 10**6,
         frames=[{"file": "f" * 10**5, "lineno": 1, "name": "g"}] * 100)
    b.events.append({"e": "end", "i": len(b.events) + 1, "t": 0, "outcome": "exception", "exit_code": 1})
    rep = judge(b.trace())
    assert len(rep.model_dump_json()) < 300_000
    assert len(rep.warnings) == MAX_NOTES + 2 and rep.warnings[MAX_NOTES] == f"… and {4001 - MAX_NOTES:,} more"
    assert "backward not recorded: the same reason (×1,000)" in rep.warnings
    assert "graded with --sandbox none" in rep.warnings[-1]  # the grader's own warnings are not crowded out
    assert all(len(w) <= TEXT_CHARS + 40 for w in rep.warnings)
    assert all(len(c.message) <= TEXT_CHARS + 40 and len(json.dumps(c.evidence)) < 50_000 for c in rep.checks)
    assert "more characters" in rep.check("runs").message
    assert rep.training.epochs == 3000 and len(rep.training.epoch_losses) == 1000
    per_epoch = rep.check("prints_loss_each_epoch").evidence["epochs"]
    assert len(per_epoch) == MAX_ITEMS + 1 and per_epoch[-1] == f"… and {3000 - MAX_ITEMS:,} more"


def test_a_trace_past_the_harness_caps_is_not_judged(judge):
    records = [{"ch": protocol.TRACE, "ev": {"e": "note", "i": n, "text": "x"}} for n in range(MAX_TRACE_EVENTS + 5)]
    trace = Trace.from_records(records + [{"ch": protocol.SUP, "exit": 0}])
    assert len(trace.events) == MAX_TRACE_EVENTS and trace.sup is not None
    rep = judge(trace)
    assert rep.status == Status.invalid_submission and rep.score == 0
    assert "grader's own trace channel" in rep.message and f"{MAX_TRACE_EVENTS + 5:,} events" in rep.message


def test_the_supervisors_trace_cap_and_the_hosts_byte_cap_both_mark_the_trace(monkeypatch):
    key = b"k" * 32
    sup = protocol.encode({"ch": protocol.SUP, "exit": 0, "trace_capped": False}, key)
    lines = b"".join(protocol.encode({"ch": protocol.TRACE, "ev": {"e": "note", "i": n, "text": "x" * 100}}, key)
                     for n in range(1, 1001))
    assert Trace.from_stream(lines + sup, key).over_cap is None
    monkeypatch.setattr("grader.trace.MAX_STREAM_BYTES", len(lines) // 2)
    trace = Trace.from_stream(lines + sup, key)
    assert trace.over_cap.startswith(f"{len(lines + sup):,} bytes") and trace.sup is not None  # the final word kept
    assert 0 < len(trace.events) < 1000 and trace.forged == 0
    capped = protocol.encode({"ch": protocol.SUP, "exit": 0, "trace_capped": True}, key)
    assert "bytes of trace" in Trace.from_stream(capped, key).over_cap


def test_judging_past_its_deadline_ends_in_a_report(judge, monkeypatch):
    def endless(ctx):
        while True:
            pass

    monkeypatch.setattr(checks, "CHECKS", [*checks.CHECKS[:-1], ("learns", "Learns", endless)])
    started = time.monotonic()
    rep = judge(tiny_epochs(10).trace(), judge_timeout_s=1)
    assert time.monotonic() - started < 60  # generous: the fork is killed at 1 s
    assert rep.status == Status.internal_error and rep.score == 0
    assert "could not judge this run within 1 s" in rep.message


def test_judging_within_its_deadline_is_the_same_report(judge):
    trace = TraceBuilder().setup().run().end().trace()
    forked, inline = judge(trace, judge_timeout_s=60), judge(trace, judge_timeout_s=None)
    assert forked.status == Status.graded
    assert forked.model_dump(exclude={"timings", "created_at"}) == inline.model_dump(exclude={"timings", "created_at"})


def test_call_within_returns_the_answer_or_raises_what_the_work_raised():
    assert deadline.call_within(30, lambda: {"answer": 42}) == {"answer": 42}
    with pytest.raises(ZeroDivisionError):
        deadline.call_within(30, lambda: 1 / 0)
    with pytest.raises(deadline.DeadlineExceeded):
        deadline.call_within(0.5, lambda: time.sleep(30))


def test_the_report_model_caps_whatever_builds_it():
    from reports import make_report

    data = make_report().model_dump()
    data.update(message="m" * 10**5, warnings=[f"w{n} " + "w" * 10**4 for n in range(500)])
    data["submission"]["name"] = "n" * 10**5
    data["output"]["stdout_tail"] = "o" * 10**6 + "the end"
    rep = type(make_report()).model_validate(data)
    assert len(rep.message) <= TEXT_CHARS + 40 and len(rep.submission.name) <= 1040
    assert len(rep.warnings) == MAX_ITEMS + 1 and rep.warnings[-1] == f"… and {500 - MAX_ITEMS} more"
    assert rep.output.stdout_tail.endswith("the end") and len(rep.output.stdout_tail) <= 70_000
    assert len(rep.model_dump_json()) < 200_000
