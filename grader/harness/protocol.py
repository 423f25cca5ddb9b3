"""The framed stream that leaves the sandbox.

The supervisor writes one JSON object per line on its stdout, each tagged with a channel:
  {"ch": "trace", "ev": {...}}   an event the harness recorded (read from its private trace pipe)
  {"ch": "out", "s": "o"|"e", "d": "..."}   the submission's own stdout/stderr, live, up to a cap
  {"ch": "sup", ...}             the supervisor's final word: exit status, timeouts, output totals and tail
The submission's stdout/stderr are pipes the supervisor wraps, but a process inside the sandbox may still
reach the sandbox's own stdout (Docker's init runs under the sandbox uid and holds it). So every line is
signed: JSON, a tab, then HMAC-SHA256 of the JSON under a per-job key that the host writes to the sandbox's
stdin and the supervisor reads before any submission code exists. Unsigned lines are dropped and counted.
"""

from __future__ import annotations

import hashlib
import hmac
import json

TRACE, OUT, SUP = "trace", "out", "sup"


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).hexdigest().encode()


def encode(record: dict, key: bytes) -> bytes:
    body = json.dumps(record, separators=(",", ":"), allow_nan=True).encode()
    return body + b"\t" + _mac(key, body) + b"\n"


def decode_stream(data: bytes, key: bytes) -> tuple[list[dict], int]:
    """Verified records, and how many non-empty lines were rejected (unsigned, forged or malformed)."""
    records, rejected = [], 0
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        body, _, mac = line.rpartition(b"\t")
        try:
            if not hmac.compare_digest(mac, _mac(key, body)):
                raise ValueError("bad signature")
            obj = json.loads(body)
        except ValueError:
            rejected += 1
            continue
        if isinstance(obj, dict) and obj.get("ch") in (TRACE, OUT, SUP):
            records.append(obj)
        else:
            rejected += 1
    return records, rejected
