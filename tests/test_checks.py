"""Each check on hand-built traces: no torch, no sandbox."""

import pytest
from builders import REFERENCE_OPS, TraceBuilder, act, affine

from grader import checks
from grader.checks import Context, Evaluation, Verification
from grader.rubric import Rubric
from grader.static import analyse


def ctx(builder: TraceBuilder, source: str = "", evaluation=None, sup=None, rubric=None,
        verification=None) -> Context:
    return Context(builder.trace(sup), analyse(source), rubric or Rubric(), evaluation, verification)


def good() -> TraceBuilder:
    return TraceBuilder().setup().run().end()


def test_reference_like_trace_passes_every_check():
    c = ctx(good(), evaluation=Evaluation(accuracy=0.91, examples=10000))
    for check_id, _, fn in checks.CHECKS:
        assert fn(c).passed, (check_id, fn(c).message)


# ---------------------------------------------------------------- runs
def test_runs_reports_exception_line_and_epoch():
    b = TraceBuilder().setup().run(epochs=2)
    b.epoch(1, 3, [0.5, 0.4], complete=False)
    b.ev("exception", type="ValueError", message="boom", lineno=20, line="raise ValueError('boom')", frames=[])
    b.end("exception")
    out = checks.check_runs(ctx(b))
    assert not out.passed
    assert "line 20" in out.message and "epoch 3" in out.message and "ValueError: boom" in out.message
    assert out.hint


def test_runs_import_error_hint_names_the_environment():
    b = TraceBuilder().ev("start").ev("phase", name="data", seconds=0.1)
    b.ev("exception", type="ModuleNotFoundError", message="No module named 'tensorflow'", lineno=1,
         line="import tensorflow", frames=[]).end("exception", model=False)
    out = checks.check_runs(ctx(b))
    assert not out.passed and "before training started" in out.message
    assert "torch, torchvision" in out.hint


def test_runs_timeout_without_end_event():
    b = TraceBuilder().setup().run(epochs=3)
    out = checks.check_runs(ctx(b, sup={"ch": "sup", "exit": -9, "soft_timeout": True, "hard_timeout": True}))
    assert not out.passed and "used up its 90 s of CPU time" in out.message and "epoch 3" in out.message


def test_runs_memory_error_is_reported_as_memory():
    b = TraceBuilder().setup()
    b.ev("exception", type="RuntimeError", message="[enforce fail] DefaultCPUAllocator: can't allocate memory",
         lineno=5, line="x = torch.zeros(...)", frames=[]).end("exception", model=False)
    assert checks.run_outcome(b.trace()) == "memory"
    assert "ran out of memory" in checks.check_runs(ctx(b)).message


def test_runs_killed_by_the_memory_limit():
    b = TraceBuilder().setup().run(epochs=2)  # killed mid-run: no end event
    c = Context(b.trace({"ch": "sup", "exit": -9}), analyse(""), Rubric(), None, oom=True, limits={"memory_mb": 3072})
    out = checks.check_runs(c)
    assert not out.passed and "more than 3072 MB" in out.message and "epoch 2" in out.message


def test_runs_nonzero_sys_exit():
    b = TraceBuilder().setup().run()
    b.ev("exception", type="SystemExit", message="3", lineno=40, line="sys.exit(3)", frames=[])
    b.end("exit", exit_code=3)
    out = checks.check_runs(ctx(b))
    assert not out.passed and "exited with status 3" in out.message


# ---------------------------------------------------------------- architecture
@pytest.mark.parametrize("ops, fragment", [
    ([affine(784, 128), act(), affine(128, 10)], "1 hidden layer"),
    ([affine(784, 128), act(), affine(128, 64), act(), affine(64, 32), act(), affine(32, 10)], "3 hidden layers"),
    ([affine(784, 128), affine(128, 64), act(), affine(64, 10)], "between linear layers 1 and 2 is linear"),
    ([affine(784, 128), act(), affine(128, 64), affine(64, 10)], "between linear layers 2 and 3 is linear"),
    ([{"op": "conv2d", "cat": "conv"}, act(), affine(1568, 64), act(), affine(64, 10)], "convolution"),
    ([affine(28, 128), act(), affine(128, 64), act(), affine(64, 10)], "takes 28 features"),
    ([affine(784, 128), act(), affine(128, 64), act(), affine(64, 2)], "2 outputs"),
])
def test_architecture_rejects(ops, fragment):
    out = checks.check_architecture(ctx(TraceBuilder().setup(ops=ops).run().end()))
    assert not out.passed and fragment in out.message, out.message


