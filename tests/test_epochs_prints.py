"""Epochs and the per-epoch loss print, on hand-built traces of many program styles (issue 6: classes 2, 3,
4, 10, 14, 15, 16). Each trace spells what the harness records for a program written that way."""

import random

import pytest
from builders import TraceBuilder, realistic_losses

from grader import checks
from grader.checks import Context
from grader.rubric import Rubric
from grader.static import analyse

SERVED = 3000  # the shortened training set the harness serves
BATCHES = 47  # ceil(3000 / 64)


def ctx(b: TraceBuilder, source: str = "", rubric: Rubric | None = None, end: bool = True) -> Context:
    if end:
        b.end()
    return Context(b.trace(), analyse(source), rubric or Rubric())


def prints(c: Context):
    return checks.check_prints_loss(c)


def setup() -> TraceBuilder:
    return TraceBuilder().setup(train_size=SERVED)


def last_batch_sizes(n: int = SERVED, bs: int = 64) -> list[int]:
    sizes = [bs] * (n // bs)
    return sizes + ([n % bs] if n % bs else [])


def loader_pass(b: TraceBuilder, loader: int, pass_no: int, losses: list[float], *, dataset: int = SERVED,
                bs: int = 64, drop_last: bool = False, stop: bool = True, each=None, **kw) -> list[float]:
    """for x, y in loader: loss = ...; loss.backward(); step — returns the batch sizes trained."""
    sizes = [bs] * (dataset // bs) if drop_last else last_batch_sizes(dataset, bs)
    sizes = sizes[:len(losses)]
    b.ev("pass_start", loader=loader, pass_no=pass_no, train=True, dataset_size=dataset,
         batches=len(sizes) if drop_last else -(-dataset // bs), bs=bs)
    for n, (value, size) in enumerate(zip(losses, sizes, strict=True)):
        b.train_step(value, bs=size, in_pass=[loader, pass_no], **kw)
        if each:
            each(n, value)
    if stop:
        b.ev("pass_end", loader=loader, pass_no=pass_no, batches=len(sizes), examples=sum(sizes))
    return sizes


def fmt(v: float) -> str:
    return f"{v:.4f}"


# ================================================================ epochs: however the examples were fetched
def test_a_new_dataloader_every_epoch_counts_each_pass():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 2 * e - 1, 1, losses)  # train_one_epoch() builds its own DataLoader
        b.ev("pass_start", loader=2 * e, pass_no=1, train=False, dataset_size=1000, batches=16, bs=64)
        b.ev("pass_end", loader=2 * e, pass_no=1, batches=16, examples=1000)  # and a test loader
        b.line(f"Epoch {e}: loss {fmt(losses[-1])}")
    c = ctx(b)
    out = checks.check_epochs(c)
    assert out.passed and len(c.epochs) == 10 and all(len(ep.backwards) == BATCHES for ep in c.epochs), out.message
    assert prints(c).passed


def test_next_on_an_iterator_exactly_len_loader_times_is_a_full_pass():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):  # it = iter(loader); for _ in range(len(loader)): next(it)
        loader_pass(b, 1, e, losses, stop=False)
        b.line(f"epoch {e} loss={losses[-1]:.3f}")
    c = ctx(b)
    assert checks.check_epochs(c).passed, checks.check_epochs(c).message
    assert prints(c).passed


@pytest.mark.parametrize("evaluate_each_epoch", [False, True])
def test_batches_cached_in_a_list_once_and_trained_ten_times(evaluate_each_epoch):
    b, curve = setup(), realistic_losses()
    b.ev("pass_start", loader=1, pass_no=1, train=True, dataset_size=SERVED, batches=BATCHES, bs=64)
    b.ev("pass_end", loader=1, pass_no=1, batches=BATCHES, examples=SERVED)  # batches = list(loader)
    sizes = last_batch_sizes()
    stale = [1, 1]
    for e, losses in enumerate(curve, 1):
        for value, size in zip(losses, sizes):
            b.train_step(value, bs=size, in_pass=stale)  # the harness still names the ended pass
        if evaluate_each_epoch:
            b.ev("pass_start", loader=2, pass_no=e, train=False, dataset_size=1000, batches=16, bs=64)
            for _ in range(16):
                b.loss(0.3, grad=False)
            b.ev("pass_end", loader=2, pass_no=e, batches=16, examples=1000)
            stale = [2, e]
        b.line(f"epoch {e}: {fmt(sum(losses) / len(losses))}")
    c = ctx(b)
    out = checks.check_epochs(c)
    assert out.passed and [len(ep.backwards) for ep in c.epochs] == [BATCHES] * 10, out.message
    assert prints(c).passed, prints(c).message


def test_manual_batching_that_drops_the_remainder_each_pass():
    b, curve = setup(), realistic_losses(batches=SERVED // 64)  # for i in range(len(X) // 64)
    for e, losses in enumerate(curve, 1):
        for value in losses:
            b.train_step(value, bs=64)
        b.line(f"[{e}/10] loss {fmt(losses[-1])}")
    c = ctx(b)
    out = checks.check_epochs(c)
    assert out.passed and all(ep.size == 2944 for ep in c.epochs), out.message
    assert prints(c).passed


def test_drop_last_loader_and_a_sum_over_batches_divided_by_len_dataset():
    b, curve = setup(), realistic_losses(batches=SERVED // 64)
    for e, losses in enumerate(curve, 1):
        sizes = loader_pass(b, 1, e, losses, drop_last=True)
        b.line(f"Epoch {e} train loss {sum(v * s for v, s in zip(losses, sizes)) / SERVED:.5f}")
    c = ctx(b)
    assert checks.check_epochs(c).passed
    out = prints(c)
    assert out.passed and "divided by the training set's size" in out.message, out.message


def test_a_subset_of_the_training_set_is_the_training_set():
    b, curve = setup(), realistic_losses(batches=32)
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e, losses, dataset=2000)  # Subset(train, range(...)) as the grader scaled it
        b.line(f"loss {fmt(losses[-1])}")
    c = ctx(b)
    out = checks.check_epochs(c)
    assert out.passed and "2,000 images in the shortened grading run" in out.message, out.message
    assert "3000" not in out.message and "3,000" not in out.message


def test_gradient_accumulation_backward_every_batch_step_every_fourth():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        b.ev("pass_start", loader=1, pass_no=e, train=True, dataset_size=SERVED, batches=BATCHES, bs=64)
        for n, (value, size) in enumerate(zip(losses, last_batch_sizes())):
            b.train_step(value, bs=size, in_pass=[1, e], step=(n + 1) % 4 == 0, backward_value=value / 4)
        b.ev("pass_end", loader=1, pass_no=e, batches=BATCHES, examples=SERVED)
        b.line(f"epoch {e}: loss {fmt(losses[-1])}")  # prints the un-divided loss
    c = ctx(b)
    assert checks.check_epochs(c).passed and prints(c).passed, prints(c).message


def test_a_fresh_iterator_for_every_batch_is_counted_by_examples():
    b, curve = setup(), realistic_losses()
    p = 0
    for e, losses in enumerate(curve, 1):
        for value, size in zip(losses, last_batch_sizes()):  # x, y = next(iter(loader)) for every batch
            p += 1
            b.ev("pass_start", loader=1, pass_no=p, train=True, dataset_size=SERVED, batches=BATCHES, bs=64)
            b.train_step(value, bs=size, in_pass=[1, p])
        b.line(f"epoch {e}: {fmt(losses[-1])}")
    c = ctx(b)
    out = checks.check_epochs(c)
    assert out.passed and len(c.epochs) == 10, out.message
    assert prints(c).passed


def test_one_batch_per_epoch_fails_epochs_but_its_prints_are_judged_per_iteration():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):  # for epoch in range(10): x, y = next(iter(loader)); ...
        loader_pass(b, 1, e, losses[:1], stop=False)
        b.line(f"Epoch {e}: loss {fmt(losses[0])}")
    c = ctx(b, source="for epoch in range(10):\n    x, y = next(iter(loader))\n")
    out = checks.check_epochs(c)
    assert not out.passed and "ran 10 times" in out.message and "1 batch" in out.message, out.message
    assert "range(10)" not in (out.hint or "")  # the loop is right: never point at it
    assert prints(c).passed, prints(c).message


def test_end_of_epoch_lines_belong_to_the_epoch_that_just_ended():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        b.line(f"Epoch {e}/10")  # header: before this epoch's pass starts
        loader_pass(b, 1, 2 * e - 1, losses)
        b.ev("pass_start", loader=1, pass_no=2 * e, train=True, dataset_size=SERVED, batches=BATCHES, bs=64)
        b.ev("pass_end", loader=1, pass_no=2 * e, batches=BATCHES, examples=SERVED)  # evaluation pass, no backward
        b.line(f"  train loss {fmt(losses[-1])}")
    c = ctx(b)
    for ep, losses in zip(c.epochs, curve):  # the next epoch's header, printed before its pass, comes after
        texts = [ev["text"].strip() for ev, _ in ep.lines]
        assert f"train loss {fmt(losses[-1])}" in texts and f"Epoch {ep.index}/10" not in texts[1:]
    assert prints(c).passed


# ================================================================ printed loss: every loss the program computed
def _epochs_printing(line_for, seed: int = 0, **kw) -> Context:
    b, curve = setup(), realistic_losses(seed=seed)
    for e, losses in enumerate(curve, 1):
        sizes = loader_pass(b, 1, e, losses, **kw)
        b.line(line_for(e, losses, sizes))
    return ctx(b)


@pytest.mark.parametrize("line_for", [
    lambda e, ls, s: f"Epoch [{e}/10], Loss: {ls[-1]:.4f}",  # last batch
    lambda e, ls, s: f"epoch {e} avg loss {sum(ls) / len(ls):.3f}",  # epoch mean
    lambda e, ls, s: f"epoch {e} loss {sum(v * n for v, n in zip(ls, s)) / sum(s):.4f}",  # weighted mean
    lambda e, ls, s: f"epoch={e} running_loss={sum(ls):.2f}",  # running total
    lambda e, ls, s: f"{e}: {sum(ls) / SERVED:.6f}",  # summed means / len(dataset): a common slip, still a loss
    lambda e, ls, s: f"Epoch {e} | loss {ls[-1]:.3e}",  # scientific
    lambda e, ls, s: f"{e} {ls[-1]}",  # repr of loss.item()
])
def test_honest_prints_of_training_statistics(line_for):
    out = prints(_epochs_printing(line_for))
    assert out.passed and out.evidence["epochs_printed"] == 10, out.message


def test_two_decimals_are_enough_when_every_epoch_agrees():
    out = prints(_epochs_printing(lambda e, ls, s: f"Epoch {e}: loss = {sum(ls) / len(ls):.2f}"))
    assert out.passed, out.message


def test_reduction_sum_divided_by_the_dataset_size():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        sizes = last_batch_sizes()
        sums = [v * n for v, n in zip(losses, sizes)]
        loader_pass(b, 1, e, sums, reduction="sum")  # CrossEntropyLoss(reduction='sum')
        b.line(f"epoch {e}: loss {sum(sums) / SERVED:.4f}")
    out = prints(ctx(b))
    assert out.passed and "per example" in out.message or "divided" in out.message, out.message


def test_the_ce_term_printed_while_ce_plus_l2_was_back_propagated():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        b.ev("pass_start", loader=1, pass_no=e, train=True, dataset_size=SERVED, batches=BATCHES, bs=64)
        for value, size in zip(losses, last_batch_sizes()):
            b.train_step(value, bs=size, in_pass=[1, e], backward_value=value + 0.0123)  # (ce + l2).backward()
        b.ev("pass_end", loader=1, pass_no=e, batches=BATCHES, examples=SERVED)
        b.line(f"epoch {e}: ce {fmt(losses[-1])}")
    out = prints(ctx(b))
    assert out.passed and "last batch's loss" in out.message, out.message


@pytest.mark.parametrize("examples", [SERVED, 1000])  # the whole training set, or a validation set
def test_a_loss_evaluated_after_each_epoch(examples):
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e, losses)
        evaluated = [round(sum(losses[-10:]) / 10 * (1 + 0.01 * k), 6) for k in range(-(-examples // 500))]
        for v in evaluated:  # with torch.no_grad(): loss over the set, in batches of 500
            b.loss(v, bs=500, grad=False)
        b.line(f"epoch {e} train {fmt(sum(evaluated) / len(evaluated))}")
    out = prints(ctx(b))
    assert out.passed and "evaluation" in out.message, out.message


def test_a_validation_loss_summed_then_divided_like_pytorch_examples():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e, losses)
        sums = [64 * (0.2 + 0.01 * k) / e for k in range(15)] + [40 * 0.3 / e]
        for v, n in zip(sums, [64] * 15 + [40]):
            b.loss(v, bs=n, grad=False, reduction="sum")
        b.line(f"Test set: Average loss: {sum(sums) / 1000:.4f}, Accuracy: 950/1000 (95%)")
    out = prints(ctx(b))
    assert out.passed, out.message


def test_tutorial_running_loss_every_ten_batches_reset_after_each_print():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        window = []

        def report(n, v, window=window, e=e):
            window.append(v)
            if (n + 1) % 10 == 0:
                b.line(f"[{e}, {n + 1:5d}] loss: {sum(window) / 10:.3f}")
                window.clear()
        loader_pass(b, 1, e, losses, each=report)
    out = prints(ctx(b))
    assert out.passed and "4 times per epoch" in out.message and "since the previous report" in out.message, \
        out.message


# ================================================================ cadence: as a terminal shows it
def test_a_progress_bar_redrawn_every_batch_is_one_report_per_epoch():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        def bar(n, v, e=e):
            b.line(f"Epoch {e}: {100 * (n + 1) // BATCHES}%|###| {n + 1}/{BATCHES} [00:01<00:00, 41.23it/s, "
                   f"loss={v:.3g}]", end="\r" if n + 1 < BATCHES else "\n", stream="e")
        loader_pass(b, 1, e, losses, each=bar)
    out = prints(ctx(b))
    assert out.passed and "times per epoch" not in out.message, out.message


def test_printing_every_batch_fails_with_a_clear_message():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e, losses, each=lambda n, v, e=e: b.line(f"epoch {e} batch {n} loss {v:.4f}"))
    out = prints(ctx(b))
    assert not out.passed and out.credit == 0
    assert "on every batch of epoch 1" in out.message and "in 10 epochs" in out.message, out.message
    assert "once per epoch" in out.message and "47" not in out.message  # no size the student never had


def test_printing_every_few_batches_passes():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e, losses, each=lambda n, v, e=e: n % 20 == 0 and b.line(f"{e}/{n}: {v:.4f}"))
    assert prints(ctx(b)).passed


def test_the_cadence_is_a_rubric_policy():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e, losses, each=lambda n, v, e=e: b.line(f"epoch {e} batch {n} loss {v:.4f}"))
    rubric = Rubric.model_validate({"policy": {"max_reports_per_batch": None}})
    assert prints(ctx(b, rubric=rubric)).passed


