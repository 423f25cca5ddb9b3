"""`--sandbox process`: bubblewrap, for machines without Docker (student laptops, CI runners).

Every namespace is unshared (so no network), the process dies with its parent and gets a new session;
only the Python environment, the grader package and the job's inputs are bound, read-only; the working
dir and /tmp are size-capped tmpfs. rlimits bound address space, CPU time, file size, open files and core
dumps; a wall-clock deadline kills the whole tree (the pid namespace dies with bubblewrap).

Started as root, bubblewrap never runs as root: stage.py prepares a private mount namespace, joins the
job's cgroups (memory, pids, cpu, cpuacct: the process-count rlimit would count every process of the shared
uid), then setpriv drops to uid 65534 with no capabilities and no-new-privs before bubblewrap starts.

CPU time: the supervisor charges the job's cgroup usage, bound read-only into the sandbox (harness/cpu.py),
so a process that leaves the harness's session is still charged; as root this side also kills the whole
cgroup when its usage passes RLIMIT_CPU's figure (a backstop the sandbox cannot stop, as it could stop the
supervisor, which runs under its uid). Without root there is no cgroup: the supervisor sums the sandbox's pid
namespace instead.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import grader
from grader.harness import cpu, zygote
from grader.sandbox import Job, Result, Running, Sandbox, Settings
from grader.sandbox.local import communicate, running
from grader.sandbox.warm import Zygote

SANDBOX_UID = 65534
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/passwd", "/etc/group",
             "/etc/nsswitch.conf", "/etc/localtime")
NVIDIA_DEVICES = ("/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset",
                  "/dev/nvidia0", "/dev/nvidia1", "/dev/nvidia2", "/dev/nvidia3")
ADDRESS_SPACE_HEADROOM_MB = 8192  # PyPI's torch maps ~3.2 GB at import; an rlimit below ~4 GiB breaks it
STAGE_SCRIPT = Path(__file__).with_name("stage.py")
CGROUP_ROOT = Path("/sys/fs/cgroup")
CPU_USAGE_INPUT = "cpu-usage"  # the job cgroup's CPU usage, as /sandbox/in/cpu-usage


def _setpriv(uid: int) -> list[str]:
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all", "--no-new-privs"]


class Cgroup:
    """One job's cgroup (v1: memory, pids, cpu hierarchies; v2: one unified directory)."""

    def __init__(self, job_id: str, memory_mb: int, pids: int, cpus: float):
        self.v2 = (CGROUP_ROOT / "cgroup.controllers").exists()
        period = 100_000
        if self.v2:
            parent = CGROUP_ROOT / "grader"
            parent.mkdir(exist_ok=True)
            (parent / "cgroup.subtree_control").write_text("+memory +pids +cpu")
            self.dirs = {"unified": parent / job_id}
            self.dirs["unified"].mkdir()
            d = self.dirs["unified"]
            settings = [(d / "memory.max", memory_mb << 20), (d / "memory.swap.max", 0), (d / "pids.max", pids),
                        (d / "cpu.max", f"{int(cpus * period)} {period}")]
        else:
            self.dirs = {c: CGROUP_ROOT / c / "grader" / job_id for c in _v1_controllers()}
            for d in self.dirs.values():
                d.mkdir(parents=True, exist_ok=True)  # cpu and cpuacct may be one hierarchy (a new job id)
            m, p, c = self.dirs["memory"], self.dirs["pids"], self.dirs["cpu"]
            settings = [(m / "memory.limit_in_bytes", memory_mb << 20), (m / "memory.memsw.limit_in_bytes", memory_mb << 20),
                        (p / "pids.max", pids), (c / "cpu.cfs_period_us", period), (c / "cpu.cfs_quota_us", int(cpus * period))]
        for path, value in settings:
            try:
                path.write_text(str(value))
            except OSError:
                if "memsw" not in path.name and "swap" not in path.name:  # swap accounting may be off
                    raise

    @property
    def usage_file(self) -> Path | None:
        """Where the kernel counts the CPU time of every task in the job (None: no cpuacct hierarchy)."""
        if self.v2:
            return self.dirs["unified"] / "cpu.stat"
        return self.dirs["cpuacct"] / "cpuacct.usage" if "cpuacct" in self.dirs else None

    def cpu_seconds(self) -> float:
        return cpu.cgroup_seconds(str(self.usage_file)) if self.usage_file else 0.0

    @property
    def procs(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs.values()]

    def oom_killed(self) -> bool:
        d = self.dirs.get("unified") or self.dirs["memory"]
        text = (d / ("memory.events" if self.v2 else "memory.oom_control")).read_text()
        return any(line.split()[0] == "oom_kill" and int(line.split()[1]) > 0 for line in text.splitlines())

    def pids(self) -> list[int]:
        d = self.dirs.get("unified") or self.dirs.get("pids") or next(iter(self.dirs.values()))
        return [int(p) for p in (d / "cgroup.procs").read_text().split()]

    def kill_all(self) -> None:
        for _ in range(100):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    @classmethod
    def leftovers(cls) -> list["Cgroup"]:
        """Job cgroups that a killed grader never removed: never those of a grader still running (a batch
        beside this one), whose pid starts the job's name."""
        found = []
        parents = [CGROUP_ROOT / "grader"] if (CGROUP_ROOT / "cgroup.controllers").exists() else \
            [CGROUP_ROOT / c / "grader" for c in _v1_controllers()]
        names = {d.name for p in parents if p.is_dir() for d in p.iterdir() if d.is_dir()}
        for name in sorted(n for n in names if not _owner_alive(n)):
            cg = cls.__new__(cls)
            cg.v2 = len(parents) == 1
            cg.dirs = {("unified" if cg.v2 else p.parent.name): p / name for p in parents if (p / name).is_dir()}
            found.append(cg)
        return found

    def remove(self) -> None:
        for d in self.dirs.values():
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # still draining
                    time.sleep(0.02)