def test_architecture_accepts_extras_and_other_activations():
    ops = [affine(784, 256), act("tanh"), {"op": "dropout", "cat": "dropout"}, {"op": "batch_norm", "cat": "norm"},
           affine(256, 32), act("gelu"), affine(32, 10), act("log_softmax")]
    out = checks.check_architecture(ctx(TraceBuilder().setup(ops=ops).run().end()))
    assert out.passed and "784 → 256 → 32 → 10" in out.message


def test_architecture_uses_the_trained_models_path():
    b = TraceBuilder().setup(ops=[affine(784, 10)])  # module 2: a distractor with one layer...
    b.events[-1]["module"] = 7
    b.ev("forward_path", module=2, cls="Net", input=[64, 784], ops=REFERENCE_OPS)  # ...module 2 is trained
    assert checks.check_architecture(ctx(b.run().end())).passed


def test_architecture_without_forward():
    b = TraceBuilder().ev("start").ev("end", outcome="ok")
    assert "no network with parameters" in checks.check_architecture(ctx(b)).message


# ---------------------------------------------------------------- loss
def test_loss_mse_fails_with_static_evidence():
    b = TraceBuilder().setup().run(kind="mse").end()
    out = checks.check_loss(ctx(b, source="import torch\ncriterion = nn.MSELoss()\n"))
    assert not out.passed and "MSELoss" in out.message and "line 2" in out.message


def test_loss_nll_distinguishes_log_softmax():
    b = TraceBuilder().setup().run(kind="nll").end()
    assert "raw outputs" in checks.check_loss(ctx(b)).message
    # the harness records NLLLoss on log-probabilities (rows whose exp sums to 1) as the cross-entropy it is
    b = TraceBuilder().setup().run(kind="cross_entropy").end()
    b.ev("loss", loss=99, kind="nll", value=0.1, bs=64, grad=True, log_probs=True)
    out = checks.check_loss(ctx(b))
    assert out.passed and "log_softmax + NLLLoss" in out.message


def test_loss_cross_entropy_must_carry_the_gradient():
    b = TraceBuilder().setup().run(kind="cross_entropy").end()
    for e in b.events:
        if e["e"] == "backward":
            e["kinds"], e["ce_share"] = ["cross_entropy", "mse"], 0.0  # mse + 0 * cross_entropy
    out = checks.check_loss(ctx(b))
    assert not out.passed and "carries only 0.0%" in out.message and "MSELoss does the training" in out.message
    for e in b.events:
        if e["e"] == "backward":
            e["ce_share"] = 0.999  # ce + 1e-5 * l2
    assert checks.check_loss(ctx(b)).passed


def test_loss_unknown_hand_written():
    out = checks.check_loss(ctx(TraceBuilder().setup().run(kind="").end()))
    assert not out.passed and "hand-written" in out.message


def test_loss_never_backward():
    b = TraceBuilder().setup().end()
    assert "never called" in checks.check_loss(ctx(b)).message


# ---------------------------------------------------------------- optimizer
@pytest.mark.parametrize("cls, is_adam, fragment", [
    ("SGD", False, "SGD"),
    ("AdamW", False, "AdamW is a different optimizer"),
    ("Adam", False, "not torch.optim"),  # a class that is merely named Adam
])
def test_optimizer_rejects_non_adam(cls, is_adam, fragment):
    out = checks.check_optimizer(ctx(TraceBuilder().setup(opt_cls=cls, is_adam=is_adam).run().end()))
    assert not out.passed and fragment in out.message


def test_optimizer_never_stepped_or_never_changed():
    assert "never called" in checks.check_optimizer(ctx(TraceBuilder().setup().run(step=False).end())).message
    out = checks.check_optimizer(ctx(TraceBuilder().setup().run(changed=False).end()))
    assert not out.passed and "never changed a parameter" in out.message


