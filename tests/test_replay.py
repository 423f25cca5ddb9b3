"""The host's replay of recorded steps (grader/replay.py) on records made here, in-process, by the harness's
own code (tape, slice, evidence): honest spellings verify, and each kind of forgery is caught."""


import pytest
import torch
import torch.nn.functional as F
from builders import TraceBuilder
from torch import nn

from grader import replay
from grader.harness import portable, recording, tensorfile
from grader.harness.evidence import Forward, StepEvidence
from grader.harness.network import pool_chunks
from grader.harness.tape import Tape, slice_network

torch.manual_seed(0)
IMAGES = torch.randint(0, 256, (300, 28, 28), dtype=torch.uint8)
LABELS = torch.randint(0, 10, (300,))
POOL = [(s, z.float()) for s, z in pool_chunks(IMAGES.reshape(300, -1))], LABELS


def batch(rows, noise: float = 0.0):
    x = (IMAGES[rows].float() / 255 - 0.5) / 0.5
    return x.unsqueeze(1) + noise * torch.randn(len(rows), 1, 28, 28), LABELS[rows]


def mlp():
    torch.manual_seed(1)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                         nn.Linear(64, 10))


def ce(model, x, y):
    return F.cross_entropy(model(x), y)


def recorded(loss_of=ce, model=None, opt=None, x=None, y=None, backwards=1, step=None, before_step=None):
    """A trace of two training steps, the second written down as the harness writes it (its backward() is
    number 2, the first tape window's end): (TraceBuilder, the record's fields)."""
    model = model or mlp()
    opt = opt or torch.optim.Adam(model.parameters(), lr=1e-3)
    b = TraceBuilder().setup()
    first_x, first_y = batch(list(range(64, 128)))
    opt.zero_grad()
    first = loss_of(model, first_x, first_y)
    first.backward()
    (step or opt.step)()
    b.backward(float(first.detach()), bs=64).ev("step", opt=1, n=1, changed=True, had_grad=True, lr=1e-3, device="cpu")
    if x is None:
        x, y = batch(list(range(64)))
    opt.zero_grad()
    params = {id(p) for p in model.parameters()}
    for k in range(backwards):
        tape = Tape()
        with tape:
            loss = loss_of(model, x, y)
        if k == 0:
            net, why = slice_network(tape, params, root=loss)
            assert net is not None, why
            forward = Forward(2, net)
        loss.backward()
        b.backward(float(loss.detach()), bs=len(x), cleared=k == 0)
    if before_step is not None:
        before_step(model)
    evidence = StepEvidence(opt, forward)
    (step or opt.step)()
    b.ev("step", opt=1, n=1 + 1, changed=True, had_grad=True, lr=1e-3, device="cpu")
    fields = evidence.fields()
    b.ev("evidence", opt=1, n=2, **fields)
    return b, fields


def verify(b: TraceBuilder):
    return replay.verify(b.end().trace(), *POOL)


def edit_tensors(fields: dict, change) -> None:
    tensors = tensorfile.loads(fields["tensors"])
    change(tensors)
    fields["tensors"] = tensorfile.dumps(tensors)


# ------------------------------------------------------------------------------------------- honest steps
def scaled(model, x, y):  # gradient accumulation's loss / k
    return F.cross_entropy(model(x), y) / 2


def ce_l2(model, x, y):
    return F.cross_entropy(model(x), y) + 1e-4 * sum((p ** 2).sum() for p in model.parameters())


class Bare:
    """Three bare layers called from a plain function; ReLU as clamp."""

    def __init__(self):
        torch.manual_seed(2)
        self.w = [nn.Parameter(torch.randn(i, o) * 0.05) for i, o in ((784, 128), (128, 64), (64, 10))]

    def parameters(self):
        return iter(self.w)

    def __call__(self, x):
        h = x.reshape(len(x), -1)
        for n, w in enumerate(self.w):
            h = h @ w
            h = h.clamp(min=0) if n < 2 else h
        return h


@pytest.mark.parametrize("loss_of, model, backwards", [(ce, None, 1), (ce_l2, None, 1), (scaled, None, 2),
                                                        (ce, Bare(), 1)],
                         ids=["reference", "ce_plus_l2", "gradient_accumulation", "parameter_matmuls"])
def test_honest_steps_verify(loss_of, model, backwards):
    b, _ = recorded(loss_of, model=model, backwards=backwards)
    v = verify(b)
    assert v.problems == [] and not v.failed
    assert [(s["n"], s["adam"], s["replayed"]) for s in v.steps] == [(2, True, True)]
    assert v.losses[2] == pytest.approx([e for e in b.events if e["e"] == "backward"][1]["value"], rel=1e-5)


