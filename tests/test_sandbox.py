"""Isolation, for real: the reference and every hostile submission through each isolated backend.

Each test asserts the report's status and score and that nothing escaped: host files untouched, no
connection reached the host, no process, container or cgroup left behind. With CI=true an unavailable
backend fails the run instead of skipping it.
"""

import json
import os
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from grader import data
from grader.grade import Grader, Options
from grader.report import Status
from grader.rubric import Rubric
from grader.sandbox import Settings
from grader.sandbox import docker as docker_sandbox
from grader.sandbox.docker import DockerSandbox
from grader.sandbox.process import Cgroup, ProcessSandbox, job_owners

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = Path(__file__).resolve().parent / "hostile"
BACKENDS = {"process": ProcessSandbox, "docker": DockerSandbox}
TOKEN = f"grader-test-{uuid.uuid4().hex[:8]}"


def require(name: str) -> None:
    why = BACKENDS[name].unavailable(Settings())
    if why is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"the {name} sandbox must run in CI: {why}")
    pytest.skip(f"{name} sandbox unavailable here: {why}")


@pytest.fixture(scope="module", params=[*BACKENDS, "process-warm"])
def grader(request, real_data):
    """Each backend; and the process sandbox with its harnesses forked by a warm worker (harness/zygote.py),
    which must hold every property a cold start holds."""
    backend, _, warm = request.param.partition("-")
    require(backend)
    grader = Grader(Options(sandbox=backend, data_dir=real_data, device="cpu", rubric=Rubric(), warm_worker=bool(warm)))
    yield grader
    grader.close()
    assert not [p for p in Path("/proc").iterdir() if p.name.isdigit() and _is_warm_worker(p)], "a worker outlived it"


@pytest.fixture
def short(grader):
    """The same grader with a 15 s deadline, for submissions that never end."""
    grader.limits = grader.limits.model_copy(update={"timeout_s": 15, "grace_s": 10})
    yield grader
    grader.limits = Rubric().limits


def leftover_processes() -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if _is_warm_worker(proc) or _another_graders_worker(proc):
                continue
            if TOKEN in cmd or ("grader.harness" in cmd or "grader.evaluate" in cmd) and not _other_graders(proc):
                found.append(f"{proc.name}: {cmd[:100]}")
    return found


def _is_warm_worker(proc: Path) -> bool:
    """This test process's own warm worker, alive by design while its Grader is open (its forks are not)."""
    try:
        cmd = (proc / "cmdline").read_bytes()
        ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return False
    return b"grader.harness.zygote" in cmd and ppid == os.getpid()


def _another_graders_worker(proc: Path) -> bool:
    """A warm worker whose grader (its parent) is another process still running: two test runs, or a test run
    beside a batch, on one machine. A worker its grader left behind is re-parented, and still counted."""
    try:
        cmd = (proc / "cmdline").read_bytes()
        ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return False
    return b"grader.harness.zygote" in cmd and ppid not in (1, os.getpid())


def _other_graders(proc: Path) -> bool:
    """A sandbox of another grader that is still running on this machine (its pid starts the job's cgroup)."""
    owners = job_owners(proc)
    return bool(owners) and all(o != os.getpid() and Path(f"/proc/{o}").exists() for o in owners)


@pytest.fixture(scope="module", autouse=True)
def clean_start():
    """Earlier tests kill graders on purpose (a batch under SIGKILL): what those leave is `grader sandbox
    clean`'s to remove, so each test below answers only for itself."""
    from grader.sandbox import process

    process.clean()


@pytest.fixture(autouse=True)
def nothing_left_behind():
    yield
    time.sleep(0.5)
    assert leftover_processes() == []
    if os.geteuid() == 0:
        assert Cgroup.leftovers() == []
    if DockerSandbox.unavailable(Settings()) is None:
        assert docker_sandbox.client().containers.list(all=True, filters={"label": docker_sandbox.LABEL}) == []


