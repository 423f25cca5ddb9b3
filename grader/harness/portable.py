"""The sliced network as data: the only form in which a model reaches the held-out evaluator.

The tape already holds the network as a list of torch calls. This module writes that list as JSON (each call
named by its namespace and name, each argument a tagged value) plus the constants as tensors, and the
evaluator replays it with the same `run_steps` the harness uses to judge the network.

The artifact comes out of a process the submission controlled, so the reader trusts nothing in it: calls
resolve only to public tensor functions of a few torch namespaces (never file, seed or global-state
functions), values are plain data (no callables, no objects), and tensors load with torch's weights-only
unpickler. Replayed, it can only compute tensors from the test images it is given: it cannot read files,
write output, start processes or reach the evaluator's Python objects. Anything the writer cannot express
this way raises Unportable, and the network is not evaluated ("could not evaluate"): no pickle, TorchScript
or torch.export archive, which are programs, is ever loaded beside the test set.

Layout: MAGIC, the header's length (8 bytes, big-endian), the JSON header, then torch.save of the tensors.
"""

from __future__ import annotations

import io
import json
import re

import torch

from grader.harness.tape import INPUT, Ref, _name, run_steps

MAGIC = b"GRADER-TAPE-1\n"
FORMAT = "tape"


class Unportable(Exception):
    """The network uses a call or a value this format cannot carry."""


def _namespaces() -> dict:
    return {"torch": torch, "F": torch.nn.functional, "nn": torch._C._nn, "Tensor": torch.Tensor,
            "special": torch.special, "linalg": torch.linalg, "fft": torch.fft}


# Operators a network may apply as tensor methods; every other name starting with "_" is refused.
OPERATORS = {f"__{n}__" for n in (
    "add radd iadd sub rsub isub mul rmul imul matmul rmatmul imatmul truediv rtruediv itruediv floordiv "
    "rfloordiv mod rmod pow rpow ipow neg pos abs getitem lt le gt ge eq ne and or xor invert rand ror rxor "
    "lshift rshift setitem").split()}
# Public names that reach files, seeds, global settings, memory or devices: never called from an artifact.
DENIED = re.compile(r"^(set_.*|from_file|load|save|manual_seed|seed|initial_seed|compile|export|storage|"
                    r"untyped_storage|data_ptr|share_memory_|pin_memory|register_.*|backward|retain_grad|cuda|"
                    r"record_stream|apply_|map_|map2_|frombuffer|from_numpy|as_strided.*|use_deterministic.*|"
                    r"get_rng_state|fork_rng|"
                    # sparse and other non-strided layouts: torch does not check a sparse tensor's indices by
                    # default, so to_dense() of a crafted one writes outside its buffer
                    r"sparse.*|.*_sparse.*|to_dense|to_mkldnn|coalesce|indices|values|crow_indices|"
                    r"col_indices|ccol_indices|row_indices|nested.*)$")
# read through the tape as `Tensor.T.__get__`
PROPERTIES = {"T", "mT", "H", "mH", "real", "imag", "data", "shape", "ndim", "dtype", "device"}


def allowed(space: str, name: str) -> bool:
    if space not in _namespaces():
        return False
    if name.startswith("_"):
        return space == "Tensor" and name in OPERATORS
    return re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) is not None and not DENIED.match(name)


# ------------------------------------------------------------------------------------------- writing
def func_ref(func) -> list[str]:
    """[namespace, name] of a recorded call; raises Unportable for anything the reader would refuse."""
    holder = getattr(func, "__self__", None)
    if getattr(func, "__name__", "") == "__get__" and type(holder).__name__ == "getset_descriptor":
        name = getattr(holder, "__name__", "")
        if name in PROPERTIES and getattr(torch.Tensor, name).__get__ == func:
            return ["Tensor.get", name]
        raise Unportable(f"tensor property {name!r}")
    name = _name(func)
    for space, ns in _namespaces().items():
        found = getattr(ns, name, None)
        # the harness's loss wrappers (watch/losses.py) stand in for F.cross_entropy and its kin: a call
        # recorded through one names the function it wraps
        if (found is func or getattr(found, "__wrapped__", None) is func) and allowed(space, name):
            return [space, name]
    # `p ** 2` records Tensor.__pow__, a wrapper named after the method it calls (TensorBase.pow)
    operator = next((op for op in sorted(OPERATORS) if getattr(torch.Tensor, op, None) is func), None)
    if operator is not None:
        return ["Tensor", operator]
    raise Unportable(f"call {getattr(func, '__qualname__', name)!r}")


