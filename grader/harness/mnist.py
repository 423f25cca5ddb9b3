"""MNIST as the submission sees it: served offline from the grader's training files.

Whatever root/download the submission passes, `train=True` gets a fixed, seeded subset of the 60k training
images (the "shortened" training) and `train=False` gets a disjoint slice of the *training* set. The real
10k test set is never read in this process.
"""

from __future__ import annotations

import torch
from torchvision.datasets import MNIST as RealMNIST

from grader.harness import subset
from grader.harness.subset import REAL_SIZES


class Served:
    """The two slices handed out, loaded once per run. `full=True` (the confirmation run) serves MNIST's real
    sizes: all 60,000 training images, and 10,000 of them again as train=False (never the real test set)."""

    def __init__(self, images_path: str, labels_path: str, train_examples: int, eval_examples: int, seed: int,
                 full: bool = False):
        self.train, self.eval = subset.served(images_path, labels_path, train_examples, eval_examples, seed, full)
        self.full = full
        self.fast = True  # pre-decoded batches where the transform allows (off: the plain per-image path)


def make_dataset_class(served: Served, on_create):
    """A drop-in MNIST: same class hierarchy, constructor and __getitem__, different source of pixels."""

    class MNIST(RealMNIST):
        def _check_legacy_exist(self):
            return False

        def _check_exists(self):
            return True

        def download(self):
            pass

        def _load_data(self):
            images, targets = served.train if self.train else served.eval
            on_create(self)
            return images.clone(), targets.clone()

        def __getitem__(self, index):
            if isinstance(index, int):
                index = _wrapped(self, index)
            fast = predecoded(self) if served.fast and isinstance(index, int) else None
            if fast is None:
                return super().__getitem__(index)
            images, rest = fast
            # a copy: the program may change it in place (noise added with add_)
            return _finish(self, images[index].clone(), int(self.targets[index]), rest)

        def __getitems__(self, indices):
            """A DataLoader's whole batch at once (it asks for one when the dataset, or a Subset of it, can
            answer): one gather from the pre-decoded images instead of a lookup, a cache check and a copy per
            image. Anything else is answered image by image, by whatever __getitem__ the class has."""
            fast = predecoded(self) if served.fast and type(self).__getitem__ is MNIST.__getitem__ else None
            if fast is None or not all(type(i) is int for i in indices):
                return [self[i] for i in indices]
            rows = [_wrapped(self, i) for i in indices]
            images, rest = fast
            batch = images[torch.tensor(rows, dtype=torch.long)]  # a fresh tensor: in-place changes stay in it
            targets = self.targets[rows].tolist()
            return [_finish(self, img, target, rest) for img, target in zip(batch.unbind(0), targets)]

    MNIST.__module__ = RealMNIST.__module__
    MNIST.__qualname__ = RealMNIST.__qualname__
    return MNIST


def _wrapped(ds, index: int) -> int:
    """Code written for MNIST's real size (Subset(train, range(20000)), indices up to 59999) must run on the
    shortened set as it would on the full one: indices past the subset wrap around."""
    size = len(ds.data)
    return index % size if size <= index < REAL_SIZES[bool(ds.train)] else index


def _finish(ds, img: torch.Tensor, target: int, rest: list):
    """The transforms after the pre-decoded head, then the target transform: as on the per-image path."""
    for transform in rest:
        img = transform(img)
    if ds.target_transform is not None:
        target = ds.target_transform(target)
    return img, target


def predecoded(ds) -> tuple[torch.Tensor, list] | None:
    """The standard head of a transform pipeline (ToTensor, then any Normalize) applied to every image at once,
    and the transforms left to run per image; None when the pipeline does not start that way.

    Bit for bit what the per-image path gives (tests/test_predecoded.py): ToTensor turns the uint8 image into
    float and divides by 255, Normalize subtracts and divides per channel, the same elementwise operations
    on a batch. The transforms after the head already receive a tensor on the per-image path, so they run
    unchanged. This skips a PIL image and a transform call per example, most of the data loading cost."""
    from torchvision import transforms as T

    pipeline = ds.transform
    steps = list(pipeline.transforms) if type(pipeline) is T.Compose else [pipeline] if pipeline is not None else []
    if not steps or type(steps[0]) is not T.ToTensor:
        return None
    head = 1
    while head < len(steps) and type(steps[head]) is T.Normalize:
        head += 1
    key = (id(pipeline), tuple(id(s) for s in steps[:head]), id(ds.data), ds.data._version, torch.get_default_dtype())
    cached = getattr(ds, "_grader_predecoded", None)
    if cached is None or cached[0] != key:
        images = ds.data.unsqueeze(1).to(dtype=torch.get_default_dtype()).div(255)
        for norm in steps[1:head]:
            images = T.functional.normalize(images, norm.mean, norm.std, inplace=False)
        cached = (key, images)
        ds._grader_predecoded = cached
    return cached[1], steps[head:]