# ================================================================ fake prints
HARD_CODED = [2.3012, 1.2345, 0.9871, 0.7123, 0.5432, 0.4321, 0.3456, 0.2789, 0.2234, 0.1876]


def _cheat(line_for, seed: int = 0) -> Context:
    b, curve = setup(), realistic_losses(seed=seed)
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e, losses)
        b.line(line_for(e))
    return ctx(b)


def test_random_numbers_with_one_decimal_never_earn_anything():
    for seed in range(60):
        rng = random.Random(seed)
        out = prints(_cheat(lambda e, rng=rng: f"Epoch {e}, Loss: {rng.uniform(.1, .5):.1f}", seed))
        assert not out.passed and out.credit == 0, (seed, out.message)


def test_random_numbers_with_four_decimals_never_earn_anything():
    for seed in range(30):
        rng = random.Random(seed)
        out = prints(_cheat(lambda e, rng=rng: f"Epoch {e}, Loss: {rng.uniform(.02, 1.2):.4f}", seed))
        assert not out.passed and out.credit == 0, (seed, out.message)


@pytest.mark.parametrize("line_for, fragment", [
    (lambda e: "Loss: 0.3", "too coarse"),
    (lambda e: "Loss: 0.3000", "none of those numbers is a loss"),
    (lambda e: f"Epoch {e} Loss: {[0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.1][e - 1]:.1f}", "Loss: 0."),
    (lambda e: f"Epoch {e} Loss: {[92.1, 94.3, 95.0, 95.9, 96.4, 96.9, 97.3, 97.6, 97.9, 98.2][e - 1]:.1f}",
     "Loss: 9"),  # an accuracy printed as a loss
    (lambda e: f"Epoch {e} Loss: {HARD_CODED[e - 1]}", "none of those numbers is a loss"),
])
def test_fake_prints_fail(line_for, fragment):
    out = prints(_cheat(line_for))
    assert not out.passed and out.credit == 0 and fragment in out.message, out.message
    assert not out.shortening_sensitive


