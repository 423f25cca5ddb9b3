"""The network as computed: slicing a recorded step, nonlinearity by what it computes, preprocessing by
correspondence with the served images (grader/harness/tape.py, network.py). Runs torch, no sandbox."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.harness.network import Replayed, learn_preprocessing, structure
from grader.harness.tape import Tape, slice_network

ACTIVATIONS = {
    "relu": (nn.ReLU(), True), "relu_inplace": (nn.ReLU(inplace=True), True),
    "clamp": (lambda h: h.clamp(min=0), True), "maximum": (lambda h: torch.maximum(h, torch.zeros_like(h)), True),
    "where": (lambda h: torch.where(h > 0, h, 0), True), "sigmoid": (torch.sigmoid, True),
    "dropout_only": (nn.Dropout(0.5), False), "batchnorm_only": (nn.BatchNorm1d(16), False), "none": (None, False),
}


class Net(nn.Module):
    def __init__(self, act):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 16), nn.Linear(16, 16), nn.Linear(16, 10)
        self.act = act

    def forward(self, x):
        h = self.fc1(x.view(len(x), -1))
        h = self.act(h) if self.act is not None else h
        return self.fc3(self.fc2(h).relu())


def sliced(model_or_fn, params, x):
    tape = Tape()
    with tape:
        loss = F.cross_entropy(model_or_fn(x), torch.arange(len(x)) % 10)
    net, why = slice_network(tape, params, root=loss)
    assert net is not None, why
    return net


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_nonlinearity_is_judged_by_what_it_computes(name):
    act, nonlinear = ACTIVATIONS[name]
    model = Net(act)
    params = {id(p) for p in model.parameters()}
    net = sliced(model, params, torch.rand(8, 1, 28, 28))
    s = structure(net, params)
    assert [(lay["in"], lay["out"]) for lay in s["layers"]] == [(784, 16), (16, 16), (16, 10)]
    assert s["nonlinear"] == [nonlinear, True]


def test_plain_tensors_from_a_function_are_a_network_and_replay_with_final_values():
    w = [torch.randn(784, 32, requires_grad=True), torch.randn(32, 10, requires_grad=True)]
    params = {id(p) for p in w}
    x = torch.rand(4, 784)
    net = sliced(lambda x: (x @ w[0]).clamp(min=0) @ w[1], params, x)
    assert [(lay["in"], lay["out"]) for lay in structure(net, params)["layers"]] == [(784, 32), (32, 10)]
    with torch.no_grad():
        w[1].add_(1.0)  # trained further after the recorded step: the export uses the final values
        assert torch.allclose(Replayed(net)(x), (x @ w[0]).clamp(min=0) @ w[1])


def test_preprocessing_is_fitted_on_rows_that_match_served_images():
    gen = torch.Generator().manual_seed(0)
    pool = (torch.rand(50, 28, 28, generator=gen) * 255).to(torch.uint8)
    normalized = (pool[:8].float() / 255 - 0.5) / 0.5
    noisy = normalized + 0.05 * torch.randn(normalized.shape, generator=gen)
    rows = torch.cat([torch.randn(2, 28, 28), noisy]).reshape(10, 784)  # a sanity call on noise comes first
    prep, why = learn_preprocessing(rows, pool)
    assert prep is not None, why
    assert prep["matched"] == 8 and prep["scale"] == pytest.approx(2.0, abs=0.02)
    assert prep["shift"] == pytest.approx(-1.0, abs=0.02) and prep["shape"] == [784]
    assert learn_preprocessing(rows, pool, chunk=7) == (prep, "")  # compared a few images at a time: the same
    assert learn_preprocessing(torch.randn(4, 784), pool)[0] is None  # nothing matches: say so, guess nothing
