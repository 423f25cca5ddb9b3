"""The warm worker: a process that has imported torch, torchvision and the harness (and never ran a torch op)
forks one child per submission, and the child enters that submission's sandbox before any of its code runs.

Why: `import torch, torchvision` costs ~2 s of CPU, two fifths of what a submission costs on 2 cores.

Where it runs: on the host, as root, for the process sandbox (sandbox/process.py); the host starts it with the
environment the harness starts with (the flags Python reads once at start-up, such as the hash seed).
How a child enters: the host starts the job's sandbox exactly as for a cold run (bubblewrap's namespaces,
tmpfs and read-only binds; the job's cgroup; its rlimits; uid 65534), with the supervisor holding one end
of a socket pair (the door) and this process the other. The child
  1. joins the job's cgroups and takes its rlimits, as root in the host's namespaces;
  2. takes the supervisor's pid from the credentials the kernel attaches to its first message (not from
     anything the sandbox says), checks that it is in the job's cgroup, and enters its namespaces: ipc,
     uts, net, pid, cgroup and mount, then the user namespace (the others belong to its parent);
  3. drops everything: supplementary groups, the capability bounding set, uid and gid (to the sandbox's),
     every capability, then sets no_new_privs and non-dumpable (the harness, first thing, reads all of it
     back from /proc/self/status, or exits);
  4. receives the harness's pipes and the job from the supervisor, forks the harness (the fork lands in
     the sandbox's pid namespace), waits for it and sends its exit status and resource usage back.
What the harness inherits from this process: torch, torchvision and the harness's modules in memory, no
data, no key and no other student's anything (this process never sees a submission), and no file
descriptor but its own pipes. The door is closed before the submission runs.

Usage (by sandbox/warm.py only): python -m grader.harness.zygote CONTROL_FD
"""

from __future__ import annotations

import array
import ctypes
import json
import os
import resource
import signal
import socket
import struct
import sys

NAMESPACES = ("ipc", "uts", "net", "pid", "cgroup", "mnt", "user")
# sandbox/stage.py's, written again: importing it would load grader.sandbox (and pydantic) into every harness
RLIMITS = {"as": resource.RLIMIT_AS, "cpu": resource.RLIMIT_CPU, "fsize": resource.RLIMIT_FSIZE,
           "nofile": resource.RLIMIT_NOFILE, "nproc": resource.RLIMIT_NPROC, "core": resource.RLIMIT_CORE}
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 4, 24, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522
MAX_FDS = 8
MAX_MESSAGE = 1 << 20

_libc = ctypes.CDLL(None, use_errno=True)


# ---------------------------------------------------------------------- messages (one JSON object per packet)
def send(sock: socket.socket, obj: dict, fds: list[int] = (), credentials: bool = False) -> None:
    """`credentials`: attach this process's pid, uid and gid, which the kernel checks and the receiver gets
    translated into its own namespaces."""
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    if credentials:
        ancillary.append((socket.SOL_SOCKET, socket.SCM_CREDENTIALS,
                          struct.pack("3i", os.getpid(), os.getuid(), os.getgid())))
    sock.sendmsg([json.dumps(obj).encode()], ancillary)


def recv(sock: socket.socket) -> tuple[dict | None, list[int], int | None]:
    """(message or None at the end, the fds it carried, the sender's pid when SO_PASSCRED is on)."""
    data, ancillary, _, _ = sock.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(MAX_FDS * 4) + socket.CMSG_SPACE(12))
    fds, pid = [], None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds += array.array("i", payload[: len(payload) - len(payload) % 4])
        elif level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("3i", payload[:12])[0]
    return (json.loads(data) if data else None), fds, pid


def door_pair() -> tuple[socket.socket, socket.socket]:
    """A socket pair that keeps message boundaries; the first end receives its peer's credentials."""
    pair = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pair[0].setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    return pair


# ---------------------------------------------------------------------- the child: into the sandbox
def _check(ret: int, what: str) -> None:
    if ret != 0:
        raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_privileges(uid: int) -> None:
    for cap in range(64):  # past the kernel's last capability prctl says EINVAL: nothing to drop there
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    # host root is not root in the sandbox's user namespace, so changing uid kept the capabilities: clear them
    _check(_libc.capset(ctypes.byref(_CapHeader(LINUX_CAPABILITY_VERSION_3, 0)), (_CapData * 2)()), "capset")
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    _check(_libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "not dumpable")


