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
concatenated (`pack`/`unpack`): raw on the trace pipe; on the sandbox's stdout, which Docker's log drivers
pass as text (the json-file driver mangles bytes that are not UTF-8, the local one drops a newline that falls
on its 16 KiB boundary), as one base64 line that the line before it declares ("bytes": its length) and whose
signature covers both. The supervisor's final record says how many bytes it wrote before it ("stream_bytes"),
so the host knows when signed records were lost or altered on the way (Docker's init holds the same stdout).
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


def encode(record: dict, key: bytes, payload: bytes = b"") -> bytes:
    if payload:
        text = binascii.b2a_base64(payload, newline=False)
        body = json.dumps({**record, "bytes": len(text)}, separators=(",", ":"), allow_nan=True).encode()
        return body + b"\t" + _mac(key, body, text) + b"\n" + text + b"\n"
    body = json.dumps(record, separators=(",", ":"), allow_nan=True).encode()
    return body + b"\t" + _mac(key, body) + b"\n"


def decode_stream(data: bytes, key: bytes) -> tuple[list[dict], int, int]:
    """Verified records (one that carried bytes has them under "payload"), how many non-empty lines were
    rejected (unsigned, forged or malformed), and how many bytes the verified records before the supervisor's
    final one took (compare its "stream_bytes"). A payload line is taken only with the signed line that
    declares it, so a forged declaration cannot swallow the lines after it."""
    records, rejected, verified = [], 0, 0
    view = memoryview(data)  # a payload line is hashed and decoded where it lies, not copied
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
            size = obj.get("bytes") if isinstance(obj, dict) else None
            text = b""
            if isinstance(size, int) and not isinstance(size, bool) and size > 0 and \
                    data[pos + size : pos + size + 1] == b"\n":
                text = view[pos : pos + size]
            if not hmac.compare_digest(mac, _mac(key, body, text)):
                raise ValueError("bad signature")
            if text:
                obj["payload"] = binascii.a2b_base64(text)
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