def test_half_real_half_made_up_earns_half_and_names_the_epochs():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e, losses)
        b.line(f"Epoch {e} loss {fmt(losses[-1]) if e <= 5 else fmt(0.5 / e + 0.0123)}")
    out = prints(ctx(b))
    assert not out.passed and out.credit == pytest.approx(0.5)
    assert "epochs 1–5 printed the last batch's loss" in out.message and "epochs 6–10" in out.message, out.message


def test_switching_statistic_between_epochs_is_not_consistent():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e, losses)
        b.line(f"Epoch {e} loss {fmt(losses[-1]) if e % 2 else fmt(sum(losses))}")
    out = prints(ctx(b))
    assert not out.passed and out.credit == pytest.approx(0.5) and "different statistic" in out.message


# ================================================================ partial runs
def test_one_epoch_then_exit_prints_every_epoch_it_trained():
    # one mistake, one check: the epoch count is `epochs`' to judge, not the print's
    b, curve = setup(), realistic_losses()
    loader_pass(b, 1, 1, curve[0])
    b.line(f"Epoch 1, loss {fmt(curve[0][-1])}")
    c = ctx(b)
    out = prints(c)
    assert out.passed and "the only epoch printed its loss" in out.message and "`epochs`" in out.message, out.message
    assert not checks.check_epochs(c).passed


