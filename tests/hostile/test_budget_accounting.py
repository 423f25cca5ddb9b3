"""Issue 15, class 4: CPU the submission burns outside the harness's process group is still its CPU.

Each attack burns CPU, a second at a time (printing "burned N" after each), in processes that left the
harness's process group, while the process the old accounting watched waits without using any; then it
trains correctly. On the commit before the fix each was charged about 0.5 s of CPU whatever it burned (20 s
of it with a 15 s budget: full marks). Now the job's cgroup (the process sandbox as root, Docker) or its pid
namespace (the process sandbox without root) is what is charged."""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from test_sandbox import hostile
from grader.harness.cpu import cgroup_seconds
from grader.report import Status
from grader.sandbox.process import Cgroup, _watch_cpu

BURN_S = 25  # more than the short budget
REFERENCE = (Path(__file__).resolve().parents[2] / "reference" / "solution.py").read_text()


@pytest.mark.parametrize("attack", ["budget_setsid_burn", "budget_daemon_burn"])
def test_cpu_burned_outside_the_process_group_is_charged(short, tmp_path, attack):
    rep = short.grade(hostile(tmp_path, attack, burn=BURN_S, reference=REFERENCE))
    out, runs = rep.output.stdout_tail, rep.check("runs")
    burned = max((int(n) for n in re.findall(r"^burned (\d+)$", out, re.MULTILINE)), default=0)
    assert rep.status == Status.timeout and "BURNED" not in out, out[-500:]  # stopped before its training
    assert burned >= 1 and runs.evidence["cpu_s"] >= burned, (burned, runs.evidence)
    assert rep.sandbox.limits["cpu_charged_by"] in ("cgroup", "pid namespace")  # never the process group
    if "CPU time" in runs.message:  # a busy machine may reach the wall-clock backstop first
        assert runs.evidence["cpu_s"] >= runs.evidence["cpu_limit_s"]


@pytest.mark.skipif(os.geteuid() != 0, reason="job cgroups need root (without root the sandbox has none)")
def test_the_host_kills_everything_in_a_job_cgroup_past_its_cpu_backstop():
    # behind the supervisor, which runs under the sandbox's uid (the submission may stop it): the kernel's
    # count for the whole cgroup, read from outside the sandbox
    cgroup = Cgroup(f"{os.getpid()}-backstop-{uuid.uuid4().hex[:8]}", 512, 64, 1.0)
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
    try:
        for procs in cgroup.procs:
            Path(procs).write_text(str(burner.pid))
        done, over = threading.Event(), threading.Event()
        threading.Thread(target=_watch_cpu, args=(cgroup, 1.0, done, over), daemon=True).start()
        assert burner.wait(timeout=60) == -signal.SIGKILL and over.is_set()
        assert cgroup.cpu_seconds() >= 1.0
    finally:
        burner.kill()
        burner.wait()
        cgroup.remove()


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")
def test_without_root_the_pid_namespace_counts_setsid_and_orphaned_children(tmp_path):
    # the process sandbox without root has no cgroup: the supervisor sums its pid namespace instead
    harness = Path(__file__).resolve().parents[2] / "grader" / "harness"
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    done = subprocess.run([*drop, "bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--proc", "/proc",
                           "--tmpfs", "/mnt", "--ro-bind", str(harness), "/mnt/harness",
                           "--ro-bind", str(Path(__file__).with_name("budget_pidns_meter.py")), "/mnt/meter.py",
                           "/usr/bin/python3", "/mnt/meter.py", "/mnt/harness"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) >= 1.9  # both seconds, neither process in the caller's process group


def test_a_cgroup_v2_usage_is_read_from_cpu_stat(tmp_path):
    stat = tmp_path / "cpu.stat"
    stat.write_text("usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n")
    assert cgroup_seconds(str(stat)) == 1.5
