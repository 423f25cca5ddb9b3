"""The submission's output, captured at the file-descriptor level.

fd 1 and 2 are replaced by pipes before the submission runs, so whatever writes there is seen: print, logging,
tqdm, `sys.__stdout__`, `os.write(1, ...)`, a C extension, a DataLoader worker. The bytes are forwarded
unchanged to the supervisor's pipes (the saved originals) and split into `line` events.

Ordering matters (a line belongs to the epoch running when it was written), so every other event is recorded
only after the pipes are drained: `drain()` runs before each event the recorder writes. A background thread
drains too, so a program that prints a lot between events never blocks on a full pipe.

What a line shows is recorded when it was *written*, not when its end arrives: each drain ends by recording
the unfinished line's state (end "") if it changed. A progress bar's redraw ("\\rEpoch 3 loss=0.21") has no end
until the next redraw, which may come an epoch later, or sooner when the bar's refresh interval happens to
pass: attributing it by its end would make the epoch depend on timing. Because a drain precedes every event,
every byte the program wrote before an event is read, split and recorded before that event's sequence number
is taken, however the reads happen to fall (one byte at a time or all at once gives the same events, up to
repeated unfinished states, which the host collapses: see trace.py).
"""

from __future__ import annotations

import fcntl
import os
import re
import threading

from grader.harness.recorder import LINE_CHARS

POLL_S = 0.02
LINE_END = re.compile(r"\r\n|\n|\r(?=.)", re.DOTALL)  # a trailing \r waits for the next read
CSI = re.compile(r"\x1b\[([\d;]*)([A-Za-z])|\x1b(\[[\d;]*)?$")  # colours, cursor moves (or one cut by a read)


class LineSplitter:
    """Bytes in, lines out as (text, end, row): the character that ended each ("\\n"; "\\r", a redraw; "", not
    ended yet) and the terminal row it was written on, so that what a terminal shows can be rebuilt: lines on
    the same row replace each other. "\\n" moves down a row, a cursor-up sequence (tqdm's nested bars,
    `position=1`) moves up; the text is kept without control sequences.

    A "\\r" at the very end of what was read is held back: it may be the first half of a "\\r\\n" split across
    two reads, which ends the line like "\\n" (not a redraw)."""

    def __init__(self):
        self.partial = ""
        self.row = 0
        self.shown = ""  # the unfinished state last reported by `unfinished`

    def feed(self, text: str) -> list[tuple[str, str, int]]:
        self.partial += text
        out, start = [], 0
        for m in LINE_END.finditer(self.partial):
            out += self._line(self.partial[start:m.start()], "\n" if m.group() != "\r" else "\r")
            start = m.end()
        self.partial = self.partial[start:]
        if start:
            self.shown = ""
        if len(self.partial) > 4 * LINE_CHARS:  # a line with no end: record its start, drop the rest
            out += self._line(self.partial, "\n")
            self.partial = self.shown = ""
        return out

    def _line(self, raw: str, end: str) -> list[tuple[str, str, int]]:
        row, up = self.row, sum(int(n.split(";")[0] or 1) for n, cmd, _ in CSI.findall(raw) if cmd == "A")
        self.row = max(0, row - up) + (end == "\n")
        text = CSI.sub("", raw)
        return [(text, end, row)] if text.strip() else []

    def unfinished(self) -> tuple[str, int] | None:
        """The line being written, when it shows something new since the last call (else None)."""
        state = CSI.sub("", self.partial.removesuffix("\r"))[:LINE_CHARS]  # the trace keeps no more of a line
        if not state.strip() or state == self.shown:
            return None
        self.shown = state
        return state, self.row

    def flush(self) -> list[tuple[str, str, int]]:
        """At the end: the held-back "\\r" ends its line; a line never ended stays as last recorded."""
        rest, self.partial = self.partial, ""
        if rest.endswith("\r"):
            return self._line(rest[:-1], "\r")
        if CSI.sub("", rest)[:LINE_CHARS] == self.shown:
            return []
        return self._line(rest, "")


class FdCapture:
    def __init__(self, on_line, pipe_bytes: int | None = None):
        self.on_line = on_line  # (stream "o"|"e", text, end, row)
        self.pipe_bytes = pipe_bytes  # a smaller pipe than the kernel's 64 KiB (for the test under load)
        self.lock = threading.RLock()
        self.streams: dict[str, tuple[int, int, LineSplitter]] = {}  # tag -> (pipe read end, saved fd, splitter)
        self.pid = os.getpid()
        self.stopped = threading.Event()
        self.decoders = {}
        self.on_idle = None  # called by the pump after each poll (the recorder's timer)

    def start(self) -> None:
        import codecs

        for fd, tag in ((1, "o"), (2, "e")):
            saved = os.dup(fd)
            os.set_inheritable(saved, False)
            r, w = os.pipe()
            if self.pipe_bytes:
                fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, self.pipe_bytes)
            fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_NONBLOCK)
            os.dup2(w, fd)
            os.close(w)
            self.streams[tag] = (r, saved, LineSplitter())
            self.decoders[tag] = codecs.getincrementaldecoder("utf-8")("replace")
        threading.Thread(target=self._pump, name="grader-output", daemon=True).start()

    def _pump(self) -> None:
        while not self.stopped.wait(POLL_S):
            self.drain()
            if self.on_idle is not None:
                self.on_idle()

    def drain(self) -> None:
        if os.getpid() != self.pid or not self.streams:
            return
        with self.lock:
            self._read_all()

    def stop(self) -> None:
        """Back to the original fds; whatever is still in the pipes is recorded first."""
        if os.getpid() != self.pid or not self.streams:
            return
        self.stopped.set()
        with self.lock:
            for tag, (r, saved, splitter) in self.streams.items():
                os.dup2(saved, 1 if tag == "o" else 2)
            self._read_all()  # other holders of the pipe (a background process) may still write: don't wait
            for tag, (r, saved, splitter) in self.streams.items():
                for line, end, row in splitter.flush():
                    self.on_line(tag, line, end, row)
                os.close(r)
                os.close(saved)
            self.streams = {}

    def _read_all(self) -> None:
        for tag, (r, saved, splitter) in self.streams.items():
            while True:
                try:
                    data = os.read(r, 1 << 16)
                except OSError:  # BlockingIOError: nothing more for now
                    break
                if not data:
                    break
                _write_all(saved, data)
                for line, end, row in splitter.feed(self.decoders[tag].decode(data)):
                    self.on_line(tag, line, end, row)
            if (state := splitter.unfinished()) is not None:
                self.on_line(tag, state[0], "", state[1])


def _write_all(fd: int, data: bytes) -> None:
    try:
        while data:
            data = data[os.write(fd, data) :]
    except OSError:
        pass