def test_five_epochs_that_missed_one_print_earn_four_fifths():
    b, curve = setup(), realistic_losses(epochs=5)
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e, losses)
        if e != 3:
            b.line(f"Epoch {e}, loss {fmt(losses[-1])}")
    out = prints(ctx(b))
    assert not out.passed and out.credit == pytest.approx(0.8) and "epoch 3 printed no loss" in out.message


def test_a_loss_that_is_not_cross_entropy_printed_every_epoch_passes_prints():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e, [v / 10 for v in losses], kind="mse")
        b.line(f"Epoch {e}, MSE {fmt(losses[-1] / 10)}")
    c = ctx(b)
    assert prints(c).passed and not checks.check_loss(c).passed


# where a run stopped, against the source's loops: lines 2-7 are the loop over epochs, line 6 its backward()
TRAIN_THEN_TEST = """def train():
    for epoch in range(10):
        if epoch == 3:
            decay()
        for x, y in loader:
            loss.backward()
        print(epoch)
train()
test()
"""


def crashed_after_three_epochs(stopped_at: list[int] | None, outcome: str = "exception") -> Context:
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve[:3], 1):
        if e == 1:
            b.ev("pass_start", loader=1, pass_no=1, train=True, dataset_size=SERVED, batches=BATCHES, bs=64)
            lid = b.loss(losses[0])
            b.ev("backward", losses=[lid], kinds=["cross_entropy"], value=losses[0], bs=64, cleared=True,
                 in_pass=[1, 1], at=[8, 6])
            b.ev("step", opt=1, changed=True, had_grad=True, lr=0.001, device="cpu")
            for value, size in zip(losses[1:], last_batch_sizes()[1:]):
                b.train_step(value, bs=size, in_pass=[1, 1])
            b.ev("pass_end", loader=1, pass_no=1, batches=BATCHES, examples=SERVED)
        else:
            loader_pass(b, 1, e, losses)
        b.line(f"Epoch {e}, loss {fmt(losses[-1])}")
    if outcome == "exception":
        b.ev("exception", type="TypeError", message="boom", lineno=(stopped_at or [0])[-1], line="x", frames=[])
    b.end(outcome, **({"at": stopped_at} if stopped_at else {}))
    return ctx(b, source=TRAIN_THEN_TEST, end=False)


