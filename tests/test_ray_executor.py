"""`grader grade --executor ray` on a real multi-node Ray cluster on this machine (ray.cluster_utils: a head and
three raylets), against the local executor's grades for the same small mixed class.

Set up once for the module: the local batch, then the cluster, then the Ray batch. The cluster's nodes are
real raylets with their own environment: the two grading nodes have no MNIST of their own (GRADER_DATA_DIR
points at an empty folder), so the driver ships it; the third genuinely lacks a sandbox backend (its PATH
has no bubblewrap and its DOCKER_HOST points at no engine). While the Ray batch runs, the test kills one
grading actor with SIGKILL in the middle of a submission. A second, smaller batch loses a whole node while
both grading nodes are busy (two batches: one batch with both faults could lose the same submission twice,
which is an internal_error by design).

Skipped where Ray is not installed, except under CI=true, where it fails (.ci/run installs the ray extra).
"""

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.ray]

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "submissions"
GRADER = str(Path(sys.executable).parent / "grader")
TIMEOUT = os.environ.get("GRADER_E2E_BATCH_TIMEOUT", "400")
RUBRIC = Path(__file__).parent / "e2e_rubric.toml"
SAME = ["--sandbox", "process", "--timeout", TIMEOUT, "--rubric", str(RUBRIC)]
# the reference, a partial (75/100), a crash in epoch 3, a syntax error, an empty file (invalid_submission)
FILES = [ROOT / "reference" / "solution.py"] + [SUBMISSIONS / f for f in ("no_zero_grad.py", "crash_in_epoch3.py",
                                                                          "syntax_error.py", "empty.py")]
GRADING = b"ray::GradingSlot.grade"  # the title Ray gives an actor's process while a grade() call runs


def need_ray():
    try:
        import ray.cluster_utils  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("Ray must be installed in CI (.ci/run: pip install -e '.[ray]')")
        pytest.skip("Ray is not installed (pip install 'grader[ray]')")


def batch(out: Path, *args, data: Path, wait: bool = True, files=FILES, cwd=None):
    cmd = [GRADER, "grade", *map(str, files), "--out", str(out), *SAME, *map(str, args)]
    env = {**os.environ, "GRADER_DATA_DIR": str(data)}
    if wait:
        return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)


def grading_pids() -> list[int]:
    pids = []
    for cmd in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmd.read_bytes().startswith(GRADING):
                pids.append(int(cmd.parent.name))
        except OSError:
            continue
    return pids


def when_grading(proc, count: int = 1, for_s: float = 2.0) -> list[int]:
    """The pids of `count` actors that have been inside one grade() call for `for_s` seconds (mid-submission)."""
    seen: dict[int, float] = {}
    while proc.poll() is None:
        now = time.monotonic()
        pids = grading_pids()
        seen = {p: seen.get(p, now) for p in pids}
        settled = [p for p, since in seen.items() if now - since >= for_s]
        if len(settled) >= count:
            return settled[:count]
        time.sleep(0.1)
    raise AssertionError("the batch ended before enough submissions were grading at once")


def read_grades(out: Path) -> dict:
    text = (out / "grades.csv").read_text(encoding="utf-8-sig")
    return {r["student"]: r for r in csv.DictReader(text.splitlines())}


def graded_on(out: Path) -> dict[str, str]:
    return {p.stem: json.loads(p.read_text())["environment"]["node"] for p in (out / "reports").glob("*.json")}


def store_results(out: Path) -> list[tuple]:
    with sqlite3.connect(out / "grader.db") as db:
        return db.execute("SELECT sha256, run_id FROM results").fetchall()


@pytest.fixture(scope="module")
def local(tmp_path_factory, real_data):
    need_ray()  # before grading: without Ray there is nothing to compare with
    out = tmp_path_factory.mktemp("local") / "out"
    done = batch(out, "--jobs", "2", data=real_data)
    assert done.returncode in (0, 1, 2), done.stderr
    return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, local):
    """A head (no CPUs: it only coordinates) and three one-CPU raylets: two can grade, one cannot."""
    need_ray()
    from ray.cluster_utils import Cluster

    tmp = tmp_path_factory.mktemp("nodes")
    (tmp / "no-mnist").mkdir()
    cache = tmp / "cache"
    ours = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "grader" / "reference"
    if ours.is_dir():  # the reference's loss band, which the local batch just cached: not graded again
        shutil.copytree(ours, cache / "grader" / "reference")
    small = {"object_store_memory": 80 * 2**20}
    grading = {"GRADER_DATA_DIR": str(tmp / "no-mnist"), "XDG_CACHE_HOME": str(cache)}
    # a lost node is declared dead after 2 missed 1 s health checks (Ray's default: 5 of 3 s): a shorter test
    checks = {"health_check_period_ms": 1000, "health_check_failure_threshold": 2}
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "_system_config": checks, **small})
    nodes = {name: c.add_node(num_cpus=1, env_vars=grading, **small) for name in ("a", "b")}
    nodes["bare"] = c.add_node(num_cpus=1, **small, env_vars={
        **grading, "PATH": str(tmp / "no-such-bin"), "DOCKER_HOST": f"unix://{tmp}/no-engine.sock"})
    c.wait_for_nodes()
    yield c, nodes
    c.shutdown()


