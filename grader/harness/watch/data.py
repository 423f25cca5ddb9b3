"""MNIST objects created, DataLoader passes and what they yielded, random_split on the real sizes."""

from __future__ import annotations

import functools

import torch
from torch.utils import data as tud

from grader.harness import mnist


def batch_size_of(batch) -> int | None:
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() else 1
    if isinstance(batch, (list, tuple)) and batch:
        return batch_size_of(batch[0])
    if isinstance(batch, dict) and batch:
        return batch_size_of(next(iter(batch.values())))
    return None


class _PassIterator:
    """Wraps a DataLoader iterator: one pass = one iterator; counts what it yields."""

    def __init__(self, it, inst: "DataWatch", loader_id: int, pass_no: int):
        self._it, self._inst, self._key = it, inst, (loader_id, pass_no)
        self._batches = self._examples = 0

    def __iter__(self):
        return self

    def __next__(self):
        try:
            batch = next(self._it)
        except StopIteration:
            self._inst.rec.emit("pass_end", loader=self._key[0], pass_no=self._key[1],
                                batches=self._batches, examples=self._examples)
            raise
        self._batches += 1
        self._examples += batch_size_of(batch) or 0
        self._inst.current_pass = self._key
        return batch

    def __len__(self):
        return len(self._it)

    def __getattr__(self, name):
        return getattr(self._it, name)


class DataWatch:
    def _on_dataset(self, ds) -> None:
        self.datasets += 1
        images, _ = self.served.train if ds.train else self.served.eval
        self.rec.emit("dataset", ds=self.datasets, train=bool(ds.train), size=len(images))

    @staticmethod
    def _find_mnist(ds, depth: int = 0):
        if isinstance(ds, mnist.RealMNIST):
            return ds
        if depth > 6:
            return None
        inner = getattr(ds, "dataset", None)
        if inner is None and getattr(ds, "datasets", None):
            inner = ds.datasets[0]
        return DataWatch._find_mnist(inner, depth + 1) if inner is not None else None

    def _wrap_dataloader(self) -> None:
        original = tud.DataLoader.__iter__
        inst = self

        @functools.wraps(original)
        def __iter__(loader):
            it = original(loader)
            passes = inst.loaders.get(loader)
            if passes is None:
                passes = inst.loaders[loader] = [len(inst.loaders) + 1, 0]
            passes[1] += 1
            base = inst._find_mnist(getattr(loader, "dataset", None))
            info = {"loader": passes[0], "pass_no": passes[1], "train": None if base is None else bool(base.train)}
            for key, fn in (("dataset_size", lambda: len(loader.dataset)), ("batches", lambda: len(loader)),
                            ("bs", lambda: loader.batch_size)):
                try:
                    info[key] = fn()
                except Exception:
                    info[key] = None
            inst.rec.emit("pass_start", **info)
            return _PassIterator(it, inst, passes[0], passes[1])

        tud.DataLoader.__iter__ = __iter__

    def _wrap_random_split(self) -> None:
        """Code written for MNIST's real sizes (random_split(train, [55000, 5000])) still runs on the subset."""
        original = tud.random_split
        rec = self.rec

        @functools.wraps(original)
        def random_split(dataset, lengths, *args, **kwargs):
            try:
                n, total = len(dataset), sum(lengths)
                if total != n and total in mnist.REAL_SIZES.values() and all(isinstance(x, int) for x in lengths):
                    scaled = [int(x * n / total) for x in lengths]
                    scaled[-1] = n - sum(scaled[:-1])
                    rec.emit("note", text=f"random_split lengths {list(lengths)} scaled to {scaled} for the "
                                          f"{n}-image grading subset")
                    lengths = scaled
            except TypeError:
                pass
            return original(dataset, lengths, *args, **kwargs)

        tud.random_split = tud.dataset.random_split = random_split
