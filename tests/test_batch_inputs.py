"""Finding students in LMS exports and folders, on zips and folders built here: layouts, attempts,
ambiguity, and hostile archives (traversal, symlinks, bombs, odd name encodings)."""

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from grader.batch import inputs
from grader.batch.inputs import Caps, InputError, discover

GOOD = b"print('hello')\n"


def make_zip(path: Path, entries: dict) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def by_id(found) -> dict:
    return {s.id: s for s in found.students}


def test_canvas_zip_latest_resubmission_late_and_names(tmp_path):
    z = make_zip(tmp_path / "submissions.zip", {
        "smithbob_123_456_train.py": b"old = 1\n",
        "smithbob_LATE_123_789_train-1.py": b"new = 2\n",  # resubmitted late: Canvas appended -1
        "jonesann_late_124_500_mnist.ipynb": b'{"cells": []}',
        "anon_x7k2_601_hw.py": GOOD,
        "lópezana_125_700_hw.py": GOOD,  # Canvas keeps Unicode in names
        "doejohn_126_701_notes.pdf": b"%PDF",
        "__MACOSX/._smithbob_123_456_train.py": b"junk",
    })
    found = by_id(discover([z]))
    assert set(found) == {"123", "124", "anon_x7k2", "125", "126"}
    bob = found["123"]
    assert bob.data == b"new = 2\n" and bob.filename == "train-1.py" and bob.source == "canvas"
    assert bob.name == "smithbob" and bob.older == [f"{z}:smithbob_123_456_train.py"]
    assert found["124"].filename == "mnist.ipynb" and found["125"].name == "lópezana"
    assert found["126"].problem.startswith("no .py or .ipynb file") and "notes.pdf" in found["126"].problem


def test_two_different_files_are_reported_not_guessed(tmp_path):
    z = make_zip(tmp_path / "c.zip", {"smithbob_123_456_train.py": b"a = 1\n", "smithbob_123_457_model.py": b"b = 2\n",
                                      "jonesann_124_458_a.py": GOOD, "jonesann_124_459_b.py": GOOD})
    found = by_id(discover([z]))
    assert found["123"].data is None and found["123"].problem.startswith("ambiguous: 2 candidate files")
    assert found["124"].data == GOOD  # the same bytes twice is not a choice
    assert by_id(discover([z], pattern="train*.py"))["123"].filename == "train.py"


def test_moodle_folder_and_flat_modes(tmp_path):
    z = make_zip(tmp_path / "CS101-HW1-42.zip", {
        "Bob Smith_12345_assignsubmission_file/src/train.py": GOOD,
        "Bob Smith_12345_assignsubmission_onlinetext/onlinetext.html": b"<p>hi</p>",
        "Ana López_12346_assignsubmission_file_mnist.ipynb": b'{"cells": []}',
        "Carl Jung_12347_assignsubmission_onlinetext/onlinetext.html": b"<p>no file</p>",
    })
    found = by_id(discover([z]))
    assert found["12345"].name == "Bob Smith" and found["12345"].filename == "train.py"
    assert found["12346"].name == "Ana López" and found["12346"].filename == "mnist.ipynb"
    assert found["12347"].problem.startswith("no .py or .ipynb file")
    assert {s.source for s in found.values()} == {"moodle"}


RECEIPT = """Name: {name} ({user})
Assignment: HW1
Date Submitted: Monday, 3 March 2025 10:11:12 o'clock GMT
Current Grade: Needs Grading

Submission Field:
There is no student submission text data for this assignment.

Comments:
There are no student comments for this assignment.

Files:
\tOriginal filename: {orig}
\tFilename: {fname}
"""


def test_blackboard_identity_and_files_from_receipts(tmp_path):
    old, new = "HW1_bsmith_attempt_2025-03-01-09-00-00", "HW1_bsmith_attempt_2025-03-03-10-11-12"
    z = make_zip(tmp_path / "gradebook_CS101_HW1_2025.zip", {
        f"{old}.txt": RECEIPT.format(name="Bob Smith", user="bsmith", orig="train.py", fname=f"{old}_train.py"),
        f"{old}_train.py": b"old = 1\n",
        f"{new}.txt": RECEIPT.format(name="Bob Smith", user="bsmith", orig="train v2.py", fname=f"{new}_train v2.py"),
        f"{new}_train v2.py": b"new = 2\n",
        "HW1_a_lee_attempt_2025-03-02-08-00-00.txt": RECEIPT.format(
            name="Amy Lee", user="a_lee", orig="mnist.py", fname="HW1_a_lee_attempt_2025-03-02-08-00-00_mnist.py"),
        "HW1_a_lee_attempt_2025-03-02-08-00-00_mnist.py": GOOD,  # a username with '_': only the receipt knows
    })
    found = by_id(discover([z]))
    assert set(found) == {"bsmith", "a_lee"}
    assert found["bsmith"].data == b"new = 2\n" and found["bsmith"].filename == "train v2.py"
    assert found["bsmith"].older == [f"{z}:{old}_train.py"] and found["bsmith"].name == "Bob Smith"
    assert found["a_lee"].name == "Amy Lee" and found["a_lee"].source == "blackboard"


