"""Held-out evaluation: accuracy of the exported model on the real MNIST test set.

Runs in its own sandboxed process that never runs submission code: it loads the exported network (torch
calls from an allowlist, a torch.export graph of ATen ops, or TorchScript) and feeds it test images
preprocessed the way the submission's model saw its inputs. Imports only the standard library and torch.

It starts while the submission is still training: it imports torch and the tape reader and loads the test
set (torch.export's deserializer, which imports torch._dynamo, only once a model needs it), then waits for
the host to drop ROOT/in/pending/request.json (and model.pt2 beside it), or a request saying
{"cancel": true} when the run produced no model.

Usage: python -m grader.evaluate ROOT   (prints one JSON line)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


POLL_S = 0.02


def load_test_set(images_path: Path, labels_path: Path):
    import torch

    from grader.harness import idx

    (n, h, w), pixels = idx.read(images_path)
    (_,), labels = idx.read(labels_path)
    images = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(n, h, w)
    return images, torch.frombuffer(bytearray(labels), dtype=torch.uint8).long()


def evaluate(model_path: Path, images, targets, prep: dict, batch: int, fmt: str = "export") -> dict:
    import torch

    from grader.harness import network

    t = time.monotonic()
    if fmt == "tape":  # the network's torch calls as data, checked against an allowlist (harness/portable.py)
        from grader.harness import portable

        module = portable.loads(model_path.read_bytes())
    elif fmt == "torchscript":  # a scripted model: TorchScript IR, run by torch's interpreter (no Python code)
        module = torch.jit.load(str(model_path), map_location="cpu")
    else:
        module = torch.export.load(str(model_path)).module()
    h, w = images.shape[1:]
    correct = 0
    confusion = torch.zeros(10, 10, dtype=torch.long)  # [true digit][predicted digit]
    with torch.no_grad():
        for start in range(0, len(images), batch):
            chunk = images[start : start + batch]
            real = len(chunk)
            if real < batch:  # exported graphs are specialised to the probe's batch size
                chunk = torch.cat([chunk, chunk.new_zeros(batch - real, h, w)])
            out = module(network.probe_batch(chunk, prep, batch))
            if isinstance(out, (tuple, list)):
                out = out[0]
            if out.dim() != 2 or out.shape[0] != batch or out.shape[1] < 10:
                raise ValueError(f"model output has shape {list(out.shape)}, expected [{batch}, 10]")
            predicted, truth = out[:real].argmax(dim=1), targets[start : start + real]
            correct += int((predicted == truth).sum())
            digit = predicted < 10  # a model with more than 10 outputs may predict a class that is no digit
            confusion += torch.bincount(truth[digit] * 10 + predicted[digit], minlength=100).reshape(10, 10)
    return {"accuracy": correct / len(images), "examples": len(images), "seconds": round(time.monotonic() - t, 3),
            "confusion": confusion.tolist()}


def wait_for(path: Path) -> dict:
    while not path.exists():
        time.sleep(POLL_S)
    return json.loads(path.read_text())


def main() -> None:
    inputs = Path(sys.argv[1]) / "in"
    import torch

    from grader.harness import portable  # noqa: F401 - the usual format's reader, imported while waiting

    torch.set_num_threads(1)
    images, targets = load_test_set(inputs / "test-images", inputs / "test-labels")
    req = wait_for(inputs / "pending" / "request.json")
    if req.get("cancel"):
        print(json.dumps({"cancelled": True}), flush=True)
        return
    try:
        result = evaluate(inputs / "pending" / "model.pt2", images, targets, req["preprocess"], int(req["batch"]),
                          req.get("format", "export"))
    except Exception as exc:  # reported as the learns check's reason
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        result = {"error": f"{type(exc).__name__}: {first}"}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
    os._exit(0)  # the answer is printed and flushed; torch's interpreter teardown would only cost wall time