def test_a_crash_after_the_training_loop_is_charged_to_runs_only():
    c = crashed_after_three_epochs([9])  # test() raised: training had ended
    out = prints(c)
    assert out.passed and "each of the 3 epochs printed its loss" in out.message, out.message
    epochs, runs = checks.check_epochs(c), checks.check_runs(c)
    assert not runs.passed and "after the training loop (which ended after epoch 3)" in runs.message, runs.message
    assert not epochs.passed
    assert "before training finished" not in epochs.hint and "exactly 10 epochs" in epochs.hint


def test_a_crash_between_two_epochs_inside_the_epoch_loop_cuts_training_off():
    c = crashed_after_three_epochs([8, 4])  # the lr decay at the start of epoch 4 raised
    out = prints(c)
    assert "during epoch 3" in checks.check_runs(c).message
    assert "before training finished" in checks.check_epochs(c).hint
    assert not out.passed and out.credit == pytest.approx(0.3), out.message
    assert "cut off inside its training" in out.message and "3/10 of the points" in out.message


def test_a_stop_the_grader_cannot_place_counts_as_inside_training():
    out = prints(crashed_after_three_epochs(None))
    assert not out.passed and out.credit == pytest.approx(0.3), out.message


def test_a_hang_after_training_is_charged_to_runs_only():
    c = crashed_after_three_epochs([9], outcome="timeout")
    assert prints(c).passed and checks.run_outcome(c.trace) == "timeout"