@pytest.fixture(scope="module")
def on_ray(tmp_path_factory, real_data, cluster):
    """The Ray batch, with one grading actor killed by SIGKILL in the middle of a submission."""
    c, _ = cluster
    out = tmp_path_factory.mktemp("ray") / "out"
    proc = batch(out, "--executor", "ray", "--address", c.address, data=real_data, wait=False)
    os.kill(when_grading(proc)[0], signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=900)
    return out, proc.returncode, stderr


def test_grades_csv_is_byte_for_byte_the_local_one(local, on_ray):
    out, code, stderr = on_ray
    assert (out / "grades.csv").read_bytes() == (local / "grades.csv").read_bytes(), stderr
    assert code == 1, stderr  # some students below full marks, none lost to the infrastructure
    assert read_grades(out)["solution"]["score"] == "100"


def test_a_killed_actor_costs_one_regrade_and_nothing_is_graded_twice(on_ray):
    out, _, stderr = on_ray
    assert stderr.count("another slot grades it") == 1, stderr
    assert "graded 5 file(s)" in stderr  # each file yielded once: a second yield would count a sixth
    assert [ln for ln in stderr.splitlines() if ln.startswith("[")][-1].startswith("[5/5]"), stderr
    results = store_results(out)
    assert len(results) == len({sha for sha, _ in results}) == 5 and len({run for _, run in results}) == 1


def test_a_node_without_a_sandbox_grades_nothing_and_the_batch_says_why(cluster, on_ray):
    out, _, stderr = on_ray
    bare = cluster[1]["bare"].node_id[:12]
    why = [ln for ln in stderr.splitlines() if bare in ln and "grades nothing" in ln]
    assert why and "no sandbox backend" in why[0] and "bubblewrap is not installed" in why[0], stderr
    nodes = graded_on(out)
    assert len(nodes) == 5 and not any(bare in n for n in nodes.values())
    assert {n.split("ray node ")[1][:12] for n in nodes.values()} <= {cluster[1][k].node_id[:12] for k in "ab"}


def test_nodes_without_mnist_get_the_drivers_copy_verified(on_ray):
    _, _, stderr = on_ray
    assert "MNIST shipped by the driver (verified by sha256)" in stderr, stderr


