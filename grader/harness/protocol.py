"""The framed stream that leaves the sandbox.

The supervisor writes one JSON object per line on its stdout, each tagged with a channel:
  {"ch": "trace", "ev": {...}}   an event the harness recorded (read from its private trace pipe)
  {"ch": "out", "s": "o"|"e", "d": "..."}   the submission's own stdout/stderr, live, up to a cap
  {"ch": "sup", ...}             the supervisor's final word: exit status, timeouts, output totals and tail
The submission's stdout/stderr are pipes the supervisor wraps, but a process inside the sandbox may still
reach the sandbox's own stdout (Docker's init runs under the sandbox uid and holds it). So every line is
signed: JSON, a tab, then HMAC-SHA256 of the JSON under a per-job key that the host writes to the sandbox's
stdin and the supervisor reads before any submission code exists. Unsigned lines are dropped and counted.

Binary parts (the exported network, a step's evidence: megabytes) travel beside the JSON, never inside it:
an event's bytes-valued fields are listed in its "bin" field ({name: size}) and their bytes follow its line,
concatenated (`pack`/`unpack`): raw on the trace pipe, and on the sandbox's stdout right after the signed
line that declares them ("bytes": their length), the signature covering both. Docker passes stdout through its
log driver as text (json-file mangles bytes that are not UTF-8, local drops a newline that falls on its 16 KiB
boundary), so there the spec's "text_stdout" makes them one base64 line ("b64": its length). The supervisor's
final record says how many bytes it wrote before it ("stream_bytes"), so the host knows when signed records
were lost or altered on the way (Docker's init holds the same stdout).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json

TRACE, OUT, SUP = "trace", "out", "sup"


def _mac(key: bytes, body: bytes, payload=b"") -> bytes:
    mac = hmac.new(key, body, hashlib.sha256)
    if payload:
        mac.update(b"\n")
        mac.update(payload)
    return mac.hexdigest().encode()


def pack(fields: dict) -> tuple[dict, bytes]:
    """The fields without their bytes values, which are listed in "bin" and returned concatenated."""
    parts = {k: v for k, v in fields.items() if isinstance(v, (bytes, bytearray, memoryview))}
    if not parts:
        return fields, b""
    rest = {k: v for k, v in fields.items() if k not in parts}
    rest["bin"] = {k: len(v) for k, v in parts.items()}
    return rest, b"".join(parts.values())


def bin_size(fields: dict) -> int | None:
    """How many bytes follow an object that lists binary parts (0: none; None: a malformed list)."""
    sizes = fields.get("bin")
    if sizes is None:
        return 0
    if not isinstance(sizes, dict) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                                              for n in sizes.values()):
        return None
    return sum(sizes.values())


def unpack(fields: dict, payload: bytes) -> dict:
    """`pack` undone: the bytes values back in their fields (ValueError if the sizes do not add up)."""
    if bin_size(fields) != len(payload):
        raise ValueError("its binary parts do not add up")
    out = {k: v for k, v in fields.items() if k != "bin"}
    at = 0
    for name, size in (fields.get("bin") or {}).items():
        out[name], at = payload[at : at + size], at + size
    return out


def request_file(request: dict) -> bytes:
    """A replay request (replay.Plan.request) as the host hands it to the evaluator: one JSON line with its
    records packed, then their bytes in the same order."""
    work, payloads = [], []
    for item in request["work"]:
        header, payload = pack(item["record"])
        work.append({**item, "record": header})
        payloads.append(payload)
    return json.dumps({**request, "work": work}).encode() + b"\n" + b"".join(payloads)


def read_request_file(data: bytes) -> dict:
    """`request_file` undone (ValueError if its parts do not add up)."""
    end = data.index(b"\n")
    request, at = json.loads(data[:end]), end + 1
    for item in request["work"]:
        size = bin_size(item["record"])
        if size is None:
            raise ValueError("a record's binary parts are malformed")
        item["record"], at = unpack(item["record"], data[at : at + size]), at + size
    if at != len(data):
        raise ValueError("the request's binary parts do not add up")
    return request


def encode(record: dict, key: bytes, payload: bytes = b"", text: bool = False) -> bytes:
    """One signed line, and the record's binary part after it, raw or (text) as one base64 line."""
    if payload:
        if text:
            payload = binascii.b2a_base64(payload, newline=False)
        record = {**record, "b64" if text else "bytes": len(payload)}
    body = json.dumps(record, separators=(",", ":"), allow_nan=True).encode()
    head = body + b"\t" + _mac(key, body, payload) + b"\n"
    return head + payload + b"\n" if payload else head


def decode_stream(data: bytes, key: bytes) -> tuple[list[dict], int, int]:
    """Verified records (one that carried bytes has them under "payload"), how many non-empty lines were
    rejected (unsigned, forged or malformed), and how many bytes the verified records before the supervisor's
    final one took (compare its "stream_bytes"). A payload is taken only with the signed line that declares
    it, so a forged declaration cannot swallow the lines after it."""
    records, rejected, verified = [], 0, 0
    view = memoryview(data)  # a payload is hashed and decoded where it lies, not copied
    pos, end = 0, len(data)
    while pos < end:
        start = pos
        nl = data.find(b"\n", pos)
        nl = end if nl < 0 else nl
        line, pos = data[pos:nl], nl + 1
        if not line.strip():
            continue
        body, _, mac = line.rpartition(b"\t")
        try:
            obj = json.loads(body)
            size, text = _declared(obj)
            part = view[pos : pos + size] if size and data[pos + size : pos + size + 1] == b"\n" else b""
            if not hmac.compare_digest(mac, _mac(key, body, part)):
                raise ValueError("bad signature")
            if part:
                obj["payload"] = binascii.a2b_base64(part) if text else bytes(part)
                pos += size + 1
        except (ValueError, binascii.Error):
            rejected += 1
            continue
        if isinstance(obj, dict) and obj.get("ch") in (TRACE, OUT, SUP):
            records.append(obj)
            verified += (pos - start) if obj["ch"] != SUP else 0
        else:
            rejected += 1
    return records, rejected, verified


def _declared(obj) -> tuple[int, bool]:
    """The length of the binary part a line declares (0: none), and whether it is base64."""
    for key, text in (("bytes", False), ("b64", True)):
        size = obj.get(key) if isinstance(obj, dict) else None
        if isinstance(size, int) and not isinstance(size, bool) and size > 0:
            return size, text
    return 0, False
