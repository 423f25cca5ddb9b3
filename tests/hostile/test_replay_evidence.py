"""Issue 15, class 3: decisions rest on evidence the host checks, not on what the harness's interpreter says.

Both attacks reach the harness from inside (its optimizer hook, the trace recorder gc finds) and got full marks
before the host replayed recorded steps (grader/replay.py): SGD steps passed for Adam once the in-sandbox judge
was patched, and one real epoch was written up as ten with every event correctly keyed."""

from test_sandbox import hostile

from grader.report import Status


def test_sgd_dressed_as_adam_is_caught_by_the_hosts_replay(grader, tmp_path):
    rep = grader.grade(hostile(tmp_path, "replay_sgd_as_adam"))
    assert rep.status == Status.graded and "follows_adam" not in rep.output.stdout_tail  # nothing left to patch
    out = rep.check("optimizer")
    assert not out.passed and "the way Adam's update rule does" in out.message and "replayed" in out.message
    assert {c.id for c in rep.checks if not c.passed} == {"optimizer"}, {c.id: c.message for c in rep.checks}


def test_epochs_written_into_the_trace_are_not_believed(grader, tmp_path):
    rep = grader.grade(hostile(tmp_path, "replay_forged_epochs"))
    assert rep.status == Status.graded
    assert any(w.startswith("the recorded training could not be verified") for w in rep.warnings), rep.warnings
    for check_id in ("loss", "optimizer", "epochs", "prints_loss_each_epoch", "zero_grad"):
        out = rep.check(check_id)
        assert not out.passed and out.message.startswith("could not verify the recorded training"), out.message
    assert rep.score < 60
