"""A learnable stand-in for MNIST, written as IDX files (shared by conftest and the tests that build their own)."""

import random
from pathlib import Path

from grader.harness import idx


def write_tiny_mnist(folder: Path, train: int = 400, test: int = 200, gzipped: bool = False, seed: int = 0) -> Path:
    """A learnable stand-in for MNIST: class k lights up a 4x4 block at a position only k uses, plus noise."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", train), ("t10k", test)):
        labels = bytes(rng.randrange(10) for _ in range(n))
        pixels = bytearray(rng.randrange(40) for _ in range(n * 784))
        for i, k in enumerate(labels):
            row, col = 4 + 6 * (k // 4), 4 + 6 * (k % 4)
            for r in range(row, row + 4):
                for c in range(col, col + 4):
                    pixels[i * 784 + r * 28 + c] = 255
        suffix = ".gz" if gzipped else ""
        idx.write(folder / f"{prefix}-images-idx3-ubyte{suffix}", (n, 28, 28), bytes(pixels), gzipped=gzipped)
        idx.write(folder / f"{prefix}-labels-idx1-ubyte{suffix}", (n,), labels, gzipped=gzipped)
    return folder
