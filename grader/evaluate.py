"""Held-out evaluation: the exported model's predicted digit for each image of the real MNIST test set; and
the replay of the training steps the harness wrote down (grader/replayer.py), where torch is imported already.

Runs in its own sandbox, which holds the test *images* and never the labels: the host compares the
predictions with the labels (grader/held_out.py), so nothing in here can learn or report a score. The model
comes only as data: the tape of allowlisted torch calls and its tensors (harness/portable.py); no pickle,
TorchScript or torch.export archive is ever loaded here.

Each model is loaded and replayed in a child forked from this pristine process (which never loads a model):
the child cannot write to stdout or read stdin, cannot reach this process's memory or fds (it is not
dumpable), and whatever it leaves is killed, with every file it wrote, before the answer goes out.

Request (one JSON object): {"model": {"preprocess": {"scale", "shift", "shape", "dtype"}, "batch": N} or null,
"replay": {"served": what the run served (replayer.served_pool's arguments), "count_parameters": bool} or null},
the tape (model.bin) and the records to replay (evidence.bin: protocol.request_file) beside it. Answer (one JSON
object): {"evaluation": {"predictions": base64 of one byte per test image (the predicted digit, or NOT_A_DIGIT
for an output past the tenth), "examples": N, "seconds": S} or {"error": "why"}, "replay": replayer.answer's
or {"error": "why"}}, each part only where asked. Both run in one child, the replay first, its answer sent
before the model is touched: a model that brings its evaluation down cannot take the replay's verdict with it.

One-shot (`grader check`): it starts while the submission trains, imports torch, reads the images and
prepares the served images (pending/served.json), then waits for the host to drop ROOT/in/pending/request.json,
or {"cancel": true}; it writes one answer and exits 0. The host takes that answer only when it is all of
stdout and the process exited cleanly (held_out.one_shot_answer).
Service (`--serve`, a batch worker): one request per stdin line, {"n": N, ...}, with pending/model-N.bin and
pending/evidence-N.bin beside it; one answer line {"n": N, ...} each, until stdin closes.

Usage: python -m grader.evaluate ROOT                        (one answer on stdout)
       python -m grader.evaluate ROOT --serve [--isolated]   (one request per stdin line, one answer per line)
"""

from __future__ import annotations

import base64
import ctypes
import fcntl
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

POLL_S = 0.02
NOT_A_DIGIT = 10  # the prediction of a model with more than 10 outputs whose largest is not a digit
PIPE_BYTES = 1 << 20
CLEAN_UP_S = 10
EMPTY_SCANS = 3
SCRATCH = ("/sandbox/work", "/sandbox/tmp", "/tmp")  # the sandbox's writable folders, emptied after each child


def load_images(path: Path):
    import torch

    from grader.harness import idx

    (n, h, w), pixels = idx.read(path)
    return torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(n, h, w)


def predict(model: bytes, images, prep: dict, batch: int) -> dict:
    """The predicted class of every image, from a tape (anything else is refused by portable.loads)."""
    import torch

    from grader.harness import network, portable

    t = time.monotonic()
    module = portable.loads(model)
    h, w = images.shape[1:]
    out_all = []
    with torch.no_grad():
        for start in range(0, len(images), batch):
            chunk = images[start : start + batch]
            real = len(chunk)
            if real < batch:  # the probe's batch size, as the harness checked the tape with
                chunk = torch.cat([chunk, chunk.new_zeros(batch - real, h, w)])
            out = module(network.probe_batch(chunk, prep, batch))
            if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != batch or out.shape[1] < 10:
                shape = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
                raise ValueError(f"model output has shape {shape}, expected [{batch}, 10]")
            out_all.append(out[:real].argmax(dim=1).clamp(max=NOT_A_DIGIT).to(torch.uint8))
    predicted = torch.cat(out_all).numpy().tobytes()
    return {"predictions": base64.b64encode(predicted).decode(), "examples": len(images),
            "seconds": round(time.monotonic() - t, 3)}


def respond(root: Path, req: dict, model_path: Path, evidence_path: Path, images, isolated: bool) -> dict:
    """The answer to one request, computed in one child (see in_child): the replay first, its answer sent and
    its pipe closed before the model is touched, so a model that brings its evaluation down or takes long
    cannot take the replay's verdict with it."""
    parts = {}
    if req.get("replay"):
        pool = served_pool(root, req["replay"]["served"])  # this process's own work: the host's files only
        parts["replay"] = lambda: _replay(evidence_path, model_path, pool, req["replay"])
    if req.get("model"):
        parts["evaluation"] = lambda: _evaluation(model_path, images, req["model"])
    return in_child(parts, isolated) if parts else {}


def _evaluation(model_path: Path, images, model: dict) -> dict:
    try:
        return predict(model_path.read_bytes(), images, model["preprocess"], int(model["batch"]))
    except Exception as exc:  # reported as the learns check's reason
        return {"error": _first_line(exc)}


def _replay(evidence_path: Path, model_path: Path, pool, req: dict) -> dict:
    from grader import replayer
    from grader.harness import protocol

    try:
        work = protocol.read_request_file(evidence_path.read_bytes())
        model = model_path.read_bytes() if req.get("count_parameters") and model_path.exists() else None
        return replayer.answer(work, *pool, model)
    except Exception as exc:  # noqa: BLE001 - the host reads an error as "could not be replayed"
        return {"error": _first_line(exc)}


def _first_line(exc: Exception) -> str:
    first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}"


def served_pool(root: Path, served: dict):
    """The images the run served (replayer.served_pool, cached): a relative path is the sandbox's input (an
    absolute one, baked into the image, stays itself under `root /`)."""
    from grader import replayer

    return replayer.served_pool(str(root / served["images"]), str(root / served["labels"]),
                                int(served["train_examples"]),
                                int(served["eval_examples"]), int(served["seed"]), bool(served["full"]))


