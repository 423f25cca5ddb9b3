"""The CPU time a job has used, as the supervisor charges it: every process the submission starts counts,
including ones that left the harness's process group or session (setsid, a double-forked daemon) and ones
that are gone (the kernel reaped them without a parent's wait, so no process's children-time holds them).

Meters, best first (the sandbox says which with the supervisor's --cpu-usage):
  PATH     a cgroup's usage file (cgroup v1 cpuacct.usage in ns, v2 cpu.stat's usage_usec), bound read-only
           into the sandbox by the process sandbox as root: the kernel counts every task of the job's cgroup
  cgroup   the cgroup this process is in, as a container sees its own (Docker); falls back to pidns
  pidns    every process of the sandbox's own pid namespace (bubblewrap without root): live ones, and the
           dead ones their parents (or the namespace's init) reaped; misses only children reaped by the
           kernel itself (SIGCHLD ignored), which the per-process RLIMIT_CPU and the wall clock still bound
  (none)   the harness's process group, for `--sandbox none`, which isolates nothing (its /proc is the host's)
Each returns seconds since some fixed point; the supervisor charges the difference from the submission's
first line. The supervisor's own CPU (relaying the output, reading the trace) is the grader's, not charged.
"""

from __future__ import annotations

import os

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CONTAINER_USAGE = ("/sys/fs/cgroup/cpuacct/cpuacct.usage", "/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage",
                   "/sys/fs/cgroup/cpu.stat")


def cgroup_seconds(path: str) -> float:
    with open(path, "rb") as fh:
        text = fh.read()
    if path.endswith("cpu.stat"):  # v2: "usage_usec N" among other lines
        fields = dict(line.split() for line in text.splitlines() if line.strip())
        return int(fields[b"usage_usec"]) / 1e6
    return int(text) / 1e9  # v1 cpuacct.usage: nanoseconds


def _stat_fields(pid: str) -> list[bytes] | None:
    """/proc/PID/stat after the command name: state (0), ppid (1), pgrp (2), ... utime (11), stime (12),
    cutime (13), cstime (14)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None


def _pids() -> list[str]:
    return [entry for entry in os.listdir("/proc") if entry.isdigit()]


def group_seconds(pgid: int) -> float:
    """CPU time (user + system, all threads) of every live process in a process group."""
    total = 0
    for pid in _pids():
        fields = _stat_fields(pid)
        if fields and int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def namespace_seconds() -> float:
    """CPU time of every process this /proc shows (a pid namespace's), with the children each has reaped."""
    total = 0
    for pid in _pids():
        fields = _stat_fields(pid)
        if fields:
            total += sum(int(f) for f in fields[11:15])
    return total / CLOCK_TICKS


class Meter:
    """`read()`: the job's CPU seconds so far, never less than an earlier reading (a process that dies
    between two readings may take its time out of the pid namespace's sum)."""

    def __init__(self, how: str | None, pgid: int):
        self.last = 0.0
        self.counts_me = how is not None  # the cgroup and the pid namespace hold this process too
        if how == "cgroup":
            how = next((p for p in CONTAINER_USAGE if _readable(p)), "pidns")
        if how == "pidns":
            self.name, self._read = "pid namespace", namespace_seconds
        elif how:
            self.name, self._read = "cgroup", lambda: cgroup_seconds(how)
        else:
            self.name, self._read = "process group", lambda: group_seconds(pgid)

    def read(self) -> float:
        mine = sum(os.times()[:2]) if self.counts_me else 0.0
        try:
            self.last = max(self.last, self._read() - mine)
        except (OSError, ValueError, KeyError):  # a cgroup being removed at the very end: keep the last
            pass
        return self.last


def _readable(path: str) -> bool:
    try:
        cgroup_seconds(path)
        return True
    except (OSError, ValueError, KeyError):
        return False
