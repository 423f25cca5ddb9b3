"""Temporary files: a grader killed outright leaves a folder that `grader sandbox clean` removes, and only that."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRADER = str(Path(sys.executable).parent / "grader")

# a grader process in miniature: claims its folder, leaves a submission's copy in a temp dir, then waits
CLAIMS = """
import sys, tempfile, time
from pathlib import Path
from grader import scratch
folder = scratch.claim()
job = Path(tempfile.mkdtemp(prefix="grader-"))
(job / "solution.py").write_text("print('a student')")
print(folder, flush=True)
time.sleep(float(sys.argv[1]))
"""


def start(tmp: Path, seconds: float) -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen([sys.executable, "-c", CLAIMS, str(seconds)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(tmp)})
    return proc, Path(proc.stdout.readline().strip())


def clean(tmp: Path) -> str:
    done = subprocess.run([GRADER, "sandbox", "clean"], capture_output=True, text=True,
                          env={**os.environ, "TMPDIR": str(tmp)})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_killed_graders_files_are_removed_and_a_running_ones_kept(tmp_path):
    killed, killed_folder = start(tmp_path, 60)
    running, running_folder = start(tmp_path, 60)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        assert killed_folder.parent == tmp_path and killed_folder.name.startswith(f"grader-run-{killed.pid}-")
        assert list(killed_folder.glob("grader-*/solution.py")), "the killed grader's files were never there"
        assert "removed 1 leftover" in clean(tmp_path)
        assert not killed_folder.exists()
        assert list(running_folder.glob("grader-*/solution.py")), "a running grader's files were removed"
    finally:
        running.kill()
        running.wait()


def test_a_grader_that_ends_removes_its_own_folder(tmp_path):
    proc, folder = start(tmp_path, 0)
    assert proc.wait(timeout=60) == 0
    assert not folder.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_real_check_keeps_its_files_in_its_folder_and_leaves_nothing(tmp_path, real_data):
    # the submission's copy and spec, the sandbox jobs: only ever inside the run's folder, then gone
    proc = subprocess.Popen([GRADER, "check", str(ROOT / "reference" / "solution.py"), "--sandbox", "none", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(tmp_path), "GRADER_DATA_DIR": str(real_data)})
    seen, inside = set(), set()
    while proc.poll() is None:
        for entry in list(tmp_path.iterdir()):
            seen.add(entry.name)
            inside.update(p.name.split("-")[1] for p in entry.glob("grader-*") if "-" in p.name)
        time.sleep(0.02)
    out, err = proc.communicate()
    assert json.loads(out)["score"] == 100, err
    assert len(seen) == 1 and next(iter(seen)).startswith(f"grader-run-{proc.pid}-"), seen
    assert "job" in inside and len(inside) >= 2, inside  # what it held: the grade's folder, sandbox jobs
    assert list(tmp_path.iterdir()) == []
