"""The harness: installs instrumentation, runs the submission as __main__, exports what it trained.

Usage (by the supervisor only): python -m grader.harness SPEC_JSON TRACE_FD KEY_FD
  KEY_FD is read once and closed before any submission code runs: the key it holds tags every trace line.
  A warm worker (zygote.py) calls `run` in a fork instead, with the same three.
"""

from __future__ import annotations

import builtins
import json
import os
import platform
import random
import signal
import sys
import time
import traceback
import types

from grader.harness import notebook


class GraderTimeout(BaseException):
    """Raised in the submission at the soft deadline; a BaseException so `except Exception` won't swallow it."""


HARNESS_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
MAX_DEFERRALS = 8  # the supervisor signals every 0.25 s: the harness gets 2 s to leave its own code
_deadline = {"script": None, "deferred": 0}


def _on_deadline(signum, frame):
    """The soft deadline stops the submission, never the harness's own bookkeeping: an exception between a
    trace event's sequence number and its write would make the supervisor reject every later event (the
    exported model included). Inside harness code it waits for the supervisor's next signal."""
    if _in_harness(frame) and _deadline["deferred"] < MAX_DEFERRALS:
        _deadline["deferred"] += 1
        return
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    raise GraderTimeout()


def _in_harness(frame) -> bool:
    """Whether the innermost frame that is either the submission's or the harness's is the harness's
    (torch's and the standard library's frames decide nothing: either side may have called them)."""
    while frame is not None:
        code = frame.f_code
        if code.co_filename == _deadline["script"] or code is run_submission.__code__ or code is notebook.RUNS_CELL:
            return False
        if code.co_filename.startswith(HARNESS_DIR):
            return True
        frame = frame.f_back
    return False


def _exception_event(exc: BaseException, filename: str) -> dict:
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if f.filename == filename]
    where = mine[-1] if mine else None
    return {
        "type": type(exc).__name__,
        "message": str(exc)[:2000],
        "lineno": where.lineno if where else None,
        "line": (where.line or "")[:300] if where else None,
        "frames": [{"file": "<submission>" if f.filename == filename else os.path.basename(f.filename),
                    "lineno": f.lineno, "name": f.name} for f in frames[-12:]],
    }


def _stopped_at(exc: BaseException | None, filename: str) -> list[int] | None:
    """The submission's lines on the stack where it stopped (a crash or the deadline), outermost first, like
    backward's `at`: the host tells a stop inside the training loop from one after it."""
    lines = [tb.tb_lineno for tb in _tracebacks(exc) if tb.tb_frame.f_code.co_filename == filename]
    return lines or None


def _tracebacks(exc: BaseException | None):
    tb = exc.__traceback__ if exc is not None else None
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _show_traceback(exc: BaseException, filename: str) -> None:
    """What python itself would print, minus the harness's own frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    try:
        sys.stderr.write("".join(traceback.format_exception(type(exc), exc, tb)))
        sys.stderr.flush()
    except Exception:
        pass


def _flushing_exit(rec, real_exit):
    """os._exit skips every epilogue: what the program printed (a terminal would have shown it, line by line)
    and the trace's last batch go out first."""

    def _exit(status):
        if os.getpid() == rec.pid:  # a fork's buffers hold copies of its parent's unwritten output
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:  # noqa: BLE001 - a stream the program replaced or closed
                    pass
            if rec.before is not None:
                rec.before()
            rec.flush()
        real_exit(status)

    return _exit


def _silence_output() -> None:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    except OSError:
        pass


def _writable_copy(path: str, workdir: str) -> str:
    """The script runs from a folder of its own inside the writable work dir, so it can save files next to
    itself or in ../models as on a student's machine (all of it thrown away with the sandbox)."""
    folder = os.path.join(workdir, "project", "src")
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, os.path.basename(path))
    with open(path, "rb") as src, open(target, "wb") as dst:
        dst.write(src.read())
    return target


def _hide_grader_modules() -> dict:
    """The submission cannot look the grader's modules up by name (sys.modules['grader...']): its decisions
    live in closures and objects the instrumentation holds, not in globals one line of code could rebind."""
    return {name: sys.modules.pop(name) for name in list(sys.modules) if name == "grader" or name.startswith("grader.")}


