"""Issue 15 end to end: `grader grade` on a class in which one student's upload is broken and others carry
hostile names (escape sequences, a formula, bytes that are not UTF-8, a file name over 255 bytes) grades
the real MNIST solution for everyone else and keeps every row. One real grading: the healthy students hand
in the same bytes, which a batch grades once."""

import csv
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from test_sandbox import require

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
GRADER = str(Path(sys.executable).parent / "grader")
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
ESCAPES = "\x1b[2J\x1b[H\x1b[1;32mScore 100\x1b]0;pwned\x07"


def hostile_class(root: Path) -> None:
    solution = (ROOT / "reference" / "solution.py").read_bytes()
    (root / "alice").mkdir(parents=True)
    (root / "alice" / "train.py").write_bytes(solution)
    (root / "mallory").mkdir()
    (root / "mallory" / "hw.zip").write_bytes(b"PK\x03\x04 not a zip at all")
    with zipfile.ZipFile(root / "=1+2.zip", "w") as zf:  # sorts first: its 270-byte name is the one graded
        zf.writestr("名" * 90 + ".py", solution)
    (root / f"eve{ESCAPES}").mkdir()
    (root / f"eve{ESCAPES}" / "train.py").write_bytes(solution)
    os.makedirs(os.fsencode(root) + b"/tr\xffdy")
    with open(os.fsencode(root) + b"/tr\xffdy/train.py", "wb") as fh:
        fh.write(solution)


@pytest.mark.parametrize("backend", ["process", "docker"])
def test_one_students_upload_costs_only_their_row(tmp_path, real_data, backend):
    require(backend)
    hostile_class(tmp_path / "class")
    out = tmp_path / "out"
    done = subprocess.run([GRADER, "grade", str(tmp_path / "class"), "--out", str(out), "--sandbox", backend,
                           "--jobs", "1", "--timeout", os.environ.get("GRADER_E2E_BATCH_TIMEOUT", "400"),
                           "--rubric", str(ROOT / "tests" / "e2e_rubric.toml")],
                          capture_output=True, text=True, errors="backslashreplace",
                          env={**os.environ, "GRADER_DATA_DIR": str(real_data)})
    assert done.returncode == 2, done.stderr  # mallory handed in nothing gradable; everyone else has a verdict
    assert not CONTROLS.search((done.stdout + done.stderr).replace("\n", "")), done.stderr
    rows = list(csv.DictReader((out / "grades.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 5, rows
    by_status = {}
    for row in rows:
        by_status.setdefault(row["status"], []).append(row)
    assert [r["student"] for r in by_status["no_submission"]] == ["mallory"]
    assert "hw.zip" in by_status["no_submission"][0]["message"]
    assert len(by_status["graded"]) == 4 and {r["score"] for r in by_status["graded"]} == {"100"}, rows
    for name in ("summary.md", "grades.csv", "index.html"):
        assert not CONTROLS.search((out / name).read_text().replace("\n", "").replace("\r", "")), name
    assert len(list((out / "reports").iterdir())) == 4 and len(list((out / "pages").iterdir())) == 4
