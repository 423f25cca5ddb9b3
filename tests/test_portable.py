"""The tape as data (grader/harness/portable.py): what the evaluator replays computes what the harness sliced,
and an artifact that a submission forged cannot make the evaluator call anything but tensor math."""

import io
import json

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.harness import network, portable
from grader.harness.network import Replayed
from test_network import sliced


class Spellings(nn.Module):
    """Calls a network may make between input and logits: methods, properties, operators, indexing."""

    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(784, 32) * 0.05)
        self.b1 = nn.Parameter(torch.zeros(32))
        self.fc = nn.Linear(32, 16)
        self.w3 = nn.Parameter(torch.randn(10, 16) * 0.1)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        h = x.view(x.size(0), -1) @ self.w1 + self.b1
        h = torch.where(h > 0, h, 0.0)
        h = self.drop(F.relu(self.fc(h)))
        h[:, ::2] = h[:, ::2] * 1.0  # indexing with slices, and an in-place write
        return (h @ self.w3.T).to(torch.float32)


class Conv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 14 * 14, 10)

    def forward(self, x):
        return self.fc(torch.flatten(F.max_pool2d(F.relu(self.bn(self.conv(x))), 2), 1))


def sliced_net(model, x):
    return sliced(model, {id(p) for p in model.parameters()}, x)


@pytest.mark.parametrize("model", [Spellings(), Conv(),
                                   nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))],
                         ids=["spellings", "conv", "sequential"])
def test_the_evaluator_replays_exactly_what_the_harness_sliced(model):
    torch.manual_seed(0)
    net = sliced_net(model, torch.rand(8, 1, 28, 28))
    with torch.no_grad():  # trained further after the recorded step: the artifact carries the final values
        for p in model.parameters():
            p.add_(0.01)
    x = torch.rand(5, *net.input.shape[1:])  # the network's input: what reached its first parameter
    program = portable.loads(portable.dumps(net.steps, net.logits))
    with torch.no_grad():
        assert torch.equal(program(x), Replayed(net).eval()(x))


def test_export_writes_the_tape_and_nothing_else_for_what_it_cannot_carry():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10))
    net = sliced_net(model, torch.rand(8, 1, 28, 28))
    raw = (torch.rand(20, 28, 28) * 255).to(torch.uint8)
    prep = {"scale": 1.0, "shift": 0.0, "shape": list(net.input.shape[1:]), "dtype": "float32"}
    facts, blob, fmt = network.export(Replayed(net), prep, raw, 8, net)
    assert fmt == "tape" and blob.startswith(portable.MAGIC) and facts["export_matches"]
    idx, func, args, kwargs = net.steps[-1]
    net.steps[-1] = (idx, lambda *a, **k: func(*a, **k), args, kwargs)  # a call no namespace names
    with pytest.raises(portable.Unportable):
        portable.dumps(net.steps, net.logits)
    facts, blob, fmt = network.export(Replayed(net), prep, raw, 8, net)
    assert blob is None and fmt == "" and "cannot be carried as data" in facts["export_error"]


class ScriptedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(784, 32), nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


def test_a_scripted_module_travels_as_the_tape_of_its_frozen_graph():
    module = torch.jit.script(ScriptedNet())
    raw = (torch.rand(20, 28, 28) * 255).to(torch.uint8)
    prep = {"scale": 2.0, "shift": -1.0, "shape": [1, 28, 28], "dtype": "float32"}
    facts, blob, fmt = network.export(module, prep, raw, 8, network.Scripted(module))
    assert fmt == "tape" and facts["export_matches"]
    x = network.probe_batch(raw, prep, 8)
    with torch.no_grad():
        assert torch.equal(portable.loads(blob)(x), module(x))


def forged(calls, tensors=()) -> bytes:
    header = json.dumps({"calls": calls, "logits": [calls[-1]["entry"], 0]}).encode()
    buf = io.BytesIO()
    torch.save(list(tensors), buf)
    return portable.MAGIC + len(header).to_bytes(8, "big") + header + buf.getvalue()


@pytest.mark.parametrize("fn", [["torch", "from_file"], ["torch", "load"], ["torch", "save"],
                                ["torch", "manual_seed"], ["torch", "set_default_dtype"], ["Tensor", "__reduce_ex__"],
                                ["Tensor", "_make_subclass"], ["Tensor", "as_strided"], ["os", "system"],
                                ["builtins", "eval"], ["Tensor.get", "__class__"], ["torch", "compile"]])
def test_a_forged_artifact_cannot_name_anything_but_tensor_math(fn):
    blob = forged([{"entry": 0, "fn": fn, "args": {"tuple": [{"input": 1}]}, "kwargs": {"dict": {}}}])
    with pytest.raises(ValueError, match="not allowed"):
        portable.loads(blob)


def test_a_forged_artifact_cannot_smuggle_objects_in_its_tensors_or_values():
    class Payload:
        def __reduce__(self):
            return (print, ("owned",))

    buf = io.BytesIO()
    torch.save([Payload()], buf)
    header = json.dumps({"calls": [], "logits": [0, 0]}).encode()
    with pytest.raises(Exception, match="[Ww]eights only"):
        portable.loads(portable.MAGIC + len(header).to_bytes(8, "big") + header + buf.getvalue())
    with pytest.raises(ValueError, match="unknown value tag"):
        portable.loads(forged([{"entry": 0, "fn": ["torch", "relu"], "args": {"tuple": [{"callable": "os.system"}]},
                                "kwargs": {"dict": {}}}]))


class Views(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(784, 32), nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x.view(-1, 784))))


def test_a_module_probed_after_the_run_travels_as_its_tape_fed_the_modules_input():
    from grader.harness.model import probe_module

    module = Views()
    raw = (torch.rand(20, 28, 28) * 255).to(torch.uint8)
    prep = {"scale": 2.0, "shift": -1.0, "shape": [1, 28, 28], "dtype": "float32"}
    probed = network.Probed(probe_module(module, prep["shape"], batch=8), prep["shape"])
    facts, blob, fmt = network.export(module, prep, raw, 8, probed)
    assert fmt == "tape" and facts["export_matches"]
    x = network.probe_batch(raw, prep, 8)
    with torch.no_grad():
        assert torch.equal(portable.loads(blob)(x), module(x))