def _v1_controllers() -> tuple[str, ...]:
    return ("memory", "pids", "cpu") + (("cpuacct",) if (CGROUP_ROOT / "cpuacct").is_dir() else ())


def python_paths() -> list[str]:
    """What the sandboxed interpreter needs: its installation, the venv, the grader package."""
    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix),
             os.path.realpath(Path(grader.__file__).parent)}
    return sorted(p for p in paths if not any(p != q and p.startswith(q + os.sep) for q in paths))


class ProcessSandbox(Sandbox):
    name = "process"
    _probe: dict = {}

    def __init__(self, settings: Settings | None = None):
        super().__init__(settings)
        self.root = os.geteuid() == 0
        self.cgroups = self.root and self._cgroups_work()
        self.zygotes: dict[tuple, Zygote] = {}  # warm workers, by the environment they start harnesses with
        self.lock = threading.Lock()

    def warm(self, job: Job) -> bool:
        """Whether the job's harness comes from a warm worker: only as root (the worker enters the sandbox's
        namespaces and drops to its uid) and with cgroups (the worker's child joins the job's)."""
        return job.warm_env is not None and self.root and self.cgroups

    def close(self) -> None:
        with self.lock:
            zygotes, self.zygotes = list(self.zygotes.values()), {}
        for zygote in zygotes:
            zygote.close()

    @classmethod
    def unavailable(cls, settings: Settings) -> str | None:
        if shutil.which("bwrap") is None:
            return "bubblewrap is not installed (Debian/Ubuntu: apt install bubblewrap; Fedora: dnf install bubblewrap)"
        root = os.geteuid() == 0
        if root and shutil.which("setpriv") is None:
            return "running as root needs setpriv (util-linux) to drop privileges before bubblewrap"
        if root not in cls._probe:
            argv = (_setpriv(SANDBOX_UID) if root else []) + ["bwrap", "--unshare-all", "--die-with-parent",
                                                              *_system_binds(), "true"]
            try:
                done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
                cls._probe[root] = None if done.returncode == 0 else done.stderr.strip()[:200]
            except (OSError, subprocess.TimeoutExpired) as exc:
                cls._probe[root] = str(exc)
        why = cls._probe[root]
        return None if why is None else f"bubblewrap cannot create its namespaces here ({why})"

    @staticmethod
    def _cgroups_work() -> bool:
        try:
            Cgroup(f"probe-{uuid.uuid4().hex[:8]}", 512, 64, 1.0).remove()
            return True
        except OSError:
            return False

    # ------------------------------------------------------------------ limits
    def _rlimits(self, job: Job) -> dict:
        lim = job.limits
        out = {"cpu": job.cpu_seconds, "fsize": lim.file_size_mb << 20, "nofile": lim.open_files, "core": 0}
        if job.device != "cuda":  # CUDA reserves huge virtual ranges; the cgroup bounds memory there
            out["as"] = (lim.memory_mb + ADDRESS_SPACE_HEADROOM_MB) << 20
        if not self.cgroups:  # without a pids cgroup, count the user's processes (shared by all their jobs)
            mine = sum(1 for p in Path("/proc").iterdir() if p.name.isdigit() and _owner(p) == os.getuid())
            out["nproc"] = mine + lim.pids
        return out

    def enforced(self, job: Job) -> dict:
        lim, rl = job.limits, self._rlimits(job)
        return {
            **super().enforced(job),
            "user": SANDBOX_UID if self.root else os.getuid(),
            "network": "none (own network namespace)",
            "filesystem": "read-only binds of the Python environment, the grader and the job's inputs; "
                          f"work dir and /tmp on {lim.tmpfs_mb} MB tmpfs",
            "memory_mb": lim.memory_mb if self.cgroups else None,
            "address_space_mb": rl["as"] >> 20 if "as" in rl else None,
            "pids": lim.pids,
            "pids_by": "cgroup" if self.cgroups else "rlimit (per user)",
            "cpus": job.cpus if self.cgroups else None,
            "cpu_seconds": rl["cpu"], "file_size_mb": lim.file_size_mb, "open_files": lim.open_files,
            "cpu_seconds_by": "rlimit per process; the whole cgroup, killed by the host" if self.cgroups
                              else "rlimit per process",
            "core_dumps": False,
        }

    # ------------------------------------------------------------------ run
    def bwrap_args(self, job: Job, stage_dir: str | None, sources: list[str]) -> list[str]:
        """The bubblewrap command. As root, every bound path is first staged (appended to `sources`)."""

        def bound(host: str) -> str:  # as root, bubblewrap binds from the staged copy of the mount
            if stage_dir is None:
                return host
            sources.append(host)
            return os.path.join(stage_dir, str(len(sources) - 1))

        size = str(job.limits.tmpfs_mb << 20)
        args = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
                "--new-session", "--hostname", "grader", "--clearenv",
                "--setenv", "PATH", f"{os.path.dirname(sys.executable)}:/usr/bin:/bin",
                "--setenv", "HOME", "/sandbox/work", "--setenv", "LANG", "C.UTF-8", *_system_binds(),
                # tmpfs first: binds below may land inside them (a project checked out under /tmp)
                "--proc", "/proc", "--dev", "/dev",
                "--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", "/sandbox/work",
                "--size", size, "--tmpfs", "/sandbox/tmp"]
        for path in python_paths():
            args += ["--ro-bind", bound(path), path]
        for name, host in job.inputs.items():
            args += ["--ro-bind", bound(os.path.realpath(host)), f"/sandbox/in/{name}"]
        if job.device == "cuda":
            for dev in NVIDIA_DEVICES:
                args += ["--dev-bind-try", dev, dev]
        return args + ["--remount-ro", "/", "--chdir", "/sandbox/work", *job.command(sys.executable, "/sandbox")]

    def _launch(self, job: Job):
        """Start the job's sandbox; returns the process and the clean-up that kills what is left of it."""
        job_id = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"  # the owner's pid: clean() spares a live grader's jobs
        stage_dir = tempfile.mkdtemp(prefix="grader-stage-", dir=_stage_parent()) if self.root else None
        cgroup = None
        warm = self._zygote(job.warm_env) if self.warm(job) else None
        doors = zygote.door_pair() if warm else None  # (the worker's end, the supervisor's end)

        def cleanup() -> None:
            if cgroup is not None:
                cgroup.kill_all()
                cgroup.remove()
            if stage_dir:
                os.rmdir(stage_dir)

        try:
            if stage_dir:
                os.chmod(stage_dir, 0o755)
            if doors:
                job = dataclasses.replace(job, args=(*job.args, "--door", str(doors[1].fileno())))
            if self.cgroups:
                cgroup = Cgroup(job_id, job.limits.memory_mb, job.limits.pids, job.cpus)
            if job.cpu_meter:
                job = _with_cpu_meter(job, cgroup.usage_file if cgroup else None)
            sources: list[str] = []
            args = self.bwrap_args(job, stage_dir, sources)
            plan = {"stage_dir": stage_dir, "sources": sources, "cgroups": cgroup.procs if cgroup else [],
                    "rlimits": self._rlimits(job), "argv": (_setpriv(SANDBOX_UID) if self.root else []) + args}
            proc = subprocess.Popen([sys.executable, "-I", str(STAGE_SCRIPT), json.dumps(plan)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.PIPE,
                                    start_new_session=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                                    pass_fds=[doors[1].fileno()] if doors else ())
            if warm:
                with self.lock:  # another job's thread may be starting the worker again
                    warm.fork(doors[0], {"cgroups": plan["cgroups"], "rlimits": plan["rlimits"],
                                         "uid": SANDBOX_UID, "job_id": job_id})
        except BaseException:
            cleanup()
            raise
        finally:
            for door in doors or ():
                door.close()
        return proc, cgroup, cleanup

    def _zygote(self, env: dict) -> Zygote | None:
        """The warm worker for this environment, started on first use; None where it cannot run (cold then)."""
        with self.lock:
            worker = self.zygotes.setdefault(tuple(sorted(env.items())), Zygote(env))
            return worker if worker.ready() else None

    def run(self, job: Job) -> Result:
        started = time.monotonic()
        proc, cgroup, cleanup = self._launch(job)
        done, over_cpu = threading.Event(), threading.Event()
        if cgroup is not None and cgroup.usage_file:
            threading.Thread(target=_watch_cpu, args=(cgroup, job.cpu_seconds, done, over_cpu), daemon=True).start()
        try:
            out, err, timed_out = communicate(proc, job.timeout_s, job.stdin)
            wall = time.monotonic() - started
            oom = cgroup.oom_killed() if cgroup else False
            return Result(out, err, proc.returncode, wall, timed_out=timed_out or over_cpu.is_set(), oom=oom)
        finally:
            done.set()
            cleanup()

    def start(self, job: Job) -> Running:
        proc, _, cleanup = self._launch(job)
        return running(proc, job.stdin, cleanup)


def _with_cpu_meter(job: Job, usage_file: Path | None) -> Job:
    """Tell the supervisor how to see the job's CPU time: the cgroup's count, bound read-only into the
    sandbox, or without one the sandbox's own pid namespace."""
    if usage_file is None:
        return dataclasses.replace(job, args=(*job.args, "--cpu-usage", "pidns"))
    return dataclasses.replace(job, inputs={**job.inputs, CPU_USAGE_INPUT: usage_file},
                               args=(*job.args, "--cpu-usage", f"/sandbox/in/{CPU_USAGE_INPUT}"))


def _watch_cpu(cgroup: Cgroup, limit_s: float, done: threading.Event, over: threading.Event) -> None:
    """The host's CPU backstop behind the supervisor's deadline: the kernel's count for the whole cgroup.
    Past RLIMIT_CPU's figure (the budget and grace on every core, plus a minute), kill everything in it."""
    while not done.wait(1.0):
        try:
            if cgroup.cpu_seconds() > limit_s:
                over.set()
                cgroup.kill_all()
                return
        except OSError:  # the job ended and its cgroup is gone: nothing left to kill
            return


def clean() -> int:
    """Kill and remove the cgroups of jobs a killed grader left behind. Returns how many."""
    if os.geteuid() != 0:
        return 0
    leftovers = Cgroup.leftovers()
    for cg in leftovers:
        cg.kill_all()
        cg.remove()
    return len(leftovers)


def _owner_alive(job_id: str) -> bool:
    owner = job_id.split("-", 1)[0] if "-" in job_id else ""
    return owner.isdigit() and Path(f"/proc/{owner}").exists()


def job_owners(proc_dir: Path) -> list[int]:
    """The pids of the graders whose job cgroups hold this process (none for a process outside them)."""
    try:
        groups = (proc_dir / "cgroup").read_text()
    except OSError:
        return []
    return [int(pid) for pid in re.findall(r"/grader/(\d+)-", groups)]


def _stage_parent() -> str:
    """Where a staging folder goes: the temp dir when the sandbox's uid can reach into it (every folder above
    it traversable by others), else /tmp (a TMPDIR under a private home would hide the staged paths)."""
    here = Path(tempfile.gettempdir()).resolve()
    if all(os.stat(p).st_mode & 0o001 for p in [here, *here.parents]):
        return str(here)
    return "/tmp"


def _system_binds() -> list[str]:
    args = []
    for d in SYSTEM_DIRS:
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    for f in ETC_FILES:
        args += ["--ro-bind-try", f, f]
    return args


def _owner(proc_dir: Path) -> int | None:
    try:
        return proc_dir.stat().st_uid
    except OSError:
        return None