def test_the_losses_of_replayed_steps_become_the_hosts():
    b, _ = recorded()
    trace = b.end().trace()
    second = trace.of("backward")[1]
    second["value"] += 5e-6  # within the tolerance: what was printed is matched against the host's number
    v = replay.verify(trace, *POOL)
    replay.adopt_losses(trace, v)
    assert v.problems == [] and second["value"] == v.losses[2] != trace.of("backward")[0]["value"]


def test_a_short_last_batch_and_augmentation_noise_verify():
    x, y = batch(list(range(40)), noise=0.05)  # drop_last=False's last batch; noise added to served images
    assert verify(recorded(x=x, y=y)[0]).problems == []


def test_one_hot_targets_verify_and_wrong_ones_do_not():
    x, y = batch(list(range(64)))
    assert verify(recorded(x=x, y=F.one_hot(y, 10).float())[0]).problems == []
    assert "labels its loss was given" in verify(recorded(x=x, y=F.one_hot((y + 3) % 10, 10).float())[0]).problems[0]


def test_clipped_gradients_verify():
    clip = lambda model: torch.nn.utils.clip_grad_norm_(model.parameters(), 0.01)  # noqa: E731
    v = verify(recorded(before_step=clip)[0])
    assert v.problems == [] and v.steps[0]["adam"] is True


def test_dropout_is_checked_for_adams_rule_only():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10))
    v = verify(recorded(model=model)[0])
    assert v.problems == [] and v.steps[0]["adam"] is True and 2 not in v.losses
    assert any("dropout" in n for n in v.notes)


@pytest.mark.parametrize("lr", [10.0, 1e-3, 0.0])
def test_adams_rule_holds_at_any_learning_rate(lr):
    """Float rounding at any learning rate never looks like another rule."""
    model = mlp()
    v = verify(recorded(model=model, opt=torch.optim.Adam(model.parameters(), lr=lr))[0])
    assert v.problems == [] and v.steps[0]["adam"] is True


def test_a_manual_update_before_the_step_is_a_finding_not_a_forgery():
    """Adam(lr=0) stepped after `p.data -= lr * p.grad`: the forward pass and Adam saw different values."""
    def manual(model):
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    model = mlp()
    v = verify(recorded(model=model, opt=torch.optim.Adam(model.parameters(), lr=0.0), before_step=manual)[0])
    assert v.problems == [] and v.steps[0]["adam"] is True and v.steps[0]["outside"] is True
    assert verify(recorded()[0]).steps[0]["outside"] is False


def test_another_rule_is_a_finding_not_a_forgery():
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for g in opt.param_groups:
        g.update(momentum=0.9, dampening=0, nesterov=False)
    opt._init_group = torch.optim.SGD._init_group.__get__(opt)
    v = verify(recorded(model=model, opt=opt, step=lambda: torch.optim.SGD.step(opt))[0])
    assert v.problems == [] and v.steps[0]["adam"] is False


# ------------------------------------------------------------------------------------------- forgeries
def test_a_loss_the_network_did_not_give_is_caught():
    b, _ = recorded()
    [e for e in b.events if e["e"] == "backward"][1]["value"] = 0.0123
    assert "its network gives" in verify(b).problems[0]


def test_gradients_that_are_not_autograds_are_caught():
    b, fields = recorded()
    edit_tensors(fields, lambda t: t["grads"][0].mul_(-1))
    [e for e in b.events if e["e"] == "evidence"][0]["tensors"] = fields["tensors"]
    assert "not autograd's gradients" in verify(b).problems[0]


def test_an_update_forged_after_the_fact_is_not_adams():
    b, fields = recorded()
    edit_tensors(fields, lambda t: [a.add_(0.01) for a in t["after"]])
    [e for e in b.events if e["e"] == "evidence"][0]["tensors"] = fields["tensors"]
    v = verify(b)
    assert v.problems == [] and v.steps[0]["adam"] is False  # the optimizer check fails on it


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
@pytest.mark.parametrize("key", ["after", "exp_avg_sq", "grads"])
def test_a_record_holding_values_that_are_not_finite_verifies_nothing(key, value):
    # NaN compares false both ways and an infinite tolerance admits anything: an update forged as NaN or inf
    # would pass the element-by-element comparison with Adam's
    b, fields = recorded()
    edit_tensors(fields, lambda t: t[key][0].fill_(value))
    [e for e in b.events if e["e"] == "evidence"][0]["tensors"] = fields["tensors"]
    assert "not finite" in verify(b).problems[0]


def test_a_nan_left_by_an_honest_overflow_on_both_sides_is_not_counted_off():
    from grader import replayer

    a, w = torch.tensor([1.0, float("nan")]), torch.tensor([1.0, float("nan")])
    tol = torch.full((2,), 1e-6)
    assert int((~((a - w).abs() <= tol) & ~(a.isnan() & w.isnan())).sum()) == 0
    assert "not finite" in str(pytest.raises(replayer.Bad, replayer._finite, {"after": [a]}, []).value)