def test_optimizer_must_step_the_trained_model():
    b = TraceBuilder().setup().run().end()
    b.events[-1]["stepped_by"] = 0
    assert "do not belong" in checks.check_optimizer(ctx(b)).message


def replayed(*adam: bool, opt: int = 1) -> Verification:
    """What the host found replaying recorded steps (grader/replay.py): one step per verdict on Adam's rule."""
    return Verification(steps=[{"opt": opt, "n": 2 + k, "backward": 2 + k, "adam": a, "moved": 1e-3,
                                "replayed": True} for k, a in enumerate(adam)])


def test_optimizer_is_judged_by_the_hosts_replay_and_outside_updates():
    b = TraceBuilder().setup().run().end()
    steps = [e for e in b.events if e["e"] == "step"]
    assert checks.check_optimizer(ctx(b, verification=replayed(True, True))).passed
    # SGD.step(adam): another rule moved the parameters
    out = checks.check_optimizer(ctx(b, verification=replayed(True, False)))
    assert "the way Adam's update rule does" in out.message
    # no step could be replayed: the rule is not taken on the trace's word
    out = checks.check_optimizer(ctx(b, verification=Verification(notes=["no training step was written down"])))
    assert not out.passed and "could not verify" in out.message and "written down" in out.message
    steps[1]["outside"] = True  # Adam(lr=0) beside a manual p.data -= lr * p.grad
    assert "something other than the optimizer" in checks.check_optimizer(ctx(b, verification=replayed(True))).message
    steps[1]["outside"] = False
    b.events.append({"e": "optimizer_end", "i": 10**6, "opt": steps[0]["opt"], "steps": len(steps), "state_steps": 3})
    assert "state counts 3 steps" in checks.check_optimizer(ctx(b, verification=replayed(True))).message


@pytest.mark.parametrize("check_id", ["loss", "optimizer", "epochs", "prints_loss_each_epoch", "zero_grad"])
def test_checks_that_read_the_trace_judge_nothing_when_the_replay_contradicts_it(check_id):
    fn = dict((cid, f) for cid, _, f in checks.CHECKS)[check_id]
    assert fn(ctx(good(), verification=replayed(True))).passed
    out = fn(ctx(good(), verification=Verification(problems=["step 9: its network gives 0.31 on its batch"])))
    assert not out.passed and out.message.startswith("could not verify the recorded training")
    assert "step 9: its network gives 0.31" in out.message and out.hint


def test_runs_architecture_and_learns_do_not_rest_on_the_trace():
    doubt = Verification(problems=["step 9: forged"])
    for check_id in ("runs", "architecture"):
        fn = dict((cid, f) for cid, _, f in checks.CHECKS)[check_id]
        assert fn(ctx(good(), verification=doubt)).passed


def test_zero_grad_between_backward_and_step_fails_zero_grad_not_optimizer():
    b = TraceBuilder().setup().run().end()
    for n, e in enumerate(e for e in b.events if e["e"] == "step"):
        if n < 3:
            e.update(moved=0.0, grads_zero=True)
    assert "between loss.backward() and optimizer.step()" in checks.check_zero_grad(ctx(b)).message
    assert checks.check_optimizer(ctx(b)).passed


def test_zero_grad_allows_gradient_accumulation():
    b = TraceBuilder().setup().run().end()
    events = [e for e in b.events if e["e"] in ("backward", "step")]
    for prev, e in zip(events, events[1:]):  # a second backward before the step finds the first one's gradients
        if e["e"] == "backward" and prev["e"] == "backward":
            e["cleared"] = False
    assert checks.check_zero_grad(ctx(b)).passed


# ---------------------------------------------------------------- epochs
def test_epochs_counts_complete_passes_and_uses_static_hint():
    out = checks.check_epochs(ctx(TraceBuilder().setup().run(epochs=5).end(), source="num_epochs = 5\n"))
    assert not out.passed and "5 full passes" in out.message and "line 1" in out.hint