def hostile(tmp_path: Path, name: str, **values) -> Path:
    text = (HOSTILE / f"{name}.py").read_text().replace("__TOKEN__", TOKEN)
    for key, value in values.items():
        text = text.replace(f"__{key.upper()}__", str(value))
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    return path


def test_reference_full_marks(grader):
    rep = grader.grade(ROOT / "reference" / "solution.py")
    assert rep.status == Status.graded and rep.score == 100, rep.message
    assert rep.sandbox.backend == grader.backend.name and rep.sandbox.isolated
    assert rep.sandbox.limits["memory_mb"] == 3072 and rep.sandbox.limits["pids"] == 256
    assert "none" in rep.sandbox.limits["network"]


def test_infinite_loop_times_out_keeping_the_trace(short, tmp_path):
    started = time.monotonic()
    rep = short.grade(hostile(tmp_path, "infinite_loop"))
    assert rep.status == Status.timeout
    assert time.monotonic() - started < 15 + 10 + 20
    # what it showed is kept: the epoch it printed earns its share of the print points
    assert rep.training.epochs == 1 and rep.check("prints_loss_each_epoch").points > 0
    assert not rep.check("runs").passed and not rep.check("epochs").passed


def test_memory_bomb_hits_the_memory_limit(grader, tmp_path):
    rep = grader.grade(hostile(tmp_path, "memory_bomb"))
    assert rep.status == Status.memory_limit and rep.score == 0
    assert "allocated" not in rep.output.stdout_tail


def test_fork_bomb_is_contained_and_the_machine_stays_responsive(short, tmp_path):
    latencies, done = [], threading.Event()

    def probe():
        while not done.is_set():
            t = time.monotonic()
            subprocess.run(["true"], check=True)
            latencies.append(time.monotonic() - t)
            time.sleep(0.2)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        rep = short.grade(hostile(tmp_path, "fork_bomb"))
    finally:
        done.set()
        prober.join()
    assert rep.status in (Status.runtime_error, Status.timeout) and rep.score == 0
    assert latencies and max(latencies) < 2.0, max(latencies)