def _verify_dropped(uid: int) -> None:
    """Read back, in the sandbox's /proc (the harness's own entry: the child has none there)."""
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
    held = {k: status[k].split() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "Uid", "Gid",
                                           "NoNewPrivs")}
    if any(int(held[k][0], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")) or \
            set(held["Uid"] + held["Gid"]) != {str(uid)} or held["NoNewPrivs"] != ["1"] or \
            status.get("Groups", "").split():
        raise PermissionError(f"privileges still held after dropping them: {held}")


def enter(plan: dict, door: socket.socket) -> None:
    """Steps 1-3 of the module docstring."""
    for procs in plan["cgroups"]:
        with open(procs, "w") as fh:
            fh.write(str(os.getpid()))
    for name, value in plan["rlimits"].items():
        resource.setrlimit(RLIMITS[name], (value, value))
    hello, _, supervisor = recv(door)
    if not hello or not supervisor:
        raise ConnectionError("the supervisor never said hello")
    with open(f"/proc/{supervisor}/cgroup") as fh:
        if f"/{plan['job_id']}" not in fh.read():
            raise PermissionError(f"process {supervisor} is not in job {plan['job_id']}'s cgroup")
    spaces = {ns: os.open(f"/proc/{supervisor}/ns/{ns}", os.O_RDONLY) for ns in NAMESPACES}
    os.setgroups([])  # inside the user namespace setgroups is denied
    for ns in NAMESPACES:
        _check(_libc.setns(spaces[ns], 0), f"setns({ns})")
        os.close(spaces[ns])
    _drop_privileges(plan["uid"])


def _become_harness(job: dict, fds: list[int], door: socket.socket) -> None:
    """In the forked harness: its pid to the supervisor, the door shut, the pipes on 0-2, then the harness."""
    _verify_dropped(job["uid"])
    # dumpable again, as a harness started cold is: its parent (the child) stays out of its reach
    _check(_libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "dumpable")
    send(door, {"pid": os.getpid()})  # its pid in the sandbox, where the supervisor signals it
    door.close()
    os.setsid()  # one process group: the supervisor's hard kill reaches everything it forks
    trace_w, key_r, out_w, err_w = fds
    devnull = os.open(os.devnull, os.O_RDONLY)
    for fd, target in ((devnull, 0), (out_w, 1), (err_w, 2)):
        os.dup2(fd, target)
        os.close(fd)
    keep = sorted({0, 1, 2, trace_w, key_r})
    for low, high in zip(keep, keep[1:] + [os.sysconf("SC_OPEN_MAX")]):
        os.closerange(low + 1, high)
    os.environ.clear()
    os.environ.update(job["env"])
    os.chdir(job["cwd"])
    sys.path[0] = job["cwd"]  # what `python -m` puts first, as in a cold start from this directory
    from grader.harness import __main__ as harness

    harness.run(job["spec"], trace_w, key_r)


def child(plan: dict, door: socket.socket) -> None:
    """The forked child, from the zygote's fork to its exit (never returns)."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the zygote ignores it; here the harness's end is awaited
    code = 1
    try:
        enter(plan, door)
        job, fds, _ = recv(door)
        if not job or len(fds) != 4:
            raise ConnectionError("the supervisor sent no job")
        job["uid"] = plan["uid"]
        pid = os.fork()
        if pid == 0:
            try:
                _become_harness(job, fds, door)
            finally:
                os._exit(0)  # harness.run ends with os._exit; nothing of the zygote's may run in its place
        for fd in fds:
            os.close(fd)
        _, status, usage = os.wait4(pid, 0)
        send(door, {"exit": os.waitstatus_to_exitcode(status), "cpu_s": usage.ru_utime + usage.ru_stime,
                    "maxrss_kb": usage.ru_maxrss})
        code = 0
    except BaseException as exc:  # noqa: BLE001 - whatever failed, the supervisor hears why
        try:
            send(door, {"error": f"warm worker: {type(exc).__name__}: {exc}"})
        except OSError:
            pass
    os._exit(code)


# ---------------------------------------------------------------------- the zygote
def warm_up() -> None:
    """Everything a harness imports before the submission runs, the way it imports it (harness/__main__.py)."""
    import torch

    from grader.harness import dynamo_deferred

    dynamo_deferred.install(torch)
    dynamo_deferred.import_torchvision()
    from grader.harness import __main__, instrument, mnist, network, recorder  # noqa: F401


def serve(control: socket.socket) -> None:
    """Fork a child per request until the host closes the control socket."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel: no zombies
    while True:
        try:
            plan, fds, _ = recv(control)
        except OSError:
            return
        if plan is None:
            return
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            continue
        if os.fork() == 0:
            control.close()
            child(plan, socket.socket(fileno=fds[0]))
        os.close(fds[0])


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    warm_up()
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1:  # a fork keeps only the calling thread: a lock another one held would stay held
        send(control, {"ready": False, "why": f"{threads} threads after importing torch"})
        return
    send(control, {"ready": True})
    serve(control)


if __name__ == "__main__":
    main()