def test_epochs_hint_points_at_the_line_that_disagrees():
    src = "p.add_argument('--epochs', type=int, default=10)\nfor epoch in range(3):\n    pass\n"
    out = checks.check_epochs(ctx(TraceBuilder().setup().run(epochs=3).end(), source=src))
    assert "line 2" in out.hint and "range(3)" in out.hint


def test_epochs_partial_pass_is_not_an_epoch():
    b = TraceBuilder().setup().run(epochs=9)
    b.epoch(1, 10, [0.3] * 5, complete=False)
    out = checks.check_epochs(ctx(b.end()))
    assert not out.passed and "9 full passes" in out.message and "1 unfinished pass" in out.message


def test_epochs_ignore_loader_passes_without_backward():
    b = TraceBuilder().setup()
    for e in range(1, 11):
        b.epoch(1, 2 * e - 1, [0.5] * 3, prints=[f"loss {0.5:.4f}"])
        b.ev("pass_start", loader=1, pass_no=2 * e, train=True, dataset_size=192, batches=3, bs=64)  # eval pass
        b.ev("pass_end", loader=1, pass_no=2 * e, batches=3, examples=192)
    assert checks.check_epochs(ctx(b.end())).passed


def test_epochs_by_examples_without_a_loader():
    b = TraceBuilder().setup(train_size=300)
    for e in range(10):
        for _ in range(3):
            b.ev("backward", losses=[], kinds=["cross_entropy"], value=1.0 / (e + 1), bs=100, cleared=True, in_pass=None)
        b.ev("line", s="o", text=f"epoch {e} loss {1.0 / (e + 1):.3f}")
    c = ctx(b.end())
    assert [ep.complete for ep in c.epochs] == [True] * 10
    assert checks.check_epochs(c).passed and checks.check_prints_loss(c).passed


# ---------------------------------------------------------------- prints
def test_prints_accepts_mean_running_average_and_scientific():
    for fmt in ("Epoch {e}: loss={loss:.3e}", "[{e}] {loss}"):
        assert checks.check_prints_loss(ctx(TraceBuilder().setup().run(fmt=fmt).end())).passed, fmt
    b = TraceBuilder().setup()
    for e in range(1, 11):
        losses = [1.0 / e, 0.5 / e, 0.25 / e]
        b.epoch(1, e, losses, prints=[f"epoch {e} avg {sum(losses) / 3:.4f}"])
    out = checks.check_prints_loss(ctx(b.end()))
    assert out.passed and "mean loss" in out.message


def test_prints_rejects_fake_numbers_and_integers():
    out = checks.check_prints_loss(ctx(TraceBuilder().setup().run(fmt="Epoch [{e}/{n}], Loss: 0.0000").end()))
    assert not out.passed and "none of those numbers is a loss" in out.message
    out = checks.check_prints_loss(ctx(TraceBuilder().setup().run(fmt="Epoch {e} done, step {n}").end()))
    assert not out.passed  # integers are counters, not losses


def test_prints_only_at_end_is_reported():
    b = TraceBuilder().setup()
    values = []
    for e in range(1, 11):
        losses = [1.0 / e] * 3
        values.append(losses[-1])
        b.epoch(1, e, losses)
    for e, v in enumerate(values, 1):
        b.ev("line", s="o", text=f"epoch {e}: {v:.4f}")
    out = checks.check_prints_loss(ctx(b.end()))
    assert not out.passed and "only after training" in out.message and "1–9" in out.message


def test_prints_every_batch_fails_under_the_default_cadence():
    """Issue 6, class 16: a report on (nearly) every batch is not 'the loss once per epoch'."""
    b = TraceBuilder().setup()
    for e in range(1, 11):
        losses = [1.0 / (e + k) for k in range(4)]
        b.ev("pass_start", loader=1, pass_no=e, train=True, dataset_size=256, batches=4, bs=64)
        for n, v in enumerate(losses):
            b.ev("backward", losses=[], kinds=["cross_entropy"], value=v, bs=64, cleared=True, in_pass=[1, e])
            b.ev("line", s="e", text=f"batch {n} loss {v:.5f}")
        b.ev("pass_end", loader=1, pass_no=e, batches=4, examples=256)
    out = checks.check_prints_loss(ctx(b.end()))
    assert not out.passed and "nearly every batch" in out.message and "every batch of epoch 1" in out.message


