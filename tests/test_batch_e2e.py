"""Batches on the real MNIST through the process sandbox, with the real `grader` command: a mixed class,
a batch killed with SIGKILL and resumed, a timeout, and the batch's verdicts against `grader check`'s.

Under a loaded machine a correct submission can need far more than the default 90 s of wall clock, so these
batches run with a generous --timeout, and with one CPU per sandbox: `grader check` alone would give torch
two threads, whose OpenMP barriers spin when other processes hold the cores (measured: a 6 s training took
over 40 s of CPU). Batch and check use the same rubric and timeout, so the same digest. The timeout case
has a batch of its own with a short one.
"""

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

from grader.report import CHECK_IDS

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "submissions"
GRADER = str(Path(sys.executable).parent / "grader")
TIMEOUT = os.environ.get("GRADER_E2E_BATCH_TIMEOUT", "400")
EXPECTED = {e["file"]: e for e in tomllib.loads((SUBMISSIONS / "expected.toml").read_text())["example"]}
FILES = [ROOT / "reference" / "solution.py"] + [SUBMISSIONS / f for f in ("no_zero_grad.py", "syntax_error.py",
                                                                          "crash_in_epoch3.py", "notebook.ipynb")]
SUBSET = FILES[:4]


RUBRIC = Path(__file__).parent / "e2e_rubric.toml"
SAME = ["--sandbox", "process", "--timeout", TIMEOUT, "--rubric", str(RUBRIC)]


def grade(*args, env_data) -> subprocess.CompletedProcess:
    cmd = [GRADER, "grade", *map(str, args), *SAME, "--jobs", "2"]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "GRADER_DATA_DIR": str(env_data)})


def read_grades(out: Path) -> dict:
    text = (out / "grades.csv").read_text(encoding="utf-8-sig")
    return {r["student"]: r for r in csv.DictReader(text.splitlines())}


POINTS = {"runs": 10, "architecture": 15, "loss": 15, "optimizer": 15, "epochs": 10,
          "prints_loss_each_epoch": 10, "zero_grad": 15, "learns": 10}


def expected_score(example: dict) -> int:
    if "score" in example:  # partial credit (a per-epoch check on a run cut short) is written out
        return example["score"]
    failed = set(CHECK_IDS) if example["failed"] == "all" else set(example["failed"])
    return sum(v for k, v in POINTS.items() if k not in failed)


@pytest.fixture(scope="module")
def canvas_zip(tmp_path_factory) -> Path:
    """A Canvas export: an on-time attempt, then a late resubmission (-1), a path traversal entry, a zip bomb."""
    z = tmp_path_factory.mktemp("canvas") / "submissions.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("smithbob_123_456_train.py", (SUBMISSIONS / "no_zero_grad.py").read_bytes())
        zf.writestr("smithbob_LATE_123_789_train-1.py", (ROOT / "reference" / "solution.py").read_bytes())
        zf.writestr("../../evil_125_790_x.py", b"open('/etc/passwd')\n")
        zf.writestr("jonesann_124_457_big.py", b"\0" * (200 * 2**20))
    return z


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, real_data, canvas_zip):
    out = tmp_path_factory.mktemp("mixed") / "out"
    done = grade(*FILES, canvas_zip, "--out", out, "--format", "junit", env_data=real_data)
    return out, done


def test_mixed_batch_gives_the_expected_grades(mixed):
    out, done = mixed
    assert done.returncode == 2, done.stderr  # jonesann's file was refused: an input problem for the instructor
    got = read_grades(out)
    assert set(got) == {"solution", "no_zero_grad", "syntax_error", "crash_in_epoch3", "notebook", "123", "124"}
    assert got["solution"]["score"] == got["123"]["score"] == "100" and got["123"]["status"] == "graded"
    for student in ("no_zero_grad", "syntax_error", "crash_in_epoch3", "notebook"):
        example = next(e for f, e in EXPECTED.items() if Path(f).stem == student)
        row = got[student]
        assert (row["status"], row["score"]) == (example["status"], str(expected_score(example))), row
        failed = set(CHECK_IDS) if example["failed"] == "all" else set(example["failed"])
        # a failed check may still carry partial credit (prints for the epochs that ran): short of full points
        assert {c for c in CHECK_IDS if row[c] != str(POINTS[c])} == failed, row
    assert got["124"]["status"] == "no_submission" and "refused" in got["124"]["message"]
    assert "big.py (not read: 200 MB, over the 64 MB cap)" in got["124"]["message"]
    assert "train-1.py" in got["123"]["file"]  # the late resubmission, not the first attempt
    report = json.loads((out / "reports" / "123.json").read_text())
    older = report["student"]["older_attempts"]
    assert len(older) == 1 and older[0].endswith("smithbob_123_456_train.py")
    summary = (out / "summary.md").read_text()
    assert "path traversal" in summary and "## Pass rate per check" in summary
    assert "7 students, 5 distinct files: 5 to grade" in done.stderr  # 123's file is the reference: graded once
    assert (out / "junit.xml").read_text().count("<testsuite ") == 6


