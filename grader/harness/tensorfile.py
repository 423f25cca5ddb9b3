"""A step's tensors as plain bytes (harness/evidence.py writes them, grader/replayer.py reads them): a JSON
header that mirrors the structure (a dict of tensors or lists of tensors, None where there is none) with each
tensor's dtype and shape, then their bytes, contiguous, in the header's order. No pickle: the reader builds
tensors of allowlisted dtypes over the buffer and checks every size against it, so a crafted file can only
be refused. torch.save/weights-only load cost a record about 7 ms each way, mostly per tensor."""

from __future__ import annotations

import json

import torch

DTYPES = {name: getattr(torch, name) for name in ("float32", "float64", "float16", "bfloat16", "int64", "int32",
                                                  "int16", "int8", "uint8", "bool")}


def dumps(tensors: dict) -> bytes:
    parts: list[bytes] = []

    def meta(t):
        if t is None:
            return None
        if not isinstance(t, torch.Tensor) or t.layout != torch.strided:
            raise TypeError("only dense tensors are written")
        t = t.detach().to("cpu").contiguous()
        parts.append(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        return {"dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape)}

    header = {k: [meta(t) for t in v] if isinstance(v, (list, tuple)) else meta(v) for k, v in tensors.items()}
    head = json.dumps(header).encode()
    return len(head).to_bytes(8, "big") + head + b"".join(parts)


def loads(data: bytes) -> dict:
    """`dumps` undone (ValueError for anything that is not exactly such a file)."""
    size = int.from_bytes(data[:8], "big")
    header = json.loads(bytes(data[8 : 8 + size]))
    buf = bytearray(data[8 + size :])  # writable: the tensors are views of it
    at = 0

    def tensor(m):
        nonlocal at
        if m is None:
            return None
        if not isinstance(m, dict) or m.get("dtype") not in DTYPES or not isinstance(m.get("shape"), list) or \
                not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in m["shape"]):
            raise ValueError("a tensor's description is malformed")
        dtype = DTYPES[m["dtype"]]
        count = 1
        for n in m["shape"]:
            count *= n
        nbytes = count * torch.empty((), dtype=dtype).element_size()
        if at + nbytes > len(buf):
            raise ValueError("the tensors' bytes are shorter than their shapes")
        flat = torch.frombuffer(buf, dtype=torch.uint8, count=nbytes, offset=at) if nbytes else \
            torch.empty(0, dtype=torch.uint8)
        at += nbytes
        return flat.view(dtype).reshape(m["shape"])

    if not isinstance(header, dict):
        raise ValueError("the tensors' header is malformed")
    out = {k: [tensor(m) for m in v] if isinstance(v, list) else tensor(v) for k, v in header.items()}
    if at != len(buf):
        raise ValueError("the tensors' bytes are longer than their shapes")
    return out
