"""The recorded trace, as the host sees it, and what is derived from it (epochs, printed lines per epoch).

Pure: nothing here runs torch or submission code, so every rule can be tested on hand-built event lists.
An epoch is a pass over the training examples, judged by how many times they went through a back-propagated
loss, however they were fetched:
  - the loader view: every DataLoader pass that fed backward() while it was live (before its StopIteration)
    is an epoch, whichever loader object it came from (a new DataLoader per epoch is fine). It is complete
    when it ended with StopIteration and its batches went through backward(), or when backward() ran on all
    len(loader) of its batches (`next(it)` exactly len(loader) times never raises StopIteration);
  - the counted view: the examples that went through backward(), in multiples of one pass's size. The pass
    size is the one that divides the examples trained evenly among the plausible ones: what one pass of the
    training loader yielded, len(loader.dataset), the served training set, and each of those rounded down to
    whole batches (drop_last=True, or `len(X) // 64` batches by hand).
The loader view is used unless the examples back-propagated disagree with it: batches cached in a list once
and trained on ten times (backward() after the pass ended), or a fresh iter(loader) for every batch.
Unfinished passes before the first complete one (a demonstration step before training) are setup.
Printed lines belong to the epoch that was running when they were written, whatever they say; lines after
an epoch's last batch and before the next epoch starts belong to it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from grader.harness import protocol, recorder, supervisor

# What the host reads of a run, whatever the sandbox sends: the submission shares an interpreter with the
# harness's recorder, so it can write any number of validly keyed events, and the host's work (every check is
# linear or n log n in the trace) must stay bounded by what the honest harness could ever send.
# Events: the recorder's cap, plus the events it writes past it (one optimizer_end per optimizer, the end).
MAX_TRACE_EVENTS = 2 * recorder.MAX_EVENTS
# Bytes of the framed stream: the supervisor's trace cap plus the framing of every line (channel, MAC) and
# the submission's output (capped by the supervisor, and at most 6× larger JSON-escaped).
MAX_STREAM_BYTES = supervisor.TRACE_CAP_BYTES + 64 * 2**20


@dataclass
class Epoch:
    index: int  # 1-based
    start: int  # event seq where it began
    complete: bool
    backwards: list[dict] = field(default_factory=list)  # every backward() from start to the next epoch's start
    lines: list[tuple[dict, int]] = field(default_factory=list)  # (line event, backwards before it in this epoch)
    batches: int | None = None
    examples: int = 0  # examples that went through backward() in this epoch
    size: int | None = None  # examples in one full pass (what the training loader iterates)
    # events from `opens` up to `end` belong to this epoch: from its first backward() (the first epoch: from
    # its start) to the next epoch's first backward(), so lines written after the last batch are this epoch's
    opens: int = 0
    end: int | None = None  # None: the last epoch runs to the end of the trace

    def holds(self, seq: int) -> bool:
        """Was event `seq` recorded while this epoch was running (end-of-epoch lines included)?"""
        return seq >= self.opens and (self.end is None or seq < self.end)

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
    # why the host stopped reading before the end (more bytes or events than the harness ever sends): the run
    # wrote to the grader's own trace past the harness's caps, so what is left cannot be judged
    over_cap: str | None = None
    _index: dict[str, list[dict]] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_stream(cls, data: bytes, key: bytes) -> "Trace":
        over = None
        if len(data) > MAX_STREAM_BYTES:
            over = f"{len(data):,} bytes, over the {MAX_STREAM_BYTES:,} the grader reads"
            data = _head_and_last_line(data, MAX_STREAM_BYTES)
        records, rejected, verified = protocol.decode_stream(data, key)
        trace = cls.from_records(records)
        trace.forged = rejected
        trace.over_cap = over or trace.over_cap
        written = (trace.sup or {}).get("stream_bytes")
        if trace.over_cap is None and isinstance(written, int) and verified != written:
            # what the supervisor signed did not all arrive: something else wrote into the same stream, past
            # what the channel keeps or through the middle of a record
            trace.over_cap = f"data through the middle of the grader's signed records ({written - verified:,} of " \
                             f"their {written:,} bytes lost or altered)"
        if trace.over_cap is None and (trace.sup or {}).get("trace_capped"):
            trace.over_cap = f"more than the {supervisor.TRACE_CAP_BYTES:,} bytes of trace the sandbox passes on"
        return trace

    @classmethod
    def from_records(cls, records: list[dict]) -> "Trace":
        events, out, sup, extra = [], [], None, 0
        for rec in records:
            if rec["ch"] == protocol.TRACE and isinstance(rec.get("ev"), dict):
                if len(events) < MAX_TRACE_EVENTS:
                    events.append(_with_bytes(rec["ev"], rec.get("payload", b"")))
                else:
                    extra += 1
            elif rec["ch"] == protocol.OUT and isinstance(rec.get("d"), str):
                out.append(rec["d"])
            elif rec["ch"] == protocol.SUP:
                sup = rec
        trace = cls.from_events(events, sup=sup, live_output="".join(out))
        if extra:
            trace.over_cap = f"{len(events) + extra:,} events, over the {MAX_TRACE_EVENTS:,} the grader reads"
        return trace

    @classmethod
    def from_events(cls, events: list[dict], sup: dict | None = None, live_output: str = "") -> "Trace":
        artifact = None
        kept = []
        for ev in events:
            if ev.get("e") == "artifact":
                artifact = ev.get("data") if isinstance(ev.get("data"), bytes) else None
                continue
            kept.append(ev)
        kept.sort(key=lambda e: e.get("i", 0))
        return cls(events=kept, sup=sup, live_output=live_output, artifact=artifact)

    # ---------------------------------------------------------------- simple views
    def of(self, kind: str) -> list[dict]:
        """The events of one kind, in order (shared: callers must not change the list). The index is built
        once, so a check that asks per epoch or per report pays for its kind's events, not the whole trace."""
        if self._index is None:
            self._index = defaultdict(list)
            for e in self.events:
                if isinstance(e.get("e"), str):
                    self._index[e["e"]].append(e)
        return self._index.get(kind, [])

    def first(self, kind: str) -> dict | None:
        events = self.of(kind)
        return events[0] if events else None

    def last(self, kind: str) -> dict | None:
        events = self.of(kind)
        return events[-1] if events else None

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
        if not backwards:
            return []
        counted = self._counted_epochs(backwards)
        by_loader = self._loader_epochs(backwards)
        chosen = counted
        if by_loader is not None and sum(e.complete for e in by_loader) >= sum(e.complete for e in counted):
            chosen = by_loader
        for n, ep in enumerate(chosen):
            ep.opens = ep.start if n == 0 else ep.backwards[0]["i"]
        for ep, nxt in zip(chosen, chosen[1:]):
            ep.end = nxt.opens
        self._attach_lines(chosen)
        return chosen

    def _loader_epochs(self, backwards: list[dict]) -> list[Epoch] | None:
        """One epoch per loader pass that fed backward() while it was live; None when most of the examples
        trained were not fed by a live pass (cached batches), so passes cannot tell the epochs."""
        starts = {(e.get("loader"), e.get("pass_no")): e for e in self.of("pass_start")}
        ends = {(e.get("loader"), e.get("pass_no")): e for e in self.of("pass_end")}
        live: dict[tuple, list[dict]] = {}
        for b in backwards:
            key = tuple(b.get("in_pass") or ())
            end = ends.get(key)
            if key in starts and (end is None or b["i"] < end["i"]):
                live.setdefault(key, []).append(b)
        fed = sum(_bs(b) for bs in live.values() for b in bs)
        if not live or fed < 0.9 * sum(_bs(b) for b in backwards):
            return None
        epochs, served = [], self.train_size
        for n, key in enumerate(sorted(live, key=lambda k: starts[k]["i"]), start=1):
            start, end, mine = starts[key], ends.get(key), live[key]
            batches = end.get("batches") if end else start.get("batches")
            examples = sum(_bs(b) for b in mine)
            complete = bool(batches) and len(mine) >= batches or \
                (end is not None and examples >= 0.9 * (end.get("examples") or float("inf")))
            epochs.append(Epoch(index=n, start=start["i"], complete=bool(complete), batches=batches,
                                size=start.get("dataset_size") or served))
        # a demonstration step before training (a course notebook's one batch on a throw-away model) is
        # setup, not an epoch: unfinished passes before the first complete one are dropped
        first = next((n for n, e in enumerate(epochs) if e.complete), 0)
        epochs = epochs[first:]
        for n, e in enumerate(epochs, start=1):
            e.index = n
        self._split_by_time(epochs, backwards)
        return epochs

    def _counted_epochs(self, backwards: list[dict]) -> list[Epoch]:
        size = self._pass_size(backwards)
        epochs: list[Epoch] = []
        seen = 0
        for b in backwards:
            if not epochs or (size and seen >= len(epochs) * size):
                epochs.append(Epoch(index=len(epochs) + 1, start=b["i"], complete=False, size=size))
            epochs[-1].backwards.append(b)
            seen += _bs(b)
            epochs[-1].examples += _bs(b)
        for ep in epochs:
            ep.complete = bool(size) and ep.examples >= size
            ep.batches = len(ep.backwards)
        return epochs

    def _pass_size(self, backwards: list[dict]) -> int | None:
        """The plausible size of one pass that divides the examples trained most evenly (within 1%)."""
        trained = sum(_bs(b) for b in backwards)
        train_passes = [e for e in self.of("pass_start") if e.get("train") is not False]
        train_loaders = {_hashable(s.get("loader")) for s in train_passes}
        sizes = [e.get("examples") for e in self.of("pass_end") if _hashable(e.get("loader")) in train_loaders]
        sizes += [e.get("dataset_size") for e in train_passes] + [self.train_size]
        sizes = [s for s in dict.fromkeys(sizes) if isinstance(s, int) and s > 0]
        batch = Counter(_bs(b) for b in backwards).most_common(1)[0][0] if backwards else 0
        candidates = list(dict.fromkeys(sizes + [s // batch * batch for s in sizes if batch and s >= batch]))
        for size in candidates:
            passes = trained / size
            if passes >= 0.99 and abs(passes - round(passes)) <= 0.01 * round(passes):
                return size
        return sizes[0] if sizes else None

    @staticmethod
    def _split_by_time(epochs: list[Epoch], backwards: list[dict]) -> None:
        """Each backward() belongs to the epoch running when it ran (backward before the first epoch: none)."""
        k = -1
        for b in backwards:
            while k + 1 < len(epochs) and b["i"] >= epochs[k + 1].start:
                k += 1
            if k >= 0:
                epochs[k].backwards.append(b)
                epochs[k].examples += _bs(b)

    def _attach_lines(self, epochs: list[Epoch]) -> None:
        """Each line goes to the epoch it was written in (lines before the first epoch are setup), with how
        many of that epoch's backward passes had happened by then (for running averages)."""
        if not epochs:
            return
        owner = {b["i"]: ep for ep in epochs for b in ep.backwards}
        k, done = 0, [0] * len(epochs)
        unfinished: dict = {}  # stream -> (text, epoch index or -1) of its line still being written
        for ev in self.events:
            i = ev.get("i", 0)
            while k + 1 < len(epochs) and i >= epochs[k + 1].opens:
                k += 1
            here = k if i >= epochs[0].opens else -1
            if here >= 0 and owner.get(i) is epochs[k]:
                done[k] += 1
            elif ev.get("e") == "line" and not _written_earlier(ev, unfinished, here) and here >= 0:
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


SUP_LINE_BYTES = 2**20  # the supervisor's final record: its output tail (64 KiB), JSON-escaped, and a few numbers


def _with_bytes(event: dict, payload: bytes) -> dict:
    """The event with its binary parts back in their fields; one whose parts do not add up keeps none."""
    if not payload and "bin" not in event:
        return event
    try:
        return protocol.unpack(event, payload)
    except ValueError:
        return {k: v for k, v in event.items() if k != "bin"}


def _head_and_last_line(data: bytes, cap: int) -> bytes:
    """The whole lines that fit in `cap` bytes, and the last line (the supervisor's final record) if it is
    no longer than a final record can be."""
    head = data[: data.rfind(b"\n", 0, cap) + 1]
    body = data.rstrip(b"\n")
    last = body[body.rfind(b"\n") + 1 :]
    return head + last if len(last) <= SUP_LINE_BYTES else head


def _hashable(value):
    """A loader id as a dict key: the harness writes ints; a forged one may be any JSON value."""
    return value if isinstance(value, (int, str, float, bool, type(None))) else repr(value)


def _bs(backward: dict) -> int:
    bs = backward.get("bs")
    return bs if isinstance(bs, int) and bs > 0 else 0


def as_terminal_shows(text: str) -> str:
    """Progress bars redraw a line with carriage returns; keep only what a terminal would end up showing."""
    lines = []
    for line in text.split("\n"):
        parts = [p for p in line.split("\r") if p]
        lines.append(parts[-1] if parts else "")
    return "\n".join(lines)


def _written_earlier(line: dict, unfinished: dict, epoch: int) -> bool:
    """Whether this line only ends one whose text was already recorded, unfinished, in an earlier epoch (a
    progress bar's last redraw of an epoch, ended by the next redraw): it was written there, not here. The
    harness records a line's state when written (end ""), and again when its end arrives."""
    stream, text, end = line.get("s"), line.get("text"), line.get("end")
    before = unfinished.pop(stream, None)
    if end == "":
        unfinished[stream] = (text, epoch)
    return before is not None and before[0] == text and before[1] < epoch