def test_a_crash_in_epoch_four_keeps_the_prints_of_epochs_one_to_three():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve[:3], 1):
        loader_pass(b, 1, e, losses)
        b.line(f"Epoch {e}, loss {fmt(losses[-1])}")
    loader_pass(b, 1, 4, curve[3][:5], stop=False)
    b.ev("exception", type="RuntimeError", message="boom", lineno=30, line="x", frames=[])
    b.end("exception")
    c = ctx(b, source="for epoch in range(10):\n    pass\n", end=False)
    out = prints(c)
    assert not out.passed and out.credit == pytest.approx(0.3), out.message
    assert "before the run stopped" in out.message
    ep = checks.check_epochs(c)
    assert not ep.passed and "3 full passes" in ep.message and "range(10)" not in (ep.hint or "")


def test_more_epochs_than_required_still_printed_every_epoch():
    b, curve = setup(), realistic_losses(epochs=12)
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e, losses)
        b.line(f"Epoch {e}, loss {fmt(losses[-1])}")
    c = ctx(b)
    assert prints(c).passed and not checks.check_epochs(c).passed


def test_partial_credit_can_be_turned_off():
    assert Rubric.model_validate({"policy": {"partial_credit": "none"}}).policy.partial_credit == "none"
    with pytest.raises(ValueError):
        Rubric.model_validate({"policy": {"partial_credit": "sometimes"}})


# ================================================================ shortening artifacts
def test_a_print_every_hundred_batches_never_fires_in_a_shortened_epoch():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):  # if (i + 1) % 100 == 0: print(...)
        loader_pass(b, 1, e, losses)
    out = prints(ctx(b))
    assert not out.passed and out.shortening_sensitive and "full-size" in out.shortening_reason
    assert "3000" not in out.message and "3,000" not in out.message


def test_a_global_step_counter_fires_in_some_epochs_only():
    b, curve = setup(), realistic_losses()
    step = 0
    for e, losses in enumerate(curve, 1):
        def every_100(n, v, e=e):
            nonlocal step
            step += 1
            if step % 100 == 0:
                b.line(f"step {step}: loss {v:.4f}")
        loader_pass(b, 1, e, losses, each=every_100)
    out = prints(ctx(b))
    assert not out.passed and out.credit == pytest.approx(0.4) and out.shortening_sensitive
    assert "epochs 1–2, 4, 6, 8, 10 printed no loss value" in out.message, out.message


def test_a_full_size_run_is_not_marked_as_shortened():
    b, curve = TraceBuilder().setup(train_size=60000), realistic_losses()
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e, losses)
    assert not prints(ctx(b)).shortening_sensitive