def wait_for(path: Path) -> dict:
    while not path.exists():
        time.sleep(POLL_S)
    return json.loads(path.read_text())


def serve(root: Path, images, isolated: bool) -> None:
    """Answer one request line on stdin at a time, until stdin closes (see the module's docstring)."""
    pending = root / "in" / "pending"
    for line in sys.stdin:
        req = json.loads(line)
        n = int(req["n"])
        result = respond(root, req, pending / f"model-{n}.bin", pending / f"evidence-{n}.bin", images, isolated)
        print(json.dumps({"n": n, **result}), flush=True)


def in_child(parts: dict, isolated: bool) -> dict:
    """Each part's work() in one forked child, in order, each answer on a pipe of its own that only this process
    reads; the child closes a part's pipe before the next part starts, so nothing later can write to it. A
    part's answer counts when it is whole, and the last part's only if the child exited cleanly. Then nothing
    the child did survives: see _clean_up. A fork costs ~10 ms here, and the pages a child touches more."""
    pipes = {name: os.pipe() for name in parts}
    for _, w in pipes.values():
        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, PIPE_BYTES)  # the whole answer fits: the child never waits on us
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setpgid(0, 0)
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, 0)
            os.dup2(null, 1)
            for r, _ in pipes.values():
                os.close(r)
            for name, work in parts.items():
                with os.fdopen(pipes[name][1], "wb") as fh:
                    fh.write(json.dumps(work()).encode())
            code = 0
        finally:
            os._exit(code)
    for _, w in pipes.values():
        os.close(w)
    _, status = os.waitpid(pid, 0)
    _clean_up(pid, isolated)  # no process is left that could still write to a pipe
    answers = {}
    for i, (name, (r, _)) in enumerate(pipes.items()):
        with os.fdopen(r, "rb") as fh:
            os.set_blocking(r, False)
            data = fh.read() or b""
        try:
            result = json.loads(data) if status == 0 or i < len(pipes) - 1 else None
        except ValueError:
            result = None
        answers[name] = result if isinstance(result, dict) else \
            {"error": f"the evaluation process died (wait status {status})"}
    return answers


def _clean_up(child: int, isolated: bool) -> None:
    """In a sandbox of its own (a pid namespace), kill every process but its init and this one with one
    kill(-1), which the kernel applies to all of them at once (a process hopping to new pids cannot outrun
    it), until none is left; then empty the writable folders. Elsewhere, only the child's process group."""
    if not isolated:
        try:
            os.killpg(child, signal.SIGKILL)
        except OSError:
            pass
        return
    deadline, empty = time.monotonic() + CLEAN_UP_S, 0
    while empty < EMPTY_SCANS:  # a fork under way when a scan ran shows up in a later one
        if time.monotonic() > deadline:  # the service ends; the host starts a fresh one for the next model
            sys.exit("could not empty the sandbox after an evaluation")
        if _others():
            empty = 0
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
        else:
            empty += 1
        time.sleep(0.002)
    for folder in SCRATCH:
        for entry in Path(folder).glob("*") if Path(folder).is_dir() else ():
            _remove(entry)


def _others() -> list[int]:
    """Live processes of this sandbox but its init and this one (a zombie is dead: its parent reaps it)."""
    found = []
    for p in os.listdir("/proc"):
        if p.isdigit() and int(p) not in (1, os.getpid()):
            try:
                if open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
                    found.append(int(p))
            except (OSError, IndexError):
                pass
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:  # reap our own zombies
            pass
    except ChildProcessError:
        pass
    return found


def _remove(entry: Path) -> None:
    try:
        if entry.is_dir() and not entry.is_symlink():
            os.chmod(entry, 0o700)
            shutil.rmtree(entry, onerror=_unlock)
        else:
            entry.unlink()
    except OSError:
        pass


def _unlock(func, path, _exc) -> None:
    """rmtree's retry for a folder a child made unwritable (its owner may chmod it back)."""
    try:
        os.chmod(os.path.dirname(path), 0o700)
        func(path)
    except OSError:
        pass


def _pristine_import_path() -> None:
    """Nothing writable on the import path: `python -m` puts the working directory (a tmpfs) first."""
    writable = [os.getcwd(), *SCRATCH]
    sys.path[:] = [p for p in sys.path if p and not any(
        os.path.realpath(p) == w or os.path.realpath(p).startswith(w + "/") for w in writable)]


def main() -> None:
    root = Path(sys.argv[1])
    inputs = root / "in"
    import torch

    from grader import replayer  # noqa: F401 - with the tape's reader, imported while waiting
    from grader.harness import dynamo_deferred, network, portable  # noqa: F401

    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0: no child can open this process's fds
    _pristine_import_path()
    torch.set_num_threads(1)
    dynamo_deferred.install(torch)  # the replay's torch.optim.Adam would import torch._dynamo (~1 s) for nothing
    torch.sparse.check_sparse_tensor_invariants.enable()  # a second wall behind portable.DENIED
    images = load_images(inputs / "test-images")
    isolated = "--isolated" in sys.argv[2:]
    if "--serve" in sys.argv[2:]:
        serve(root, images, isolated)
        return
    if (inputs / "pending" / "served.json").exists():  # prepared while the submission trains
        served_pool(root, json.loads((inputs / "pending" / "served.json").read_text()))
    req = wait_for(inputs / "pending" / "request.json")
    if req.get("cancel"):
        result = {"cancelled": True}
    else:
        result = respond(root, req, inputs / "pending" / "model.bin", inputs / "pending" / "evidence.bin", images,
                         isolated)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
    os._exit(0)  # the answer is written and flushed; torch's interpreter teardown would only cost wall time