def _encode(value, tensors: dict[int, int], out: list[torch.Tensor]):
    if isinstance(value, Ref):
        return {"ref": [value.entry, value.slot]}
    if isinstance(value, str) and value == INPUT:
        return {"input": 1}
    if isinstance(value, torch.Tensor):
        if id(value) not in tensors:
            tensors[id(value)] = len(out)
            out.append(value.detach().to("cpu").clone())
        return {"t": tensors[id(value)]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.Size):
        return {"size": list(value)}
    if isinstance(value, (list, tuple)):
        return {"list" if isinstance(value, list) else "tuple": [_encode(v, tensors, out) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _encode(v, tensors, out) for k, v in value.items()}}
    if isinstance(value, slice):
        return {"slice": [_encode(v, tensors, out) for v in (value.start, value.stop, value.step)]}
    if value is Ellipsis:
        return {"ellipsis": 1}
    if isinstance(value, torch.dtype):
        return {"dtype": str(value).replace("torch.", "")}
    if isinstance(value, torch.device):
        return {"device": "cpu"}  # evaluation runs on the CPU
    if isinstance(value, torch.memory_format):
        return {"memory_format": str(value).replace("torch.", "")}
    raise Unportable(f"argument of type {type(value).__name__}")


def dumps(steps, logits: tuple[int, int], tensors: dict[int, int] | None = None) -> bytes:
    """The replayable artifact of a sliced network's steps [(entry, func, args, kwargs)] with constants bound.
    `tensors`, when given, is filled with id(constant) -> its index in the artifact (Program.tensors)."""
    tensors = {} if tensors is None else tensors
    out: list[torch.Tensor] = []
    calls = [{"entry": idx, "fn": func_ref(func), "args": _encode(tuple(args), tensors, out),
              "kwargs": _encode(dict(kwargs), tensors, out)} for idx, func, args, kwargs in steps]
    header = json.dumps({"calls": calls, "logits": list(logits)}).encode()
    buf = io.BytesIO()
    torch.save(out, buf)
    return MAGIC + len(header).to_bytes(8, "big") + header + buf.getvalue()


# ------------------------------------------------------------------------------------------- reading
class Program:
    """A loaded artifact: call it on an input batch to get the logits."""

    def __init__(self, steps, logits: tuple[int, int], tensors: list | None = None):
        self.steps, self.logits = steps, logits
        self.tensors = tensors or []  # the constants, as the steps hold them

    def __call__(self, x):
        return run_steps(self.steps, x)[self.logits]


def loads(blob: bytes) -> Program:
    if not blob.startswith(MAGIC):
        raise ValueError("not a grader tape artifact")
    size = int.from_bytes(blob[len(MAGIC):len(MAGIC) + 8], "big")
    start = len(MAGIC) + 8
    header = json.loads(blob[start:start + size])
    tensors = torch.load(io.BytesIO(blob[start + size:]), weights_only=True, map_location="cpu")
    if not isinstance(tensors, list) or not all(isinstance(t, torch.Tensor) for t in tensors):
        raise ValueError("the artifact's constants are not a list of tensors")
    if any(t.layout != torch.strided for t in tensors):  # see DENIED: only dense tensors are data here
        raise ValueError("the artifact's constants include a tensor that is not dense")
    steps = [(int(c["entry"]), _resolve(c["fn"]), _decode(c["args"], tensors), _decode(c["kwargs"], tensors))
             for c in header["calls"]]
    entry, slot = header["logits"]
    return Program(steps, (int(entry), int(slot)), tensors)


def _resolve(ref) -> object:
    space, name = ref
    if space == "Tensor.get":
        if name not in PROPERTIES:
            raise ValueError(f"tensor property {name!r} is not allowed")
        return getattr(torch.Tensor, name).__get__
    if not isinstance(space, str) or not isinstance(name, str) or not allowed(space, name):
        raise ValueError(f"call {space}.{name} is not allowed")
    func = getattr(_namespaces()[space], name, None)
    if not callable(func):
        raise ValueError(f"call {space}.{name} does not exist in this torch")
    return func


def _decode(value, tensors: list):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError("malformed value in the artifact")
    (tag, v), = value.items()
    if tag == "ref":
        return Ref(int(v[0]), int(v[1]))
    if tag == "input":
        return INPUT
    if tag == "t":
        return tensors[int(v)]
    if tag == "size":
        return torch.Size(int(n) for n in v)
    if tag == "list":
        return [_decode(x, tensors) for x in v]
    if tag == "tuple":
        return tuple(_decode(x, tensors) for x in v)
    if tag == "dict":
        return {str(k): _decode(x, tensors) for k, x in v.items()}
    if tag == "slice":
        return slice(*(_decode(x, tensors) for x in v))
    if tag == "ellipsis":
        return Ellipsis
    if tag in ("dtype", "memory_format"):
        found = getattr(torch, str(v), None)
        if not isinstance(found, (torch.dtype, torch.memory_format)):
            raise ValueError(f"unknown {tag} {v!r}")
        return found
    if tag == "device":
        return torch.device("cpu")
    raise ValueError(f"unknown value tag {tag!r}")
