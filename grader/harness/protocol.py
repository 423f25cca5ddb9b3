"""The framed stream that leaves the sandbox.

The supervisor writes one JSON object per line on its stdout, each tagged with a channel:
  {"ch": "trace", "ev": {...}}   an event the harness recorded (read from its private trace pipe)
  {"ch": "out", "s": "o"|"e", "d": "..."}   the submission's own stdout/stderr, live, up to a cap
  {"ch": "sup", ...}             the supervisor's final word: exit status, timeouts, output totals and tail
The submission never writes to this stream: its stdout/stderr are pipes the supervisor reads and wraps.
"""

from __future__ import annotations

import json

TRACE, OUT, SUP = "trace", "out", "sup"


def encode(record: dict) -> bytes:
    return (json.dumps(record, separators=(",", ":"), allow_nan=True) + "\n").encode()


def decode_stream(data: bytes) -> list[dict]:
    """Parse the supervisor's stream; lines that are not JSON objects are skipped (never trusted)."""
    records = []
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("ch") in (TRACE, OUT, SUP):
            records.append(obj)
    return records