def run_submission(path: str, kind: str, cells: list[int] | None = None) -> tuple[str, BaseException | None, int | None]:
    """Run the file as __main__; a notebook cell by cell (`cells`: the line each code cell starts on), with what
    a kernel provides (notebook.py)."""
    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    module = types.ModuleType("__main__")
    module.__file__ = path
    module.__builtins__ = builtins
    if kind == "notebook":
        notebook.install(module.__dict__)
    sys.modules["__main__"] = module
    sys.argv = [path]
    try:
        if kind == "notebook":
            notebook.run_cells(source, path, cells or [1], module.__dict__)
        else:
            exec(compile(source, path, "exec"), module.__dict__)
        return "ok", None, None
    except GraderTimeout as exc:
        return "timeout", exc, None
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return ("ok" if status == 0 else "exit"), None if status == 0 else exc, status
    except BaseException as exc:  # noqa: BLE001 - everything the submission raises is graded
        return "exception", exc, None


def main() -> None:
    run(json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))


def run(spec: dict, trace_fd: int, key_fd: int) -> None:
    """The whole harness, from a cold start (main) or in a warm worker's fork (zygote.py), where the imports
    below are already done."""
    from grader.harness.recorder import Recorder

    with os.fdopen(key_fd, "r") as key_pipe:
        key = key_pipe.read()
    rec = Recorder(trace_fd, key, batch=bool(spec.get("batch_trace", True)))
    os._exit = _flushing_exit(rec, os._exit)
    signal.signal(signal.SIGUSR1, _on_deadline)
    t = time.monotonic()
    import torch

    from grader.harness import dynamo_deferred

    fast = bool(spec.get("fast_path", True))
    if fast:
        dynamo_deferred.install(torch)
    torchvision = dynamo_deferred.import_torchvision()

    from grader.harness import mnist, network  # noqa: F401 - network: loaded before the submission runs
    from grader.harness.instrument import Instrumentation

    cuda = torch.cuda.is_available()
    rec.emit("start", python=platform.python_version(), torch=torch.__version__, torchvision=torchvision.__version__,
             cuda=cuda, gpu=torch.cuda.get_device_name(0) if cuda else None, threads=spec.get("threads", 1))
    rec.emit("phase", name="import", seconds=round(time.monotonic() - t, 3))

    t = time.monotonic()
    torch.set_num_threads(max(1, int(spec.get("threads", 1))))
    seed = int(spec.get("seed", 0))
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy

        numpy.random.seed(seed)
    except ImportError:
        pass
    served = mnist.Served(spec["train_images"], spec["train_labels"], spec["train_examples"],
                          spec["eval_examples"], seed, full=bool(spec.get("full_size")))
    served.fast = fast
    inst = Instrumentation(rec, served)
    inst.install()
    rec.emit("phase", name="data", seconds=round(time.monotonic() - t, 3))

    t = time.monotonic()
    inst.install_output(spec.get("pipe_bytes"))
    hidden = _hide_grader_modules()
    script = _writable_copy(spec["submission"], spec["workdir"])
    _deadline["script"] = inst.script = script
    # torch's import and the data cost a cold start seconds of CPU that a warm worker's fork never pays:
    # the budget starts here, so every start gives a program the same CPU time
    rec.emit("run_start", force=True, cpu_s=round(time.process_time(), 3))  # written now, not buffered
    outcome, exc, code = run_submission(script, spec.get("kind", "python"), spec.get("cells"))
    if os.getpid() != rec.pid:  # a process the submission forked, unwinding: it must not run our epilogue
        os._exit(1 if exc is not None else 0)
    sys.modules.update(hidden)
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # the deadline only stops the submission, not the export
    inst.watch.stop()
    inst.capture.stop()
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    if exc is not None and outcome == "exception":
        _show_traceback(exc, script)
    rec.close()
    _silence_output()  # what torch prints while exporting is not the submission's output
    if exc is not None and outcome != "timeout":
        rec.emit("exception", force=True, **_exception_event(exc, script))
    rec.emit("end", force=True, outcome=outcome, exit_code=code, dropped=rec.dropped,
             seconds=round(time.monotonic() - t, 3), at=_stopped_at(exc, script))

    t = time.monotonic()
    inst.optimizer_summaries()
    facts, blob = final_model(inst, served)
    rec.emit("model", force=True, **facts)
    if blob is not None:
        rec.emit("artifact", force=True, name="model.bin", data=blob)
    rec.emit("phase", force=True, name="export", seconds=round(time.monotonic() - t, 3))


