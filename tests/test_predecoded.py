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


@pytest.mark.parametrize("name", PIPELINES)
def test_a_batch_at_once_equals_image_by_image(served, name):
    cls = mnist.make_dataset_class(served, lambda ds: None)
    ds = cls("unused", train=True, transform=PIPELINES[name](), target_transform=lambda y: y + 100)
    rows = [5, 0, 199, 5, -1, 250, 59999]  # repeats, negative, and indices of MNIST's real size (wrapped)
    batch = ds.__getitems__(rows)
    for i, (img, label) in zip(rows, batch):
        slow, slow_label = mnist.RealMNIST.__getitem__(ds, i % 200 if i >= 200 else i)
        assert label == slow_label and img.dtype == slow.dtype and torch.equal(img, slow), (name, i)
    batch[0][0].add_(1.0)  # changed in place by the program: not its twin, not the next batch
    assert torch.equal(batch[3][0], ds[5][0]) and torch.equal(ds.__getitems__([5])[0][0], ds[5][0])
    # what a DataLoader serves through a Subset (random_split) is the same, batch by batch
    subset = torch.utils.data.Subset(ds, list(range(150, 200)) + list(range(20)))
    for x, y in torch.utils.data.DataLoader(subset, batch_size=16):
        per_image = [subset[i] for i in range(len(subset))]
        break
    assert torch.equal(x, torch.stack([img for img, _ in per_image[:16]]))
    assert y.tolist() == [label for _, label in per_image[:16]]


def test_a_batch_asks_a_subclass_own_getitem_and_odd_indices_go_one_by_one(served):
    cls = mnist.make_dataset_class(served, lambda ds: None)

    class WithIndex(cls):  # a program's own dataset, returning the index too
        def __getitem__(self, i):
            img, label = super().__getitem__(i)
            return img, label, i

    ds = WithIndex("unused", train=True, transform=T.ToTensor())
    assert [item[2] for item in ds.__getitems__([3, 4])] == [3, 4]
    plain = cls("unused", train=True, transform=T.ToTensor())
    np = pytest.importorskip("numpy")
    batch = plain.__getitems__([np.int64(7), torch.tensor(8)])
    assert [label for _, label in batch] == [plain[7][1], plain[8][1]]
