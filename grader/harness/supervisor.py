"""In-sandbox supervisor: runs the harness as a child process and owns the stream that leaves the sandbox.

The submission runs inside the harness process. Its stdout and stderr are pipes that this process reads,
caps and wraps; the harness's trace comes through a third, inherited pipe. Only this process writes to
the sandbox's stdout (see protocol.py), and it makes itself non-dumpable so that the submission, although
it runs under the same uid, cannot open this process's file descriptors through /proc.

The trace pipe is inherited by the harness process, so the submission could find it; every trace line
must therefore carry a per-run key (handed over through a one-shot pipe the harness reads and closes before
any submission code runs) and the next sequence number. Other lines are dropped and counted.

Deadlines: when the job has used `cpu_timeout_s` of CPU time from the submission's first line, or at the
wall-clock backstop `timeout_s`, the harness gets SIGUSR1 (it stops the submission and still exports what it
trained); `grace_s` later the whole process group is killed (and what left it dies with the sandbox's pid
namespace when this process ends). CPU time is the primary limit: a correct program must not time out
because another job made the machine busy.
The job's CPU is what the sandbox's meter says (cpu.py: the job's cgroup, so every process the submission
starts counts, setsid or daemonised ones too), less what it said when the harness's run_start event arrived:
the harness's own start, torch's import included, is not charged (a warm worker's fork never pays it, and a
cold start must give a program the same budget; the start is bounded by the wall-clock backstop and
RLIMIT_CPU).

Usage: python -m grader.harness.supervisor ROOT [--door FD] [--cpu-usage HOW]   (the first line of stdin is the
  key that signs the output; with --door, the harness is a warm worker's fork instead of a new interpreter:
  see zygote.py; --cpu-usage: how the sandbox lets this process see the job's CPU time, see cpu.py)
  ROOT/in/spec.json holds the job; relative paths in it are relative to ROOT (every backend lays out
  ROOT/in (read-only inputs), ROOT/work (the submission's working dir) and ROOT/tmp the same way).
"""

from __future__ import annotations

import codecs
import ctypes
import fcntl
import json
import os
import resource
import secrets
import selectors
import signal
import socket
import subprocess
import sys
import time

from grader.harness import cpu, protocol

DRAIN_AFTER_EXIT_S = 0.5  # a background process may hold the pipes open; don't wait on it
TRACE_CAP_BYTES = 256 * 2**20
TRACE_READ_BYTES = 1 << 20  # a step's evidence is megabytes: read it in few pieces
SOFT_RESEND_S = 0.25  # see harness/__main__.py: MAX_DEFERRALS signals at this pace bound the harness's delay


def _make_non_dumpable() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        pass


