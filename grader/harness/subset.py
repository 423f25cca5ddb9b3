"""Which training images a run serves: a seeded choice, so the host knows them too (grader/replay.py)."""

from __future__ import annotations

import torch

from grader.harness import idx

REAL_SIZES = {True: 60000, False: 10000}


def served(images_path: str, labels_path: str, train_examples: int, eval_examples: int, seed: int,
           full: bool = False) -> tuple[tuple, tuple]:
    """((train images, labels), (train=False images, labels)) as uint8 N x H x W and int64 tensors.
    `full`: MNIST's real sizes, all 60,000 training images and 10,000 of them again as train=False."""
    (n, h, w), pixels = idx.read(images_path)
    (n_labels,), labels = idx.read(labels_path)
    if n != n_labels:
        raise idx.IdxError(f"{n} images but {n_labels} labels")
    if train_examples + eval_examples > n:
        raise ValueError(f"asked for {train_examples}+{eval_examples} examples, the data has {n}")
    images = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(n, h, w)
    targets = torch.frombuffer(bytearray(labels), dtype=torch.uint8).long()
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    train_idx, eval_idx = order[:train_examples], order[train_examples : train_examples + eval_examples]
    if full:
        train_idx, eval_idx = order, order[: REAL_SIZES[False]]
    return ((images[train_idx].clone(), targets[train_idx].clone()),
            (images[eval_idx].clone(), targets[eval_idx].clone()))
