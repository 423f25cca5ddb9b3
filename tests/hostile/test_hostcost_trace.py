"""Issue 15, class 5: host-side work proportional to what the submission chose. The submission shares its
interpreter with the harness's trace recorder, so it can send the host any trace the sandbox lets out; the
host's work on it must stay linear in a capped trace, its report small, and over-cap traces unjudged."""

from grader.report import MAX_ITEMS, TEXT_CHARS, Status
from grader.trace import MAX_TRACE_EVENTS
from test_sandbox import hostile


def test_a_forged_flood_of_tiny_epochs_is_judged_in_linear_time(grader, tmp_path):
    # 60,000 forged one-example epochs under the recorder's cap: the old host rescanned the trace per epoch
    # (over 200 s, killed); linear judging finishes well inside the judging deadline, so it is a verdict
    rep = grader.grade(hostile(tmp_path, "hostcost_epoch_flood", epochs=60_000))
    assert rep.status == Status.graded, rep.message
    assert rep.check("epochs").evidence["complete_passes"] == 60_000 and not rep.check("epochs").passed
    assert rep.check("learns").points == 0 and rep.score <= 50
    assert len(rep.model_dump_json()) < 200_000


def test_a_trace_past_the_harness_caps_is_not_judged(grader, tmp_path):
    rep = grader.grade(hostile(tmp_path, "hostcost_trace_flood", events=MAX_TRACE_EVENTS + 1000))
    assert rep.status == Status.invalid_submission and rep.score == 0
    assert "grader's own trace channel" in rep.message and "events, over the" in rep.message


def test_huge_notes_and_messages_keep_the_report_small(grader, tmp_path):
    rep = grader.grade(hostile(tmp_path, "hostcost_note_flood", notes=20_000))
    assert rep.status == Status.runtime_error and rep.score == 0
    assert len(rep.model_dump_json()) < 300_000  # was 104 MB
    assert len(rep.warnings) <= MAX_ITEMS + 1 and any(w.startswith("… and ") for w in rep.warnings)
    assert all(len(c.message) <= TEXT_CHARS + 40 for c in rep.checks)
    assert "more characters" in rep.check("runs").message
