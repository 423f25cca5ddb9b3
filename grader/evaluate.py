"""Held-out evaluation: accuracy of the exported model on the real MNIST test set.

Runs in its own sandboxed process that never runs submission code: it loads the torch.export graph (ATen
ops only) and feeds it test images preprocessed the way the submission's model saw its inputs.
Imports only the standard library and torch.

Usage: python -m grader.evaluate ROOT   (reads ROOT/in/request.json, prints one JSON line)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def evaluate(model_path: Path, images_path: Path, labels_path: Path, prep: dict, batch: int,
             limit: int | None = None) -> dict:
    import torch

    from grader.harness import export, idx

    t = time.monotonic()
    torch.set_num_threads(1)
    program = torch.export.load(str(model_path))
    module = program.module()
    (n, h, w), pixels = idx.read(images_path)
    (_,), labels = idx.read(labels_path)
    images = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(n, h, w)
    targets = torch.frombuffer(bytearray(labels), dtype=torch.uint8).long()
    if limit:
        images, targets = images[:limit], targets[:limit]
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), batch):
            chunk = images[start : start + batch]
            real = len(chunk)
            if real < batch:  # exported graphs are specialised to the probe's batch size
                chunk = torch.cat([chunk, chunk.new_zeros(batch - real, h, w)])
            out = module(export.probe_batch(chunk, prep, batch))
            if isinstance(out, (tuple, list)):
                out = out[0]
            if out.dim() != 2 or out.shape[0] != batch or out.shape[1] < 10:
                raise ValueError(f"model output has shape {list(out.shape)}, expected [{batch}, 10]")
            correct += int((out[:real].argmax(dim=1) == targets[start : start + real]).sum())
    return {"accuracy": correct / len(images), "examples": len(images), "seconds": round(time.monotonic() - t, 3)}


def main() -> None:
    root = Path(sys.argv[1])
    req = json.loads((root / "in" / "request.json").read_text())
    try:
        result = evaluate(root / "in" / "model.pt2", _path(root, req["test_images"]), _path(root, req["test_labels"]),
                          req["preprocess"], int(req["batch"]), req.get("limit"))
    except Exception as exc:  # reported as the learns check's reason
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        result = {"error": f"{type(exc).__name__}: {first}"}
    print(json.dumps(result), flush=True)


def _path(root: Path, value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else root / p


if __name__ == "__main__":
    main()