def test_gradescope_export_one_row_per_submitter(tmp_path):
    meta = """submission_1001:
  :submitters:
  - :name: Bob Smith
    :sid: '00123'
    :email: bob@example.edu
  - :name: Ana Lopez
    :sid: '00124'
    :email: ana@example.edu
  :created_at: 2025-03-03 10:00:00.000000000 -08:00
  :score: 0.0
  :status: processed
  :results: !ruby/hash:ActiveSupport::HashWithIndifferentAccess
    score: 0.0
submission_1002:
  :submitters:
  - :name: Carl Jung
    :email: carl@example.edu
  :created_at: 2025-03-02 10:00:00.000000000 -08:00
"""
    z = make_zip(tmp_path / "assignment_42_export.zip", {
        "assignment_42_export/submission_metadata.yml": meta,
        "assignment_42_export/submission_1001/train.py": GOOD,
        "assignment_42_export/submission_1002/hw.ipynb": b'{"cells": []}',
    })
    found = by_id(discover([z]))
    assert set(found) == {"00123", "00124", "carl@example.edu"}  # sid read as a string: leading zeros kept
    assert found["00123"].data == found["00124"].data == GOOD and found["00124"].name == "Ana Lopez"
    assert found["carl@example.edu"].filename == "hw.ipynb"


def test_github_classroom_clones(tmp_path):
    root = tmp_path / "hw1-mnist-submissions"
    for user, files in {"octocat": {"train.py": GOOD, "README.md": b"#"}, "mona-lisa": {"src/main.py": GOOD},
                        "nobody": {"README.md": b"#"}}.items():
        clone = root / f"hw1-mnist-{user}"
        (clone / ".git").mkdir(parents=True)
        (clone / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        for rel, data in files.items():
            (clone / rel).parent.mkdir(parents=True, exist_ok=True)
            (clone / rel).write_bytes(data)
    found = by_id(discover([root]))
    assert set(found) == {"octocat", "mona-lisa", "nobody"}
    assert found["mona-lisa"].filename == "main.py" and found["octocat"].source == "github-classroom"
    assert "README.md" in found["nobody"].problem


def test_plain_files_and_folders(tmp_path):
    (tmp_path / "class" / "carol").mkdir(parents=True)
    (tmp_path / "class" / "alice.py").write_bytes(GOOD)
    (tmp_path / "class" / "bob.ipynb").write_bytes(b'{"cells": []}')
    (tmp_path / "class" / "carol" / "hw.py").write_bytes(GOOD)
    (tmp_path / "class" / "notes.txt").write_text("not a student")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "hw.py").write_bytes(b"x = 1\n")
    (tmp_path / "b" / "hw.py").write_bytes(b"x = 2\n")
    found = discover([tmp_path / "class", tmp_path / "a" / "hw.py", tmp_path / "b" / "hw.py"])
    ids = by_id(found)
    assert {"alice", "bob", "carol"} <= set(ids) and ids["carol"].filename == "hw.py"
    assert ids["hw"].data == b"x = 1\n" and ids[(tmp_path / "b" / "hw").as_posix()].data == b"x = 2\n"
    assert any("notes.txt" in w for w in found.warnings)


def test_traversal_symlink_and_absolute_entries_are_skipped_and_reported(tmp_path):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("smithbob_123_456_train.py", GOOD)
        zf.writestr("../../etc/evil_124_457_x.py", b"import os\n")
        zf.writestr("/abs/evil_125_458_x.py", b"import os\n")
        zf.writestr("..\\..\\win_126_459_x.py", b"import os\n")
        link = zipfile.ZipInfo("jonesann_127_460_link.py")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    found = discover([z])
    assert set(by_id(found)) == {"123", "127"}  # a hostile name has no student; a link's owner is told why
    assert by_id(found)["127"].data is None and "refused" in by_id(found)["127"].problem
    assert "link.py (not read: a symbolic link" in by_id(found)["127"].problem
    text = "\n".join(found.warnings)
    assert "path traversal" in text and "absolute path" in text and "symbolic link" in text
    assert text.count("path traversal") == 2  # backslashes are separators too
    assert not (tmp_path.parent / "etc").exists() and not list(tmp_path.glob("**/*.py"))  # nothing extracted


