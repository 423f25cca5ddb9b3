"""The submission's output, captured at the file-descriptor level.

fd 1 and 2 are replaced by pipes before the submission runs, so whatever writes there is seen: print, logging,
tqdm, `sys.__stdout__`, `os.write(1, ...)`, a C extension, a DataLoader worker. The bytes are forwarded
unchanged to the supervisor's pipes (the saved originals) and split into `line` events.

Ordering matters (a line belongs to the epoch running when it was written), so every other event is recorded
only after the pipes are drained: `drain()` runs before each event the recorder writes. A background thread
drains too, so a program that prints a lot between events never blocks on a full pipe.
"""

from __future__ import annotations

import fcntl
import os
import threading

from grader.harness.recorder import LINE_CHARS

POLL_S = 0.02


class LineSplitter:
    """Bytes in, finished lines out, with the character that ended each: "\\n", or "\\r" for a redraw."""

    def __init__(self):
        self.partial = ""

    def feed(self, text: str) -> list[tuple[str, str]]:
        self.partial += text.replace("\r\n", "\n")
        out, start = [], 0
        for pos, ch in enumerate(self.partial):
            if ch in "\r\n":
                out.append((self.partial[start:pos], ch))
                start = pos + 1
        self.partial = self.partial[start:]
        if len(self.partial) > 4 * LINE_CHARS:  # a line with no end: record its start, drop the rest
            out.append((self.partial, ""))
            self.partial = ""
        return [(line, end) for line, end in out if line.strip()]

    def flush(self) -> list[tuple[str, str]]:
        rest, self.partial = self.partial, ""
        return [(rest, "")] if rest.strip() else []


class FdCapture:
    def __init__(self, on_line):
        self.on_line = on_line  # (stream "o"|"e", text, end)
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
                for line, end in splitter.flush():
                    self.on_line(tag, line, end)
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
                for line, end in splitter.feed(self.decoders[tag].decode(data)):
                    self.on_line(tag, line, end)


def _write_all(fd: int, data: bytes) -> None:
    try:
        while data:
            data = data[os.write(fd, data) :]
    except OSError:
        pass
