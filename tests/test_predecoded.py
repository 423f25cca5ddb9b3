"""Data served pre-decoded is bit for bit what the per-image PIL path gives (grader/harness/mnist.py)."""

import pytest
import torch
from torchvision import transforms as T

from grader.harness import mnist


@pytest.fixture(scope="module")
def served(tiny_data):
    return mnist.Served(str(tiny_data / "train-images-idx3-ubyte"), str(tiny_data / "train-labels-idx1-ubyte"),
                        200, 50, seed=0)


PIPELINES = {
    "to_tensor": lambda: T.ToTensor(),
    "reference": lambda: T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))]),
    "mnist_stats_flatten": lambda: T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,)),
                                              T.Lambda(lambda x: x.view(-1))]),
    "two_normalizes": lambda: T.Compose([T.ToTensor(), T.Normalize([0.5], [0.5]), T.Normalize((0.1,), (2.0,))]),
}


@pytest.mark.parametrize("name", PIPELINES)
def test_fast_path_equals_per_image_path(served, name):
    cls = mnist.make_dataset_class(served, lambda ds: None)
    ds = cls("unused", train=True, transform=PIPELINES[name]())
    assert mnist.predecoded(ds) is not None
    for i in range(len(ds)):
        fast, label = ds[i]
        slow, slow_label = mnist.RealMNIST.__getitem__(ds, i)
        assert label == slow_label and fast.dtype == slow.dtype and torch.equal(fast, slow), (name, i)


def test_other_pipelines_take_the_per_image_path(served):
    cls = mnist.make_dataset_class(served, lambda ds: None)
    for transform in (None, T.Compose([T.RandomRotation(10), T.ToTensor()]), T.PILToTensor()):
        assert mnist.predecoded(cls("unused", train=True, transform=transform)) is None


def test_in_place_changes_do_not_reach_the_cache(served):
    cls = mnist.make_dataset_class(served, lambda ds: None)
    ds = cls("unused", train=True, transform=T.ToTensor())
    first, _ = ds[0]
    first.add_(1.0)  # noise added in place by the program
    again, _ = ds[0]
    assert torch.equal(again, mnist.RealMNIST.__getitem__(ds, 0)[0])