def test_folder_symlinks_are_not_followed(tmp_path):
    secret = tmp_path / "secret.py"
    secret.write_bytes(b"TOKEN = 'x'\n")
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "alice.py").write_bytes(GOOD)
    os.symlink(secret, tmp_path / "class" / "mallory.py")
    os.symlink(tmp_path, tmp_path / "class" / "loop")
    found = discover([tmp_path / "class"])
    assert set(by_id(found)) == {"alice", "mallory"} and sum("symbolic link" in w for w in found.warnings) == 2
    assert by_id(found)["mallory"].data is None and "symbolic link" in by_id(found)["mallory"].problem


def test_zip_bomb_is_refused(tmp_path):
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("smithbob_123_456_train.py", GOOD)
        zf.writestr("jonesann_124_457_big.py", b"\0" * (200 * 2**20))  # 200 MB of zeros, ~200 KB compressed
    assert z.stat().st_size < 2**20
    found = discover([z])
    assert set(by_id(found)) == {"123", "124"} and by_id(found)["124"].data is None
    assert any("zip bomb" in w or "cap" in w for w in found.warnings)
    with pytest.raises(InputError, match="zip bomb"):  # many moderate entries: the total cap stops them
        discover([z], caps=Caps(ratio=10**9, file_bytes=300 * 2**20, total_bytes=100 * 2**20))
    with pytest.raises(InputError, match="entries"):
        discover([z], caps=Caps(entries=1))


def test_header_that_lies_about_size_is_still_capped(tmp_path):
    z = tmp_path / "liar.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("smithbob_123_456_train.py", b"#" * (3 * 2**20))
    raw = bytearray(z.read_bytes())  # claim 10 bytes in the central directory
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24:cd + 28] = (10).to_bytes(4, "little")
    z.write_bytes(bytes(raw))
    found = discover([z], caps=Caps(file_bytes=2**20))
    assert by_id(found)["123"].data is None and any("123_456" in w for w in found.warnings)


def test_names_in_cp437_and_unflagged_utf8(tmp_path):
    """Info-ZIP/macOS write UTF-8 names without the flag; Windows tools write the codepage (cp437)."""
    z = tmp_path / "names.zip"
    raw = {"muXller_200_1_hw.py": "müller_200_1_hw.py".encode("utf-8"),  # same byte length as the placeholder
           "garcon_201_2_hw.py": "garçon_201_2_hw.py".encode("cp437")}
    make_zip(z, {name: GOOD for name in raw})
    data = z.read_bytes()
    for placeholder, name in raw.items():
        assert len(placeholder.encode()) == len(name)
        data = data.replace(placeholder.encode(), name)
    z.write_bytes(data)
    with zipfile.ZipFile(z) as zf:
        assert not any(i.flag_bits & 0x800 for i in zf.infolist())
    found = by_id(discover([z]))
    assert found["200"].name == "müller" and found["201"].name == "garçon"


def test_nested_zip_in_a_students_folder(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("project/train.py", GOOD)
    z = make_zip(tmp_path / "m.zip", {"Bob Smith_12345_assignsubmission_file/project.zip": inner.getvalue()})
    assert by_id(discover([z]))["12345"].filename == "train.py"


def test_missing_or_broken_input(tmp_path):
    with pytest.raises(InputError, match="no such"):
        discover([tmp_path / "nope.zip"])
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable zip"):
        discover([tmp_path / "bad.zip"])


def test_one_student_folder_for_lms_hooks(tmp_path):
    (tmp_path / "sub").mkdir()
    assert "no .py" in inputs.one_student(tmp_path / "sub", "student", "gradescope").problem
    (tmp_path / "sub" / "main.py").write_bytes(GOOD)
    assert inputs.one_student(tmp_path / "sub", "student", "gradescope").data == GOOD
    (tmp_path / "sub" / "other.py").write_bytes(b"y = 1\n")
    assert inputs.one_student(tmp_path / "sub", "student", "gradescope").problem.startswith("ambiguous")