def test_prints_a_future_loss_does_not_count():
    """A line can only show losses computed before it was written."""
    b = TraceBuilder().setup()
    for e in range(1, 11):
        b.ev("pass_start", loader=1, pass_no=e, train=True, dataset_size=128, batches=2, bs=64)
        b.ev("line", s="o", text=f"loss {0.9 / e:.4f}")  # printed before the batch that computes it
        b.ev("backward", losses=[], kinds=["cross_entropy"], value=0.9 / e, bs=64, cleared=True, in_pass=[1, e])
        b.ev("pass_end", loader=1, pass_no=e, batches=1, examples=64)
    assert not checks.check_prints_loss(ctx(b.end())).passed


def test_output_tail_shows_what_a_terminal_shows():
    sup = {"ch": "sup", "exit": 0, "out_bytes": {"o": 40, "e": 0},
           "tail": "start\nepoch 1:  50%|#5| 1/2\repoch 1: 100%|##| 2/2\r\ndone\n"}
    sup["out_bytes"]["o"] = len(sup["tail"].encode())
    tail, truncated, total = TraceBuilder().trace(sup).output_tail()
    assert tail == "start\nepoch 1: 100%|##| 2/2\ndone\n" and not truncated
    sup["out_bytes"]["e"] = 10_000  # more was printed than the tail holds
    assert TraceBuilder().trace(sup).output_tail()[1]
    assert TraceBuilder().trace(sup).output_tail(max_lines=1) == ("done\n", True, total + 10_000)


# ---------------------------------------------------------------- zero_grad
def test_zero_grad_counts_stale_backwards():
    out = checks.check_zero_grad(ctx(TraceBuilder().setup().run(cleared=False).end(), source="x = 1\n"))
    assert not out.passed and "99 of 100" in out.message and "never calls zero_grad" in out.hint


def test_zero_grad_unknown_without_optimizer():
    b = TraceBuilder().setup()
    b.ev("backward", losses=[], kinds=["cross_entropy"], value=1.0, bs=64, cleared=None, in_pass=None)
    assert "could not be observed" in checks.check_zero_grad(ctx(b.end())).message


# ---------------------------------------------------------------- learns
def test_learns_threshold_and_hints():
    good_eval = Evaluation(accuracy=0.9, examples=10000)
    assert checks.check_learns(ctx(good(), evaluation=good_eval)).passed
    low = Evaluation(accuracy=0.101, examples=10000)
    b = TraceBuilder().setup().run().end()
    for ev in b.events:
        if ev["e"] == "step":
            ev["lr"] = 10.0
    out = checks.check_learns(ctx(b, evaluation=low))
    assert not out.passed and "about chance" in out.message and "learning rate, 10," in out.hint
    out = checks.check_learns(ctx(TraceBuilder().setup().run(cleared=False).end(), evaluation=low))
    assert "zero_grad" in out.hint


def test_learns_threshold_comes_from_the_rubric():
    ev = Evaluation(accuracy=0.85, examples=10000)
    assert not checks.check_learns(ctx(good(), evaluation=ev, rubric=Rubric(accuracy_threshold=0.9))).passed


def test_learns_reports_export_failure():
    b = TraceBuilder().setup().run().end()
    b.events[-1]["export_error"] = "UserError: data-dependent branch"
    out = checks.check_learns(ctx(b))
    assert not out.passed and "data-dependent branch" in out.message


def test_learns_near_the_threshold_is_confirmed_on_a_full_size_run():
    b = TraceBuilder().setup().run().end()
    near = checks.check_learns(ctx(b, evaluation=Evaluation(accuracy=0.78, examples=10000)))
    assert not near.passed and near.shortening_sensitive and "within 20%" in near.shortening_reason
    chance = checks.check_learns(ctx(b, evaluation=Evaluation(accuracy=0.11, examples=10000)))
    assert not chance.passed and not chance.shortening_sensitive
