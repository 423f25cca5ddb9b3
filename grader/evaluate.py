"""Held-out evaluation: accuracy of the exported model on the real MNIST test set.

Runs in its own sandboxed process that never runs submission code: it loads the exported network (torch
calls from an allowlist, a torch.export graph of ATen ops, or TorchScript) and feeds it test images
preprocessed the way the submission's model saw its inputs. Imports only the standard library and torch.

It starts while the submission is still training: it imports torch and the tape reader and loads the test
set (torch.export's deserializer, which imports torch._dynamo, only once a model needs it), then waits for
the host to drop ROOT/in/pending/request.json (and model.pt2 beside it), or a request saying
{"cancel": true} when the run produced no model.

A batch worker keeps one evaluator running instead (`--serve`): it imports torch once and scores the
models of every submission the worker grades, each in a forked child (see serve).

Usage: python -m grader.evaluate ROOT                        (prints one JSON line)
       python -m grader.evaluate ROOT --serve [--isolated]   (one request per stdin line, one answer per line)
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
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


def answer(model_path: Path, images, targets, req: dict) -> dict:
    try:
        return evaluate(model_path, images, targets, req["preprocess"], int(req["batch"]), req.get("format", "export"))
    except Exception as exc:  # reported as the learns check's reason
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        return {"error": f"{type(exc).__name__}: {first}"}


def serve(pending: Path, images, targets, isolated: bool) -> None:
    """Score one model per request line on stdin, {"n": N, ...} with pending/model-N.bin beside it, until
    stdin closes; answer {"n": N, ...result} on stdout.

    Each model is loaded and run in a forked child, so nothing one student's file does (a crafted file that
    exploits a deserializer) reaches the next student's evaluation: the child cannot write to stdout or read
    stdin, this process is not dumpable (the child cannot ptrace it or open its fds), and whatever the child
    left running is killed before the answer goes out."""
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    for line in sys.stdin:
        req = json.loads(line)
        n = int(req["n"])
        result = _in_child(lambda: answer(pending / f"model-{n}.bin", images, targets, req), isolated)
        print(json.dumps({"n": n, **result}), flush=True)


def _in_child(work, isolated: bool) -> dict:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setpgid(0, 0)
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, 0)
            os.dup2(null, 1)
            os.write(w, json.dumps(work()).encode())  # a few hundred bytes: well under a pipe's buffer
        finally:
            os._exit(0)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    _kill_leftovers(pid, isolated)
    with os.fdopen(r, "rb") as fh:
        data = fh.read()
    try:
        return json.loads(data)
    except ValueError:
        return {"error": f"the evaluation process died (wait status {status})"}


def _kill_leftovers(child: int, isolated: bool) -> None:
    """The child's process group; in a sandbox of its own (a pid namespace), every process but its init
    and this one, since a process can leave its group."""
    targets = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, os.getpid())] if isolated else []
    try:
        os.killpg(child, signal.SIGKILL)
    except OSError:
        pass
    for p in targets:
        try:
            os.kill(int(p), signal.SIGKILL)
        except OSError:
            pass


def main() -> None:
    inputs = Path(sys.argv[1]) / "in"
    import torch

    from grader.harness import portable  # noqa: F401 - the usual format's reader, imported while waiting

    torch.set_num_threads(1)
    images, targets = load_test_set(inputs / "test-images", inputs / "test-labels")
    if "--serve" in sys.argv[2:]:
        serve(inputs / "pending", images, targets, isolated="--isolated" in sys.argv[2:])
        return
    req = wait_for(inputs / "pending" / "request.json")
    if req.get("cancel"):
        print(json.dumps({"cancelled": True}), flush=True)
        return
    print(json.dumps(answer(inputs / "pending" / "model.pt2", images, targets, req)), flush=True)


if __name__ == "__main__":
    main()
    os._exit(0)  # the answer is printed and flushed; torch's interpreter teardown would only cost wall time
