"""The host's side of the warm worker (harness/zygote.py): one per environment it starts harnesses with,
started on first use and kept until the sandbox backend closes. Used by the process sandbox as root."""

from __future__ import annotations

import socket
import subprocess
import sys


READY_S = 120  # its torch import, on a busy machine


class Zygote:
    def __init__(self, env: dict):
        # one OpenMP thread while it imports: libgomp may start threads at load, and a fork keeps only one
        # (the harness sets torch's threads itself, as a cold start does)
        self.env = {**env, "OMP_NUM_THREADS": "1"}
        self.proc: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.why_not: str | None = None  # set once it could not start: jobs run cold from then on

    def _start(self) -> None:
        from grader.harness import zygote

        ours, theirs = zygote.door_pair()
        with theirs:
            self.proc = subprocess.Popen([sys.executable, "-m", "grader.harness.zygote", str(theirs.fileno())],
                                         pass_fds=[theirs.fileno()], env=self.env, cwd="/", stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         start_new_session=True)  # a Ctrl-C meant for the grader is the grader's
        self.control = ours
        ours.settimeout(READY_S)
        try:
            reply, _, _ = zygote.recv(ours)
        except OSError as exc:
            reply = {"why": f"no answer ({exc})"}
        ours.settimeout(None)
        if not (reply or {}).get("ready"):
            self.why_not = (reply or {}).get("why", "it exited while importing torch")
            self.close()

    def ready(self) -> bool:
        """Running and ready to fork (started, or started again if it died); False if it cannot be."""
        if self.why_not is None and (self.proc is None or self.proc.poll() is not None):
            self.close()
            self._start()
        return self.why_not is None

    def fork(self, door: socket.socket, plan: dict) -> None:
        """Ask for a child that enters the sandbox whose supervisor holds the door's other end (the plan: the
        job's cgroups, rlimits, uid and id)."""
        from grader.harness import zygote

        zygote.send(self.control, plan, [door.fileno()])

    def close(self) -> None:
        if self.control is not None:
            self.control.close()  # the worker ends when its control socket does
            self.control = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