def test_a_line_after_the_next_pass_started_but_before_its_first_batch_belongs_to_the_ended_epoch():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        b.ev("pass_start", loader=1, pass_no=e, train=True, dataset_size=SERVED, batches=BATCHES, bs=64)
        if e > 1:  # for i, (x, y) in enumerate(loader): if i == 0 and epoch: print(previous epoch's mean)
            b.line(f"epoch {e - 1} mean loss {fmt(sum(curve[e - 2]) / BATCHES)}")
        for value, size in zip(losses, last_batch_sizes()):
            b.train_step(value, bs=size, in_pass=[1, e])
        b.ev("pass_end", loader=1, pass_no=e, batches=BATCHES, examples=SERVED)
    b.line(f"epoch 10 mean loss {fmt(sum(curve[-1]) / BATCHES)}")
    out = prints(ctx(b))
    assert out.passed and "mean loss" in out.message, out.message


def test_the_mean_of_undivided_losses_without_a_loader_under_gradient_accumulation():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):  # manual batches; backward on loss / 4; print mean of loss.item()
        for n, (value, size) in enumerate(zip(losses, last_batch_sizes())):
            b.train_step(value, bs=size, backward_value=value / 4, step=(n + 1) % 4 == 0)
        b.line(f"epoch {e}: {sum(losses) / len(losses):.5f}")
    c = ctx(b)
    out = prints(c)
    assert checks.check_epochs(c).passed and out.passed and "mean loss" in out.message, out.message


def test_manual_batches_dropping_the_remainder_and_dividing_by_len_x():
    b, curve = setup(), realistic_losses(batches=SERVED // 64)
    for e, losses in enumerate(curve, 1):  # epoch_loss += loss.item() * 64 ... print(epoch_loss / len(X))
        for value in losses:
            b.train_step(value, bs=64)
        b.line(f"epoch {e}: {sum(v * 64 for v in losses) / SERVED:.4f}")
    out = prints(ctx(b))
    assert out.passed and "divided by the training set's size" in out.message, out.message


def test_a_demonstration_step_before_training_is_not_an_epoch():
    b, curve = setup(), realistic_losses()
    loader_pass(b, 1, 1, [2.31], stop=False)  # images, labels = next(iter(loader)); one step on a demo model
    b.line("demo step loss 2.3100")
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e + 1, losses)
        b.line(f"Epoch {e}: {fmt(losses[-1])}")
    c = ctx(b)
    assert checks.check_epochs(c).passed and len(c.epochs) == 10, checks.check_epochs(c).message
    assert prints(c).passed


def test_printing_every_fifth_epoch_is_not_an_artifact_of_shortening():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e, losses)
        if e % 5 == 0:
            b.line(f"Epoch {e}: {fmt(losses[-1])}")
    out = prints(ctx(b))
    assert not out.passed and out.credit == pytest.approx(0.2) and not out.shortening_sensitive
    assert "epochs 1–4, 6–9 printed no loss value" in out.message, out.message


def test_a_crash_in_the_first_epoch_before_any_print():
    b, curve = setup(), realistic_losses()
    loader_pass(b, 1, 1, curve[0][:10], stop=False)
    b.ev("exception", type="RuntimeError", message="boom", lineno=30, line="x", frames=[])
    b.end("exception")
    out = prints(ctx(b, end=False))
    assert not out.passed and out.credit == 0 and "stopped during epoch 1" in out.message, out.message
    assert not out.shortening_sensitive


def test_a_single_printing_epoch_among_silent_ones_is_named_in_the_singular():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e, losses)
        if e == 3:
            b.line(f"Epoch {e}: {losses[-1]:.6f}")
    out = prints(ctx(b))
    assert not out.passed and out.message.startswith("epoch 3 printed the last batch's loss"), out.message
    assert out.credit == pytest.approx(0.1)


def test_round_to_two_places_that_drops_a_trailing_zero_still_counts():
    b, curve = setup(), realistic_losses()
    curve[6][-1] = 0.1003  # round(0.1003, 2) prints as 0.1
    for e, losses in enumerate(curve, 1):
        loader_pass(b, 1, e, losses)
        b.line(f"epoch {e} loss {round(losses[-1], 2)}")
    out = prints(ctx(b))
    assert "epoch 7 loss 0.1" in [p["example"] for p in out.evidence["epochs"]] and out.passed, out.message