def test_a_claim_of_lost_events_under_the_recorders_cap_switches_no_check_off():
    b, _ = recorded()
    b.events = [e for e in b.events if e["e"] != "evidence"]
    trace = b.end().trace()
    trace.end["dropped"] = 1  # the harness's word, reachable by the submission
    assert "not the record the harness writes" in replay.verify(trace, *POOL).problems[0]


@pytest.mark.parametrize("recorded_value", [0.5, "nan", None])
def test_a_non_finite_replayed_loss_verifies_nothing(recorded_value):
    # a record whose network gives NaN (forged NaN parameters) would otherwise match any recorded loss
    with pytest.raises(replay.Bad, match="verifies no training step"):
        replay._same_loss(float("nan"), (True, recorded_value))
    with pytest.raises(replay.Bad):
        replay._same_loss(float("inf"), (False, recorded_value))


def test_a_batch_that_was_not_served_is_caught():
    x = torch.randn(64, 1, 28, 28)
    assert "are not images this run served" in verify(recorded(x=x, y=LABELS[:64])[0]).problems[0]


def test_labels_that_are_not_the_images_labels_are_caught():
    x, y = batch(list(range(64)))
    assert "labels its loss was given" in verify(recorded(x=x, y=(y + 1) % 10)[0]).problems[0]


def test_a_missing_record_is_caught():
    b, _ = recorded()
    b.events = [e for e in b.events if e["e"] != "evidence"]
    v = verify(b)
    assert "not the record the harness writes" in v.problems[0]


def test_a_run_killed_right_after_the_step_is_excused_its_record():
    b, _ = recorded()
    b.events = [e for e in b.events if e["e"] != "evidence"]
    assert replay.verify(b.trace(), *POOL).problems == []  # no end event: killed outright (OOM, hard deadline)
    b.backward(0.5)
    assert "not the record the harness writes" in replay.verify(b.trace(), *POOL).problems[0]  # trained on


def test_a_record_out_of_its_place_is_caught():
    b, _ = recorded()
    [e for e in b.events if e["e"] == "evidence"][0]["n"] = 7
    assert "it says it is step 7" in verify(b).problems[0]


def test_a_record_the_harness_could_not_write_is_not_trusted():
    b, _ = recorded()
    ev = [e for e in b.events if e["e"] == "evidence"][0]
    for key in ("tensors", "program"):
        ev.pop(key)
    ev["why"] = "too large"
    assert "could not write it down (too large)" in verify(b).problems[0]


def test_a_malformed_record_is_not_trusted():
    b, _ = recorded()
    [e for e in b.events if e["e"] == "evidence"][0]["program"] = b"not a tape"
    assert "malformed" in verify(b).problems[0]


def test_the_host_chooses_among_many_records_secretly_and_always_the_first():
    records = [{"i": i} for i in range(20)]
    picked = replay.choose(records)
    assert picked[0] == records[0] and len(picked) == replay.MAX_REPLAYED
    assert len({tuple(r["i"] for r in replay.choose(records)) for _ in range(20)}) > 1


def _network_artifact(model) -> bytes:
    tape = Tape()
    with tape:
        loss = ce(model, *batch(list(range(8))))
    net, why = slice_network(tape, {id(p) for p in model.parameters()}, root=loss)
    assert net is not None, why
    return portable.dumps(net.steps, net.logits)


@pytest.mark.parametrize("exported_over_the_cap", [True, False], ids=["true", "false"])
def test_a_network_too_large_to_write_down_is_unverified_only_when_the_exported_network_bears_it_out(
        exported_over_the_cap, monkeypatch):
    # an honest large network (a 1,000-wide MLP, a CNN) is judged on its trace, unverified, and says so; a
    # claim of the harness the exported network (data, evaluated outside) does not bear out is a forgery
    b, _ = recorded()
    ev = [e for e in b.events if e["e"] == "evidence"][0]
    for key in ("tensors", "program"):
        ev.pop(key)
    ev["why"] = f"ValueError: the optimizer holds more than {recording.MAX_ELEMENTS:,} parameters, too many to write " \
                "down"
    monkeypatch.setattr(recording, "MAX_ELEMENTS", 100_000 if exported_over_the_cap else 1_000_000)
    trace = b.end().trace()
    trace.artifact = _network_artifact(mlp())  # 109,386 parameters
    v = replay.verify(trace, *POOL)
    if exported_over_the_cap:
        assert v.problems == [] and not v.available and "109,386 parameters" in v.unverified
    else:
        assert "could not write it down" in v.problems[0]


def test_a_record_without_its_number_is_a_problem_not_a_crash():
    b, _ = recorded()
    [e for e in b.events if e["e"] == "evidence"][0].pop("i", None)
    assert verify(b).problems  # the grader's own failure would have been an internal error, no verdict