def _widen(fd: int) -> None:
    """A pipe as large as the system allows (up to TRACE_READ_BYTES): the harness writes a payload of megabytes
    in fewer wake-ups of this process."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, TRACE_READ_BYTES)
    except OSError:
        pass  # the default 64 KiB still works


def child_env(spec: dict) -> dict:
    """A small, explicit environment: nothing of the host's leaks into the submission."""
    scratch = spec.get("scratch", "/tmp")
    env = {
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": spec["workdir"],
        "TMPDIR": scratch,
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",  # keeps print order and epoch attribution exact
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONHASHSEED": str(spec.get("seed", 0)),
        "MPLBACKEND": "Agg",  # plt.show() is a no-op without a display
        "MPLCONFIGDIR": scratch,
        "TORCH_HOME": scratch,
        "XDG_CACHE_HOME": scratch,
        "OMP_NUM_THREADS": str(spec.get("threads", 1)),
        # idle OpenMP threads sleep instead of spinning: spinning burns the CPU-time budget on a busy machine
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    if spec.get("device") != "cuda":
        env["CUDA_VISIBLE_DEVICES"] = ""
    elif os.environ.get("CUDA_VISIBLE_DEVICES"):
        env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
    return env


class Output:
    """The submission's stdout+stderr: forwarded live up to a cap, with a rolling tail kept to the end."""

    def __init__(self, emit, cap: int, tail_bytes: int):
        self.emit, self.cap, self.tail_bytes = emit, cap, tail_bytes
        self.sent = 0
        self.total = {"o": 0, "e": 0}
        self.tail: list[bytes] = []
        self.tail_size = 0
        self.decoders = {s: codecs.getincrementaldecoder("utf-8")("replace") for s in "oe"}

    def add(self, stream: str, data: bytes) -> None:
        self.total[stream] += len(data)
        if self.sent < self.cap:
            part = data[: self.cap - self.sent]
            self.sent += len(part)
            text = self.decoders[stream].decode(part)
            if text:
                self.emit({"ch": protocol.OUT, "s": stream, "d": text})
        self.tail.append(data[-self.tail_bytes :])
        self.tail_size += len(self.tail[-1])
        while self.tail_size - len(self.tail[0]) >= self.tail_bytes:
            self.tail_size -= len(self.tail.pop(0))

    def summary(self) -> dict:
        tail = b"".join(self.tail)[-self.tail_bytes :].decode("utf-8", "replace")
        return {"out_bytes": self.total, "out_capped": sum(self.total.values()) > self.cap, "tail": tail}


class TraceReader:
    """Splits the trace pipe into events, keeping only the harness's own (right key, next sequence number), each
    with the raw bytes that follow its line when it lists binary parts (protocol.pack)."""

    def __init__(self, key: str, emit):
        self.key, self.emit = key, emit
        # the unfinished line's pieces, or the unfinished payload's: joined once when it is whole (a payload of
        # megabytes arrives in pipe-sized pieces, and re-joining all of it for each would be quadratic)
        self.pieces: list[bytes] = []
        self.event: dict | None = None  # an accepted event whose payload is still arriving
        self.owed = 0  # how many bytes of it
        self.bytes, self.next, self.rejected = 0, 1, 0
        # the harness's CPU before the submission's first line (its run_start event); None before it comes
        self.setup_cpu_s: float | None = None

    def feed(self, data: bytes) -> None:
        self.bytes += len(data)
        if self.bytes > TRACE_CAP_BYTES:
            return
        pos, end = 0, len(data)
        while pos < end:  # positions, not slices: a 1 MiB read of short lines must not copy its rest per line
            if self.event is not None:
                take = min(self.owed, end - pos)
                self.pieces.append(data[pos : pos + take])
                pos, self.owed = pos + take, self.owed - take
                if not self.owed:
                    self._finish()
                continue
            nl = data.find(b"\n", pos)
            if nl < 0:
                self.pieces.append(data[pos:])
                return
            self.pieces.append(data[pos:nl])
            pos = nl + 1
            line, self.pieces = b"".join(self.pieces), []
            self._line(line)

    def _line(self, line: bytes) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if not isinstance(event, dict) or event.pop("k", None) != self.key or event.get("i") != self.next:
            self.rejected += 1
            return
        size = protocol.bin_size(event)
        if size is None or size > TRACE_CAP_BYTES:
            self.rejected += 1  # its payload's bytes, if any come, are rejected as lines
            return
        self.next += 1
        if event.get("e") == "run_start" and self.setup_cpu_s is None:
            # only the first: the harness sends it before any submission code runs, so it is not forged
            cpu = event.get("cpu_s")
            self.setup_cpu_s = float(cpu) if isinstance(cpu, (int, float)) and 0 <= cpu < 1e6 else 0.0
        self.event, self.owed = event, size
        if not size:
            self._finish()

    def _finish(self) -> None:
        payload, self.pieces = b"".join(self.pieces), []
        event, self.event = self.event, None
        self.emit({"ch": protocol.TRACE, "ev": event}, payload)


class WarmChild:
    """The harness as a warm worker's fork (zygote.py) inside this sandbox, driven like a Popen: its pid here,
    and its end (exit status, resource usage) as the worker's child reports it through the door."""

    HANDSHAKE_S = 120  # the first job of a worker waits for its torch import

    def __init__(self, door: int, job: dict, fds: list[int]):
        from grader.harness import zygote

        self._recv = zygote.recv
        self.sock = socket.socket(fileno=door)
        self.sock.settimeout(self.HANDSHAKE_S)
        zygote.send(self.sock, {"hello": os.getpid()}, credentials=True)  # the kernel vouches for the pid
        zygote.send(self.sock, job, fds)
        reply, _, _ = self._recv(self.sock)
        if not reply or "pid" not in reply:
            raise RuntimeError((reply or {}).get("error", "the warm worker started no harness"))
        self.pid, self.returncode, self.usage = int(reply["pid"]), None, {}
        self.sock.setblocking(False)

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                reply, _, _ = self._recv(self.sock)
            except (BlockingIOError, InterruptedError):
                return None
            except OSError:
                reply = None
            self.usage = reply or {}
            self.returncode = self.usage.get("exit", -signal.SIGKILL)  # no report: its worker was killed
        return self.returncode

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("harness", timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        os.kill(self.pid, sig)


def supervise(spec: dict, out, signing_key: bytes, door: int | None = None, cpu_usage: str | None = None) -> dict:
    written = 0  # the bytes of every record but the final one: the host checks that they all arrived

    def emit(record: dict, payload: bytes = b"") -> None:  # flushed once per wake-up below, not per record
        nonlocal written
        data = protocol.encode(record, signing_key, payload, text=bool(spec.get("text_stdout")))
        written += len(data)
        out.write(data)

    trace_r, trace_w = os.pipe()
    _widen(trace_w)
    key_r, key_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    key = secrets.token_hex(16)
    os.write(key_w, key.encode())
    os.close(key_w)
    started = time.monotonic()
    if door is None:
        child = subprocess.Popen(
            [sys.executable, "-m", "grader.harness", json.dumps(spec), str(trace_w), str(key_r)],
            stdin=subprocess.DEVNULL,
            stdout=out_w,
            stderr=err_w,
            pass_fds=[trace_w, key_r],
            cwd=spec["workdir"],
            env=child_env(spec),
            start_new_session=True,  # one process group: the hard kill reaches everything it forked
        )
    else:
        child = WarmChild(door, {"spec": spec, "env": child_env(spec), "cwd": spec["workdir"]},
                          [trace_w, key_r, out_w, err_w])
    for fd in (trace_w, key_r, out_w, err_w):
        os.close(fd)

    output = Output(emit, spec.get("output_cap", 1_000_000), spec.get("tail_bytes", 65536))
    sel = selectors.DefaultSelector()
    for fd, name in ((trace_r, "t"), (out_r, "o"), (err_r, "e")):
        sel.register(fd, selectors.EVENT_READ, name)
    trace = TraceReader(key, emit)
    soft_at = started + float(spec["timeout_s"])
    hard_at = soft_at + float(spec.get("grace_s", 20))
    cpu_limit = float(spec.get("cpu_timeout_s") or spec["timeout_s"])
    soft_sent = hard_killed = False
    soft_resend_at = 0.0
    soft_reason = None
    exited_at = None
    meter = cpu.Meter(cpu_usage, child.pid)
    cpu_used, cpu_checked = 0.0, 0.0
    cpu_at_start = None  # the meter when the submission's first line came: what is not charged

    def kill_group() -> None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    while sel.get_map():
        now = time.monotonic()
        if exited_at is None and child.poll() is not None:
            exited_at = now
        if exited_at is not None and now - exited_at > DRAIN_AFTER_EXIT_S:
            break
        if exited_at is None and now - cpu_checked >= 0.25:
            cpu_checked, cpu_used = now, meter.read()
        # the budget starts where the submission does; before that only the harness's own code runs
        charged = 0.0 if cpu_at_start is None else cpu_used - cpu_at_start
        if not soft_sent and (now >= soft_at or charged >= cpu_limit):
            soft_sent, soft_reason = True, "cpu" if charged >= cpu_limit else "wall"
            hard_at = min(hard_at, now + float(spec.get("grace_s", 20)))
        if soft_sent and exited_at is None and now >= soft_resend_at:
            # again every SOFT_RESEND_S until it exits: the harness defers the signal while in its own code,
            # and ignores it once the submission has stopped
            soft_resend_at = now + SOFT_RESEND_S
            try:
                child.send_signal(signal.SIGUSR1)
            except ProcessLookupError:
                pass
        if now >= hard_at:
            hard_killed = True
            kill_group()
            break
        next_at = soft_at if not soft_sent else min(hard_at, soft_resend_at) if exited_at is None else hard_at
        wait = min(0.2, max(0.0, next_at - now))
        for ready, _ in sel.select(wait):
            data = os.read(ready.fd, TRACE_READ_BYTES if ready.data == "t" else 1 << 16)
            if not data:
                sel.unregister(ready.fd)
                os.close(ready.fd)
                continue
            if ready.data == "t":
                trace.feed(data)
                if cpu_at_start is None and trace.setup_cpu_s is not None:
                    # read now, not at the next check: the submission is already running
                    cpu_at_start = cpu_used = meter.read()
            else:
                output.add(ready.data, data)
        out.flush()

    kill_group()  # whatever the submission left running in its group
    try:
        code = child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        code = None
    if door is None:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_s, maxrss_kb = usage.ru_utime + usage.ru_stime, usage.ru_maxrss
    else:
        cpu_s, maxrss_kb = child.usage.get("cpu_s", 0.0), child.usage.get("maxrss_kb", 0)
    final = {
        "ch": protocol.SUP,
        "exit": code,
        "soft_timeout": soft_sent,
        "timeout_reason": soft_reason,
        "cpu_s": round(max(meter.read(), cpu_s) - (cpu_at_start or 0.0), 3),  # the submission's, as charged
        "setup_cpu_s": trace.setup_cpu_s,
        "cpu_meter": meter.name,
        "cpu_limit_s": cpu_limit,
        "hard_timeout": hard_killed,
        "wall_s": round(time.monotonic() - started, 3),
        "maxrss_kb": maxrss_kb,
        "warm": door is not None,
        "trace_capped": trace.bytes > TRACE_CAP_BYTES,
        "trace_rejected": trace.rejected,
        "stream_bytes": written,
        **output.summary(),
    }
    emit(final)
    out.flush()
    return final


PATH_KEYS = ("submission", "train_images", "train_labels", "workdir", "scratch")


def load_spec(root: str) -> dict:
    with open(os.path.join(root, "in", "spec.json"), encoding="utf-8") as fh:
        spec = json.load(fh)
    for key in PATH_KEYS:
        spec[key] = os.path.join(root, spec[key])  # join keeps absolute paths (data baked into an image) as they are
    return spec


def read_signing_key() -> bytes:
    """The host's per-job key, read before anything else runs; stdin is then closed for good."""
    key = sys.stdin.buffer.readline().strip()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    if len(key) < 32:
        raise SystemExit("grader supervisor: no signing key on stdin")
    return key


def _option(name: str) -> str | None:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


def main() -> None:
    _make_non_dumpable()
    signing_key = read_signing_key()
    out = sys.stdout.buffer
    try:
        door = _option("--door")
        supervise(load_spec(sys.argv[1]), out, signing_key, int(door) if door else None, _option("--cpu-usage"))
    except Exception as exc:  # the host turns this into internal_error
        out.write(protocol.encode({"ch": protocol.SUP, "error": f"{type(exc).__name__}: {exc}"}, signing_key))
        out.flush()
        sys.exit(3)


if __name__ == "__main__":
    main()