def test_honest_but_one_decimal_is_not_evidence_once_the_losses_are_small():
    """0.1 steps tell 1.1 from 0.4 (early epochs count), but not 0.1 from a loss of 0.06 (late ones don't)."""
    out = prints(_epochs_printing(lambda e, ls, s: f"Epoch {e}: loss {ls[-1]:.1f}"))
    assert not out.passed and "epochs 7–10 printed a number too coarse to be evidence" in out.message, out.message
    assert out.credit == pytest.approx(0.6)


@pytest.mark.parametrize("line_for", [
    lambda e, ls, s: f"Epoch {e}: {ls[-1]:.2f}",
    lambda e, ls, s: f"Epoch {e}: {sum(ls) / len(ls):.2f}",
    lambda e, ls, s: f"Epoch {e}: {sum(ls):.1f}",
])
def test_honest_two_decimal_prints_pass_on_many_loss_curves(line_for):
    for seed in range(20):
        out = prints(_epochs_printing(line_for, seed))
        assert out.passed, (seed, out.message)


def test_a_logging_loss_beside_every_step_does_not_hide_the_validation_loss():
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        b.ev("pass_start", loader=1, pass_no=e, train=True, dataset_size=SERVED, batches=BATCHES, bs=64)
        for value, size in zip(losses, last_batch_sizes()):
            b.loss(value * 1.01, bs=size, grad=False)  # with torch.no_grad(): criterion(out.detach(), y) to log
            b.train_step(value, bs=size, in_pass=[1, e])
        b.ev("pass_end", loader=1, pass_no=e, batches=BATCHES, examples=SERVED)
        val = [0.4 / e + 0.01 * k for k in range(8)]
        for v in val:
            b.loss(v, bs=125, grad=False)
        b.line(f"epoch {e} val_loss {sum(val) / len(val):.4f}")
    out = prints(ctx(b))
    assert out.passed and "evaluation" in out.message, out.message


# ================================================================ every loss computed is a candidate (issue 16, 3)
def monitored_run(log_before_backward: bool, in_pass: bool = True, validate: bool = False) -> TraceBuilder:
    """Back-propagates a label-smoothed cross-entropy; logs a plain one on the same outputs (under no_grad, on
    .detach()ed outputs, or criterion(...).item()), never back-propagated, and prints that log's epoch mean."""
    b, curve = setup(), realistic_losses()
    for e, losses in enumerate(curve, 1):
        b.ev("pass_start", loader=1, pass_no=e, train=True, dataset_size=SERVED, batches=BATCHES, bs=64)
        logged = []
        for value, size in zip(losses, last_batch_sizes()):
            logged.append(value * 0.93)
            where = [1, e] if in_pass else None
            if log_before_backward:
                b.loss(logged[-1], bs=size, grad=False, in_pass=where)
            b.train_step(value, bs=size, in_pass=[1, e])
            if not log_before_backward:
                b.loss(logged[-1], bs=size, grad=True, in_pass=where)  # step(); total += criterion(out, y).item()
        b.ev("pass_end", loader=1, pass_no=e, batches=BATCHES, examples=SERVED)
        if validate:
            for v in [0.4 / e + 0.01 * k for k in range(8)]:
                b.loss(v, bs=125, grad=False, in_pass=[2, e])
        b.line(f"Epoch {e}/10: loss {sum(logged) / len(logged):.4f}")
    return b


@pytest.mark.parametrize("validate", [False, True])
def test_a_loss_logged_after_each_step_counts_its_last_batch(validate):
    out = prints(ctx(monitored_run(log_before_backward=False, validate=validate)))
    assert out.passed and "mean" in out.message, out.message


def test_a_loss_logged_before_each_backward_belongs_to_the_pass_it_was_computed_in():
    # the first batch's log of epoch 2 comes before epoch 2's first backward(): by its pass it is epoch 2's
    out = prints(ctx(monitored_run(log_before_backward=True)))
    assert out.passed, out.message


def test_made_up_means_a_number_no_computed_loss_explains():
    b = monitored_run(log_before_backward=False)
    b.events = [ev if ev["e"] != "line" else {**ev, "text": ev["text"].replace("loss 0", "loss 1")}
                for ev in b.events]
    out = prints(ctx(b))
    assert not out.passed and "not a loss the program computed" in out.message, out.message