def test_network_is_unreachable(grader, tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    try:
        rep = grader.grade(hostile(tmp_path, "network", port=server.getsockname()[1]))
        with pytest.raises(socket.timeout):
            server.accept()  # nothing ever connected
    finally:
        server.close()
    out = rep.output.stdout_tail
    assert "CONNECTED" not in out
    for name in ("outside", "outside-dns", "host-loopback"):
        assert f"blocked {name}:" in out
    assert rep.status == Status.graded and rep.score == 10  # it ran; it trained nothing


def test_writes_outside_the_work_dir_never_reach_the_host(grader, tmp_path):
    host_file = tmp_path / "host-owned" / "escape.txt"
    host_file.parent.mkdir()
    home_file = Path.home() / f"{TOKEN}-home"
    rep = grader.grade(hostile(tmp_path, "write_escape", host_file=host_file))
    out = rep.output.stdout_tail
    assert not host_file.exists() and not home_file.exists() and not Path(f"/root/{TOKEN}-root").exists()
    assert not list(Path(os.__file__).parent.glob(f"{TOKEN}*"))
    for refused in (f"/root/{TOKEN}-root", f"/sandbox/in/{TOKEN}", "-stdlib"):
        assert any(line.startswith("refused") and refused in line for line in out.splitlines()), (refused, out)
    # beside its own script it may write, as on a student's machine: a throw-away copy, never the host's file
    assert any(line.startswith("WROTE") and line.split()[1].endswith(".evil") for line in out.splitlines()), out
    assert not list(tmp_path.rglob("*.evil"))


def test_held_out_test_set_is_not_there(grader, real_data, tmp_path):
    test_file = data.locate(real_data)["test_images"]
    rep = grader.grade(hostile(tmp_path, "read_test_set", test_file=test_file, host_dir=real_data))
    assert "search done" in rep.output.stdout_tail and "FOUND" not in rep.output.stdout_tail


def test_a_gigabyte_of_output_is_capped_and_still_graded(grader, tmp_path):
    rep = grader.grade(hostile(tmp_path, "print_flood"))
    assert rep.status == Status.graded and rep.score == 100, rep.message
    assert rep.output.total_bytes > 10**9 and rep.output.truncated
    assert len(rep.model_dump_json()) < 200_000


def test_a_forged_report_changes_nothing(grader, tmp_path):
    rep = grader.grade(hostile(tmp_path, "fake_report"))
    assert rep.status == Status.graded and rep.score == rep.check("runs").max_points == 10
    assert rep.training.epochs == 0
    assert any("forged line" in w for w in rep.warnings)


def test_background_processes_are_killed(grader, tmp_path):
    started = time.monotonic()
    rep = grader.grade(hostile(tmp_path, "background_process"))
    assert rep.status == Status.graded and "left two processes running" in rep.output.stdout_tail
    assert time.monotonic() - started < 60  # the grader did not wait for them
    # nothing_left_behind checks that no process carrying the token survived


@pytest.mark.skipif(not ProcessSandbox().cgroups, reason="needs root and writable cgroups")
def test_clean_spares_the_sandboxes_of_a_grader_still_running():
    from grader.sandbox import process

    live = Cgroup(f"{os.getpid()}-{uuid.uuid4().hex[:12]}", 512, 64, 1.0)  # this grader's job, running
    dead = Cgroup(f"999999999-{uuid.uuid4().hex[:12]}", 512, 64, 1.0)  # a killed grader's (no such pid)
    try:
        left = [next(iter(c.dirs.values())).name for c in Cgroup.leftovers()]
        assert next(iter(dead.dirs.values())).name in left and next(iter(live.dirs.values())).name not in left
        assert process.clean() == 1 and all(d.is_dir() for d in live.dirs.values())
        assert not any(d.exists() for d in dead.dirs.values())
    finally:
        live.remove()
        dead.remove()


@pytest.mark.skipif(os.geteuid() != 0, reason="the staging that makes paths reachable runs as root only")
def test_a_temp_dir_under_a_private_folder_still_grades(real_data, tmp_path, monkeypatch):
    # TMPDIR under a 0700 folder (a home directory, pytest's own temp dirs): the sandbox's uid cannot reach
    # a staging folder made there, so staging goes to /tmp instead
    require("process")
    private = tmp_path / "private"
    (private / "tmp").mkdir(parents=True)
    private.chmod(0o700)
    monkeypatch.setattr("tempfile.tempdir", str(private / "tmp"))
    rep = Grader(Options(sandbox="process", data_dir=real_data, device="cpu")).grade(ROOT / "reference" / "solution.py")
    assert rep.status == Status.graded and rep.score == 100, rep.message


@pytest.mark.skipif(not ProcessSandbox().cgroups, reason="the warm worker needs root and writable cgroups")
def test_a_warm_workers_harness_sees_and_may_do_exactly_what_a_cold_one_does(real_data, tmp_path):
    # uid, groups, capabilities, no_new_privs, rlimits, namespaces (no network, no new user namespace,
    # processes in view), environment, working dir, open files: the same, whichever way the harness started
    require("process")
    probe = hostile(tmp_path, "identity")
    views = {}
    for warm in (False, True):
        grader = Grader(Options(sandbox="process", data_dir=real_data, device="cpu", warm_worker=warm))
        try:
            rep = grader.grade(probe)
        finally:
            grader.close()
        assert rep.sandbox.limits["harness"].startswith("forked" if warm else "a new"), rep.sandbox.limits
        line = next(x for x in rep.output.stdout_tail.splitlines() if x.startswith("IDENTITY "))
        views[warm] = json.loads(line.split(" ", 1)[1])
    cold, warm = views[False], views[True]
    assert cold["caps"] == {"CapInh": "0000000000000000", "CapPrm": "0000000000000000",
                            "CapEff": "0000000000000000", "CapAmb": "0000000000000000"}
    assert cold["network"] != "allowed" and cold["user_namespace"] != "allowed" and cold["setuid_root"] != "allowed"
    cold["cgroup"] = warm["cgroup"] = None  # each job has its own
    assert warm == cold
