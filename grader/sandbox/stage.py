"""Prepares a bubblewrap launch, then execs it. Standard library only; run with `python3 -I stage.py PLAN_JSON`.

In order:
  1. as root only: in a private mount namespace, bind every path the sandbox will see onto a 0755 tmpfs,
     so the unprivileged uid that runs bubblewrap can reach them even when they live under a directory it
     cannot traverse (a Python installed under /root, a job folder made by mkdtemp). Nothing changes on
     the host: the namespace dies with the job.
  2. as root only: join the job's cgroups (memory, pids, cpu), which every descendant inherits.
  3. set the rlimits (address space, CPU time, file size, open files, processes, core dumps off).
  4. exec the command (as root: setpriv, which drops to the sandbox uid and execs bubblewrap).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {source} on {target}")


def stage(stage_dir: str, sources: list[str]) -> None:
    _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing below leaks back to the host
    _mount("grader-stage", stage_dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    for i, source in enumerate(sources):
        target = os.path.join(stage_dir, str(i))
        if os.path.isdir(source):
            os.mkdir(target)
        else:
            open(target, "w").close()
        _mount(source, target, None, MS_BIND | MS_REC)
        _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


RLIMITS = {"as": resource.RLIMIT_AS, "cpu": resource.RLIMIT_CPU, "fsize": resource.RLIMIT_FSIZE,
           "nofile": resource.RLIMIT_NOFILE, "nproc": resource.RLIMIT_NPROC, "core": resource.RLIMIT_CORE}


def main() -> None:
    plan = json.loads(sys.argv[1])
    if plan.get("stage_dir"):
        stage(plan["stage_dir"], plan["sources"])
    for procs in plan.get("cgroups", []):
        with open(procs, "w") as fh:
            fh.write(str(os.getpid()))
    for name, value in plan.get("rlimits", {}).items():
        resource.setrlimit(RLIMITS[name], (value, value))
    os.execvp(plan["argv"][0], plan["argv"])


if __name__ == "__main__":
    main()