def _built_model():
    """A network that was built but never called (nothing trained): the largest root module alive, so the
    architecture the program built is still judged."""
    import gc

    from torch import nn

    modules = [o for o in gc.get_objects() if isinstance(o, nn.Module)]
    children = {id(c) for m in modules for c in m.children()}
    roots = [m for m in modules if id(m) not in children and next(m.parameters(), None) is not None]
    if not roots:
        return None
    best = max(roots, key=lambda m: sum(p.numel() for p in m.parameters()))

    class NeverCalled:  # the module facts the fallback reads, for a module that saw no input
        shape, samples = None, []

        @staticmethod
        def inputs():
            return None

    return best, NeverCalled, 0.0


def final_model(inst, served) -> tuple[dict, bytes | None]:
    """The trained network (see harness/model.py), what it is, and its export for held-out evaluation."""
    import torch

    from grader.harness import model as watch
    from grader.harness import network

    pool = torch.cat([served.train[0], served.eval[0]])
    params = inst._optimizer_params()
    net, steps = inst.watch.choose(inst.optimizers)
    facts: dict = {"found": False, "stepped_by": steps, "tape_failures": inst.watch.failures[-3:]}
    module, inputs = None, None
    if net is not None:
        facts.update(found=True, source="training step", cls="traced network")
        module, inputs = network.Replayed(net), net.input
    else:
        found = inst.trained_model() or _built_model()
        if found is not None:
            mod, info, share = found
            facts.update(found=True, source="module", cls=type(mod).__name__, stepped_share=round(share, 4))
            ids = {id(p) for p in mod.parameters()}
            facts["stepped_by"] = max((o["steps"] for opt, o in inst.optimizers.items()
                                       if ids & {id(p) for g in opt.param_groups for p in g["params"]}), default=0)
            inputs = info.inputs()
            if isinstance(mod, torch.jit.ScriptModule):
                facts["structure"] = network.scripted_structure(mod)
                facts["source"] = "TorchScript graph"
            else:
                net = watch.probe_module(mod, info.shape[1:] if info.shape else None)
                if net is not None:
                    facts["source"] = "module probed after the run"
            module = mod
    if not facts["found"]:
        return facts, None
    if net is not None:
        ids = params | {id(p) for p in net.params}
        facts["structure"] = watch.describe(net, ids)
        facts["n_params"] = sum(p.numel() for p in net.params)
    if inputs is None:
        facts["export_error"] = "the model never received an input batch"
        return facts, None
    prep, why = network.learn_preprocessing(inputs, pool)
    if prep is None:
        facts["export_error"] = why
        return facts, None
    facts["preprocess"] = prep
    batch = max(1, min(int(inputs.shape[0]), 1024))
    facts["batch"] = batch
    more, blob, fmt = network.export(module, prep, served.eval[0], batch, _tape_of(module, net, prep, batch))
    facts.update(more, format=fmt)
    if blob is not None and len(blob) > network.MAX_ARTIFACT_BYTES:
        facts["export_error"] = f"the exported model is {len(blob) >> 20} MB, over the limit"
        blob = None
    return facts, blob


def _tape_of(module, net, prep: dict, batch: int):
    """The torch calls that rebuild the network for the evaluator, at the evaluation's batch size: the traced
    step's, a scripted module's graph, or a module's own, probed from its input; None where there are none."""
    import torch

    from grader.harness import model as watch
    from grader.harness import network

    if isinstance(module, network.Replayed):
        return net
    try:
        if isinstance(module, torch.jit.ScriptModule):
            return network.Scripted(module)
        probed = watch.probe_module(module, prep["shape"], batch=batch)
        return network.Probed(probed, prep["shape"]) if probed is not None else None
    except Exception:  # network.export reports that nothing carries it
        return None


if __name__ == "__main__":
    main()
    # Everything is on the trace pipe (unbuffered writes). Skip interpreter teardown: tearing torch down
    # costs wall time on every check, and threads the submission left running must not hold the exit up.
    os._exit(0)