def test_cluster_status_names_each_nodes_backend(cluster):
    c, nodes = cluster
    done = subprocess.run([GRADER, "cluster", "status", "--address", c.address, "--sandbox", "process"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "4 node(s), 3 with a sandbox backend" in done.stdout, done.stdout  # the head's has no CPUs to use it
    bare = next(ln for ln in done.stderr.splitlines() if nodes["bare"].node_id[:12] in ln)
    assert "sandbox NONE (" in bare and "bubblewrap is not installed" in bare
    a = next(ln for ln in done.stderr.splitlines() if nodes["a"].node_id[:12] in ln)
    assert "1 CPUs" in a and "sandbox process" in a and "MNIST not here (the driver ships it)" in a
    assert "grader code this machine's" in a


def test_cuda_slots_ask_ray_for_gpus_and_a_node_without_one_grades_nothing(tmp_path, real_data, cluster):
    """No node has a GPU resource: nothing is placed. A node that declares a GPU it lacks gets the one slot
    (0.5 GPU each) and refuses it: the batch says why and grades nothing."""
    from grader.sandbox import cuda_present

    if cuda_present():
        pytest.skip("this host has a GPU: a node declaring one would really have it")
    c, _ = cluster
    one = FILES[3:4]
    args = ("--executor", "ray", "--address", c.address, "--device", "cuda", "--gpus-per-job", "0.5")
    done = batch(tmp_path / "none", *args, data=real_data, files=one)
    assert done.returncode == 3 and "no node with 1 free CPU(s) and 0.5 GPU(s)" in done.stderr, done.stderr
    liar = c.add_node(num_cpus=1, num_gpus=1, object_store_memory=80 * 2**20)
    try:
        done = batch(tmp_path / "liar", *args, data=real_data, files=one)
    finally:
        c.remove_node(liar)
    assert done.returncode == 3, done.stderr
    assert f"ray node {liar.node_id[:12]}): grades nothing: SetupError: --device cuda was asked for, but this " \
           "machine has no NVIDIA GPU" in done.stderr, done.stderr


def test_the_folder_a_batch_starts_in_is_never_imported_by_the_slots(tmp_path, real_data, cluster):
    """Ray puts the driver's working directory first on its workers' sys.path: started in a class's folder,
    a student's grader/ package (or torch.py) there would run inside the slots, outside any sandbox."""
    c, _ = cluster
    folder, marker = tmp_path / "class", tmp_path / "imported"
    (folder / "grader").mkdir(parents=True)
    (folder / "grader" / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit(7)\n")
    done = batch(tmp_path / "out", "--executor", "ray", "--address", c.address, data=real_data, files=FILES[3:4],
                 cwd=folder)
    assert not marker.exists()
    assert done.returncode == 1 and read_grades(tmp_path / "out")["syntax_error"]["status"] == "syntax_error", \
        done.stderr


@pytest.mark.slow
def test_a_submission_lost_twice_is_an_infrastructure_error_that_retry_errors_grades(tmp_path, real_data, cluster):
    c, _ = cluster
    out, one = tmp_path / "out", FILES[:1]
    proc = batch(out, "--executor", "ray", "--address", c.address, data=real_data, wait=False, files=one)
    for _ in range(2):  # the slot grading it dies; then the one it was handed to
        os.kill(when_grading(proc)[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=900)
    assert proc.returncode == 3, stderr
    report = json.loads((out / "reports" / "solution.json").read_text())
    assert report["status"] == "internal_error" and "lost 2 times" in report["message"]
    again = batch(out, "--executor", "ray", "--address", c.address, "--retry-errors", data=real_data, files=one)
    assert again.returncode == 0, again.stderr
    assert read_grades(out)["solution"]["score"] == "100"


@pytest.mark.slow
def test_a_driver_killed_outright_resumes_from_the_store(tmp_path, real_data, cluster, local):
    c, _ = cluster
    out = tmp_path / "out"
    args = ("--executor", "ray", "--address", c.address)
    proc = batch(out, *args, data=real_data, wait=False)
    while proc.poll() is None and not ((out / "grader.db").exists() and store_results(out)):
        time.sleep(0.2)
    proc.kill()  # SIGKILL: no handler runs; Ray ends the actors of a driver that is gone
    proc.communicate()
    deadline = time.monotonic() + 60
    while grading_pids() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not grading_pids()  # the dead driver's actors stopped grading
    kept = len(store_results(out))
    assert 0 < kept < 5
    done = batch(out, *args, data=real_data)
    assert f"{5 - kept} to grade, {kept} already in" in done.stderr, done.stderr
    assert (out / "grades.csv").read_bytes() == (local / "grades.csv").read_bytes(), done.stderr


def test_a_node_lost_mid_batch_costs_only_its_running_submission(tmp_path, real_data, cluster, local):
    """Runs last: it takes node b out of the module's cluster."""
    c, nodes = cluster
    out, two = tmp_path / "out", FILES[:2]  # the reference and the partial: both train, one on each node
    proc = batch(out, "--executor", "ray", "--address", c.address, data=real_data, wait=False, files=two)
    when_grading(proc, count=2, for_s=1.0)
    c.remove_node(nodes["b"], allow_graceful=False)  # its raylet and every process on it, killed
    _, stderr = proc.communicate(timeout=900)
    assert proc.returncode == 1, stderr
    assert stderr.count("another slot grades it") == 1 and "graded 2 file(s)" in stderr, stderr
    want = read_grades(local)
    assert read_grades(out) == {f.stem: want[f.stem] for f in two}
    assert len(store_results(out)) == 2
    assert all(nodes["a"].node_id[:12] in n for n in graded_on(out).values())


def test_the_local_path_never_imports_ray():
    """The README's first two commands need no Ray: the CLI and the local batch import it only for --executor ray."""
    code = ("import sys, grader.cli, grader.batch.run, grader.batch.executor; "
            "sys.exit('ray' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
    blocked = ("import sys; sys.modules['ray'] = None; from grader.cli import main; "
               "sys.argv = ['grader', 'grade', %r, '--out', %r, '--executor', 'ray']; main()")
    done = subprocess.run([sys.executable, "-c", blocked % (str(FILES[0]), "/nonexistent/out")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "pip install 'grader[ray]'" in done.stderr, done.stderr


def test_shipped_mnist_is_written_on_a_node_only_when_it_is_the_published_one(tiny_data, tmp_path, monkeypatch):
    """A node accepts the driver's bytes only when they are what the driver sent (sha256 of each file) and
    the published MNIST (data.SHA256): a stand-in that matches its own digest is still refused."""
    from grader import data
    from grader.batch import ray_node

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    blobs = {p.name: p.read_bytes() for p in tiny_data.iterdir() if p.is_file()}
    digest = ray_node.digest_of(blobs)
    altered = {**blobs, "t10k-labels-idx1-ubyte": blobs["t10k-labels-idx1-ubyte"][:-1] + b"\x00"}
    with pytest.raises(data.DataMissing, match="arrived altered"):
        ray_node.unpack(altered, digest)
    with pytest.raises(data.DataMissing, match="not the published MNIST"):
        ray_node.unpack(blobs, digest)