def test_timeout_ends_in_a_report_and_the_rest_is_graded(tmp_path, real_data):
    sleeper = tmp_path / "sleeper.py"
    sleeper.write_text("import time\nwhile True:\n    time.sleep(1)\n")
    out = tmp_path / "out"
    cmd = [GRADER, "grade", sleeper, SUBMISSIONS / "syntax_error.py", "--out", out, "--sandbox", "process",
           "--timeout", "5", "--jobs", "2"]
    done = subprocess.run(list(map(str, cmd)), capture_output=True, text=True,
                          env={**os.environ, "GRADER_DATA_DIR": str(real_data)})
    assert done.returncode == 1, done.stderr
    got = read_grades(out)
    assert got["sleeper"]["status"] == "timeout" and got["syntax_error"]["status"] == "syntax_error"


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_sigkill_mid_batch_then_resume_matches_byte_for_byte(tmp_path, real_data, mixed):
    # the uninterrupted batch's verdicts for these files, exported from its store (nothing is graded again)
    reference_out = tmp_path / "uninterrupted"
    reference_out.mkdir()
    (reference_out / "grader.db").write_bytes((mixed[0] / "grader.db").read_bytes())
    again = grade(*SUBSET, "--out", reference_out, env_data=real_data)
    assert "0 to grade" in again.stderr, again.stderr
    out = tmp_path / "killed"
    cmd = [GRADER, "grade", *map(str, SUBSET), "--out", str(out), *SAME, "--jobs", "2"]
    temp = tmp_path / "temp"  # its temporary files, to see what the kill left there
    temp.mkdir()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "GRADER_DATA_DIR": str(real_data), "TMPDIR": str(temp)})
    deadline = time.monotonic() + 900
    saved = 0
    while saved < 2:  # the syntax error at once, then one real training
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.5)
        if (out / "grader.db").exists():
            with sqlite3.connect(out / "grader.db") as db:
                try:
                    saved = db.execute("SELECT count(*) FROM results").fetchone()[0]
                except sqlite3.OperationalError:
                    saved = 0
    tree = descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while any(alive(p) for p in tree) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not [p for p in tree if alive(p)], "workers or sandboxes outlived the killed batch"
    assert [p.name.split("-")[2] for p in temp.iterdir()] == [str(proc.pid)]  # the killed batch's folder
    clean = subprocess.run([GRADER, "sandbox", "clean"], capture_output=True, env={**os.environ, "TMPDIR": str(temp)})
    assert clean.returncode == 0  # a killed grader's cgroups and temporary folder
    assert list(temp.iterdir()) == []
    with sqlite3.connect(out / "grader.db") as db:
        before = dict(db.execute("SELECT sha256, graded_at || run_id FROM results"))
    assert 2 <= len(before) < len(SUBSET)

    resumed = grade(*SUBSET, "--out", out, env_data=real_data)
    assert resumed.returncode == 1, resumed.stderr
    assert f"{len(SUBSET) - len(before)} to grade, {len(before)} already" in resumed.stderr
    with sqlite3.connect(out / "grader.db") as db:
        after = dict(db.execute("SELECT sha256, graded_at || run_id FROM results"))
        runs = db.execute("SELECT run_id, count(*) FROM results GROUP BY run_id ORDER BY run_id").fetchall()
    assert len(after) == len(SUBSET) and all(after[sha] == stamp for sha, stamp in before.items())
    assert runs == [(1, len(before)), (2, len(SUBSET) - len(before))]  # nothing graded twice
    assert (out / "grades.csv").read_bytes() == (reference_out / "grades.csv").read_bytes()


def test_batch_verdicts_equal_grader_check(mixed, real_data):
    out, _ = mixed
    for path in (SUBMISSIONS / "no_zero_grad.py", SUBMISSIONS / "crash_in_epoch3.py", SUBMISSIONS / "syntax_error.py"):
        done = subprocess.run([GRADER, "check", str(path), "--json", *SAME],
                              capture_output=True, text=True, env={**os.environ, "GRADER_DATA_DIR": str(real_data)})
        single = json.loads(done.stdout)
        batch = json.loads((out / "reports" / f"{path.stem}.json").read_text())
        verdict = lambda r: (r["status"], r["score"], r["rubric_digest"],  # noqa: E731
                             [(c["id"], c["passed"], c["points"]) for c in r["checks"]])
        assert verdict(batch) == verdict(single), path.name


def test_ctrl_c_lets_the_running_submission_finish_and_keeps_it(tmp_path, real_data):
    for name in ("a", "b", "c"):
        (tmp_path / "in").mkdir(exist_ok=True)
        (tmp_path / "in" / f"{name}.py").write_text(f"import time\ntime.sleep(60)  # {name}\n")
    out = tmp_path / "out"
    cmd = [GRADER, "grade", str(tmp_path / "in"), "--out", str(out), "--sandbox", "process", "--timeout", "5",
           "--jobs", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "GRADER_DATA_DIR": str(real_data)})
    deadline = time.monotonic() + 300
    while not any(b"grader.harness" in cmdline(p) for p in descendants(proc.pid)):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 130 and "interrupted" in stdout, stderr
    got = read_grades(out)
    assert got["a"]["status"] == "timeout"  # the one running finished and was kept
    assert got["b"]["status"] == got["c"]["status"] == "not_graded"
