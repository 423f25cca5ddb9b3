# What a submission can learn about where it runs and what it may do: printed as one JSON line, so a test can
# hold a harness forked by a warm worker to exactly what a cold-started harness sees.
import ctypes, json, os, socket, sys

libc = ctypes.CDLL(None, use_errno=True)
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)


def attempt(fn):
    try:
        fn()
        return "allowed"
    except OSError as exc:
        return type(exc).__name__


def unshare(flag):
    if libc.unshare(flag) != 0:
        raise OSError(ctypes.get_errno(), "unshare")


def connect():
    socket.create_connection(("10.0.0.1", 80), timeout=2)


fds = sorted(int(f) for f in os.listdir("/proc/self/fd"))
seen = {
    "ids": [status[k].split() for k in ("Uid", "Gid")], "groups": status["Groups"].split(),
    "caps": {k: status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapAmb")},
    "no_new_privs": status["NoNewPrivs"].strip(), "seccomp": status["Seccomp"].strip(),
    "dumpable": libc.prctl(3, 0, 0, 0, 0),  # PR_GET_DUMPABLE
    "cwd": os.getcwd(), "path0": sys.path[0], "argv": sys.argv[1:], "root": sorted(os.listdir("/")),
    "env": dict(sorted(os.environ.items())), "fds": len(fds), "session_leader": os.getsid(0) == os.getpid(),
    "processes": sum(p.isdigit() for p in os.listdir("/proc")), "hostname": socket.gethostname(),
    "interfaces": sorted(line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:]),
    "user_namespace": attempt(lambda: unshare(0x10000000)), "mount_namespace": attempt(lambda: unshare(0x20000)),
    "network": attempt(connect), "setuid_root": attempt(lambda: os.setuid(0)),
    "rlimits": {name: __import__("resource").getrlimit(getattr(__import__("resource"), name))
                for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE")},
    "cgroup": open("/proc/self/cgroup").read().strip(),
    "umask": os.umask(0o022), "hash_seed": hash("grader"), "unbuffered": sys.stdout.write_through,
}
print("IDENTITY " + json.dumps(seen, sort_keys=True))
