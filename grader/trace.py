"""The recorded trace, as the host sees it, and what is derived from it (epochs, printed lines per epoch).

Pure: nothing here runs torch or submission code, so every rule can be tested on hand-built event lists.
An epoch is a full pass over the training data, decided from what training consumed:
  - with a DataLoader: the loader whose batches fed the most backward() calls is the training loader;
    each of its passes that fed at least one backward is an epoch, complete when the loader was exhausted;
  - without one (slicing tensors by hand): examples that went through backward(), in multiples of the
    training set's size.
Printed lines belong to the epoch that was running when they were written, whatever they say.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from dataclasses import dataclass, field

from grader.harness import protocol


@dataclass
class Epoch:
    index: int  # 1-based
    start: int  # event seq where it began
    complete: bool
    backwards: list[dict] = field(default_factory=list)
    lines: list[tuple[dict, int]] = field(default_factory=list)  # (line event, backwards before it in this epoch)
    batches: int | None = None
    examples: int = 0

    @property
    def losses(self) -> list[float]:
        return [b["value"] for b in self.backwards if isinstance(b.get("value"), (int, float))]

    @property
    def mean_loss(self) -> float | None:
        values = self.losses
        return sum(values) / len(values) if values else None


@dataclass
class Trace:
    events: list[dict]
    sup: dict | None = None
    live_output: str = ""
    artifact: bytes | None = None

    forged: int = 0  # lines in the sandbox's output that were not signed by the supervisor

    @classmethod
    def from_stream(cls, data: bytes, key: bytes) -> "Trace":
        records, rejected = protocol.decode_stream(data, key)
        trace = cls.from_records(records)
        trace.forged = rejected
        return trace

    @classmethod
    def from_records(cls, records: list[dict]) -> "Trace":
        events, out, sup = [], [], None
        for rec in records:
            if rec["ch"] == protocol.TRACE and isinstance(rec.get("ev"), dict):
                events.append(rec["ev"])
            elif rec["ch"] == protocol.OUT and isinstance(rec.get("d"), str):
                out.append(rec["d"])
            elif rec["ch"] == protocol.SUP:
                sup = rec
        return cls.from_events(events, sup=sup, live_output="".join(out))

    @classmethod
    def from_events(cls, events: list[dict], sup: dict | None = None, live_output: str = "") -> "Trace":
        artifact = None
        kept = []
        for ev in events:
            if ev.get("e") == "artifact":
                try:
                    artifact = base64.b64decode(ev.get("b64", ""), validate=True)
                except (binascii.Error, ValueError):
                    artifact = None
                continue
            kept.append(ev)
        kept.sort(key=lambda e: e.get("i", 0))
        return cls(events=kept, sup=sup, live_output=live_output, artifact=artifact)

    # ---------------------------------------------------------------- simple views
    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e.get("e") == kind]

    def first(self, kind: str) -> dict | None:
        return next((e for e in self.events if e.get("e") == kind), None)

    def last(self, kind: str) -> dict | None:
        return next((e for e in reversed(self.events) if e.get("e") == kind), None)

    @property
    def start(self) -> dict | None:
        return self.first("start")

    @property
    def end(self) -> dict | None:
        return self.last("end")

    @property
    def model(self) -> dict | None:
        return self.last("model")

    @property
    def exception(self) -> dict | None:
        return self.last("exception")

    def phase(self, name: str) -> float | None:
        return next((e.get("seconds") for e in self.of("phase") if e.get("name") == name), None)

    @property
    def train_size(self) -> int | None:
        ds = next((e for e in self.of("dataset") if e.get("train")), None)
        return ds.get("size") if ds else None

    @property
    def examples_trained(self) -> int:
        return sum(b.get("bs") or 0 for b in self.of("backward"))

    # ---------------------------------------------------------------- epochs
    def epochs(self) -> list[Epoch]:
        backwards = self.of("backward")
        fed = Counter(b["in_pass"][0] for b in backwards if b.get("in_pass"))
        if fed:
            return self._loader_epochs(fed.most_common(1)[0][0])
        return self._counted_epochs()

    def _loader_epochs(self, loader: int) -> list[Epoch]:
        starts = {e["pass_no"]: e for e in self.of("pass_start") if e.get("loader") == loader}
        ends = {e["pass_no"]: e for e in self.of("pass_end") if e.get("loader") == loader}
        by_pass: dict[int, list[dict]] = {}
        for b in self.of("backward"):
            if b.get("in_pass") and b["in_pass"][0] == loader:
                by_pass.setdefault(b["in_pass"][1], []).append(b)
        epochs = []
        for n, pass_no in enumerate(sorted(p for p in by_pass if p in starts), start=1):
            end = ends.get(pass_no)
            epochs.append(Epoch(index=n, start=starts[pass_no]["i"], complete=end is not None,
                                backwards=by_pass[pass_no], batches=end.get("batches") if end else None,
                                examples=end.get("examples", 0) if end else sum(b.get("bs") or 0 for b in by_pass[pass_no])))
        self._attach_lines(epochs)
        return epochs

    def _counted_epochs(self) -> list[Epoch]:
        size = self.train_size
        epochs: list[Epoch] = []
        seen = 0
        for b in self.of("backward"):
            if not epochs or (size and seen >= len(epochs) * size):
                epochs.append(Epoch(index=len(epochs) + 1, start=b["i"], complete=False))
            epochs[-1].backwards.append(b)
            seen += b.get("bs") or 0
            epochs[-1].examples += b.get("bs") or 0
        for ep in epochs:
            ep.complete = bool(size) and ep.examples >= size
            ep.batches = len(ep.backwards)
        self._attach_lines(epochs)
        return epochs

    def _attach_lines(self, epochs: list[Epoch]) -> None:
        """Each line goes to the epoch running when it was written (lines before the first epoch are setup),
        with how many of that epoch's backward passes had happened by then (for running averages)."""
        if not epochs:
            return
        owner = {b["i"]: ep for ep in epochs for b in ep.backwards}
        k, done = 0, [0] * len(epochs)
        for ev in self.events:
            i = ev.get("i", 0)
            if i < epochs[0].start:
                continue
            while k + 1 < len(epochs) and i >= epochs[k + 1].start:
                k += 1
            if owner.get(i) is epochs[k]:
                done[k] += 1
            elif ev.get("e") == "line":
                epochs[k].lines.append((ev, done[k]))

    # ---------------------------------------------------------------- what the run looked like
    @property
    def loss_kinds(self) -> Counter:
        return Counter(k for b in self.of("backward") for k in (b.get("kinds") or ["unknown"]))

    def output_tail(self, max_lines: int = 200, max_bytes: int = 65536) -> tuple[str, bool, int]:
        """(tail, truncated, total bytes) of the submission's interleaved stdout+stderr, as a terminal shows it.
        Truncated means something printed is not in the tail (progress-bar redraws don't count)."""
        sup = self.sup or {}
        raw = sup["tail"] if "tail" in sup else self.live_output
        total = sum(sup["out_bytes"].values()) if "out_bytes" in sup else len(self.live_output.encode())
        shown = as_terminal_shows(raw)
        lines = shown[-max_bytes:].splitlines(keepends=True)
        kept = "".join(lines[-max_lines:])
        cut = len(shown) > max_bytes or len(lines) > max_lines
        return kept, cut or total > len(raw.encode()), total


def as_terminal_shows(text: str) -> str:
    """Progress bars redraw a line with carriage returns; keep only what a terminal would end up showing."""
    lines = []
    for line in text.split("\n"):
        parts = [p for p in line.split("\r") if p]
        lines.append(parts[-1] if parts else "")
    return "\n".join(lines)
