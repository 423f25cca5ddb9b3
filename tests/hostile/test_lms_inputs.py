"""Issue 15, instructor-side inputs: one student's broken or hostile upload may cost that student's row and
nothing else. Host-side (no sandbox): discovery and the exports run on exports and folders built here."""

import io
import os
import zipfile
from pathlib import Path

import pytest

import reports
import test_batch_inputs
from grader.batch import exports, run
from grader.batch.executor import Executor, Settings
from grader.batch.inputs import Caps, discover
from grader.batch.store import Store

GOOD = b"print('alice trains here')\n"
# test_batch_inputs' receipt, with room for what the student writes in its comment
RECEIPT = test_batch_inputs.RECEIPT.replace("There are no student comments for this assignment.", "{comment}")


def zip_bytes(entries: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def undecodable(entries: dict, marker: str = "éé") -> bytes:
    """A zip whose entry named with MARKER carries the UTF-8 flag over bytes that are not UTF-8."""
    return zip_bytes(entries).replace(marker.encode(), b"\xff\xfe\xff\xfe")


def by_id(found) -> dict:
    return {s.id: s for s in found.students}


def exports_of(students, tmp_path: Path) -> Path:
    """Store the roster, give every student with a file a full-marks report, and write every export."""
    store = Store(tmp_path / "grader.db")
    store.set_roster(students)
    run = store.begin_run("grader grade x", "d", "v", [])
    for s in students:
        if s.data is not None:
            store.save(s.sha256, "d", "v", reports.full_marks(s.filename).model_dump_json(), run)
    out = tmp_path / "out"
    exports.write_all(out, store.rows("d", "v"), {**store.run_info(run), "started_at": "2026-01-02T03:04:05Z"},
                      format_names=("gradescope", "github-classroom", "prairielearn", "junit"))
    store.close()
    return out


def corrupt_deflate() -> bytes:
    data = bytearray(zip_bytes({"train.py": GOOD * 50}))
    data[40:48] = b"\xff" * 8  # inside the compressed stream of the only entry
    return bytes(data)


BROKEN_NESTED = {
    "garbage": (b"PK\x03\x04 this is not a zip", "hw.zip (not read: not a readable zip"),
    "truncated": (zip_bytes({"train.py": GOOD * 50})[:-30], "hw.zip (not read: not a readable zip"),
    "corrupt data": (corrupt_deflate(), "train.py (not read: unreadable"),
    "too many entries": (zip_bytes({f"f{i}.py": b"x" for i in range(12)}),
                         "hw.zip (not read: 12 entries, over the cap"),
}


@pytest.mark.parametrize("kind", BROKEN_NESTED)
def test_a_broken_nested_zip_costs_only_its_student(tmp_path, kind):
    data, why = BROKEN_NESTED[kind]
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "train.py").write_bytes(GOOD)
    (tmp_path / "class" / "mallory").mkdir()
    (tmp_path / "class" / "mallory" / "hw.zip").write_bytes(data)
    found = by_id(discover([tmp_path / "class"], caps=Caps(entries=10)))
    assert found["alice"].data == GOOD
    assert found["mallory"].data is None and why in found["mallory"].problem, found["mallory"].problem


def test_a_zip_with_an_undecodable_name_inside_a_canvas_export_is_read(tmp_path):
    """A name flagged UTF-8 that is not made zipfile refuse the whole archive: it is read as bytes instead."""
    export = tmp_path / "submissions.zip"
    export.write_bytes(zip_bytes({"alicelee_101_1_train.py": GOOD,
                                  "mallory_102_2_hw.zip": undecodable({"éé.py": b"mallory = 1\n"})}))
    found = by_id(discover([export]))
    assert found["101"].data == GOOD
    assert found["102"].data == b"mallory = 1\n" and found["102"].filename.encode()


def test_an_undecodable_entry_name_in_the_export_costs_only_that_entry(tmp_path):
    export = tmp_path / "submissions.zip"
    export.write_bytes(undecodable({"alicelee_101_1_train.py": GOOD, "mallory_102_2_éé.py": b"x = 1\n"}))
    found = by_id(discover([export]))
    assert found["101"].data == GOOD and found["102"].data == b"x = 1\n"
    assert all(s.id.encode() and s.filename.encode() for s in found.values())  # valid text throughout


def test_undecodable_file_names_on_disk_reach_every_export(tmp_path):
    """Linux file names are bytes: one that is not UTF-8 must neither stop the store nor any export."""
    root = tmp_path / "class"
    root.mkdir()
    (root / "alice.py").write_bytes(GOOD)
    os.makedirs(os.fsencode(root) + b"/m\xffllory")
    with open(os.fsencode(root) + b"/m\xffllory/tr\xfein.py", "wb") as fh:
        fh.write(b"y = 2\n")
    found = discover([root])
    out = exports_of(found.students, tmp_path)
    text = (out / "grades.csv").read_text(encoding="utf-8-sig")
    assert "alice" in text and "llory" in text
    assert len(list((out / "reports").iterdir())) == 2 and len(list((out / "pages").iterdir())) == 2


def test_long_non_ascii_names_fit_every_export_and_stay_apart(tmp_path):
    """Names are bounded in bytes (255 per file name), not characters; two that differ only past the bound
    must still get two files."""
    first, second = "名" * 199 + "一", "名" * 199 + "二"
    students = [exports_student(first), exports_student(second), exports_student("alice")]
    out = exports_of(students, tmp_path)
    for folder in ("reports", "pages", "junit", "github-classroom", "gradescope", "prairielearn"):
        names = [p.name for p in (out / folder).iterdir()]
        assert len(names) == 3 and all(len(n.encode()) <= 255 for n in names), (folder, names)
    assert len((out / "grades.csv").read_text(encoding="utf-8-sig").splitlines()) == 4


def exports_student(sid: str):
    from grader.batch.inputs import Student

    return Student(id=sid, source="folder", file=f"{sid}/train.py", filename="train.py", data=sid.encode())


def bb(user: str, ts: str) -> str:
    return f"HW1_{user}_attempt_{ts}"


ALICE, MALLORY, BOB = (bb("alice", "2025-03-01-09-00-00"), bb("mallory", "2025-03-02-09-00-00"),
                       bb("bob", "2025-03-01-10-00-00"))


def attempt(prefix: str, name: str, user: str, orig: str, data: bytes, comment: str = "none") -> dict:
    """One Blackboard attempt: its receipt and its file."""
    return {f"{prefix}.txt": RECEIPT.format(name=name, user=user, comment=comment, orig=orig, fname=f"{prefix}_{orig}"),
            f"{prefix}_{orig}": data}


def blackboard(tmp_path: Path, entries: dict) -> dict:
    export = tmp_path / "gradebook_CS101_HW1.zip"
    export.write_bytes(zip_bytes(entries))
    return by_id(discover([export]))


def test_a_blackboard_comment_cannot_claim_another_students_file(tmp_path):
    """mallory's receipt comment names alice's file: only the structured Files block counts, and only files
    of mallory's own attempt."""
    comment = f"see my file\n\tOriginal filename: train.py\n\tFilename: {ALICE}_train.py\n"
    found = blackboard(tmp_path, {**attempt(ALICE, "Alice Lee", "alice", "train.py", GOOD),
                                  **attempt(MALLORY, "Mal Lory", "mallory", "hw.pdf", b"%PDF", comment)})
    assert found["alice"].data == GOOD
    assert found["mallory"].data is None and found["mallory"].problem.startswith("no .py"), found["mallory"]


def test_a_blackboard_comment_cannot_take_a_file_that_has_no_receipt(tmp_path):
    """alice's attempt came without a receipt (her file name alone says who): mallory's comment that lists
    it must not take it from her, nor make her disappear."""
    comment = f"Files:\n\tOriginal filename: mine.py\n\tFilename: {ALICE}_train.py\n"
    found = blackboard(tmp_path, {f"{ALICE}_train.py": GOOD,
                                  **attempt(MALLORY, "Mal Lory", "mallory", "hw.py", b"mallory = 1\n", comment)})
    assert found["alice"].data == GOOD
    assert found["mallory"].data == b"mallory = 1\n" and not found["mallory"].older


def test_a_blackboard_receipt_cannot_speak_for_another_username(tmp_path):
    """The receipt's own file name is Blackboard's: a Name line claiming another username does not move
    mallory's attempt into alice's row."""
    found = blackboard(tmp_path, {**attempt(ALICE, "Alice Lee", "alice", "train.py", GOOD),
                                  **attempt(MALLORY, "Alice Lee", "alice", "train.py", b"mallory = 1\n")})
    assert found["alice"].data == GOOD and not found["alice"].older
    assert found["mallory"].data == b"mallory = 1\n"


def test_a_blackboard_file_name_cannot_pose_as_a_later_attempt_of_another_student(tmp_path):
    """Without receipts the file name says who: the part the student chose (after the first stamp) may look
    like another student's newer attempt, and must not become one. (bob's receipt makes it a Blackboard
    export.)"""
    found = blackboard(tmp_path, {f"{ALICE}_train.py": GOOD,
                                  f"{MALLORY}_x_alice_attempt_2099-01-01-00-00-00_train.py": b"mallory = 1\n",
                                  **attempt(BOB, "Bob", "bob", "a.py", b"bob = 1\n")})
    assert found["alice"].data == GOOD and not found["alice"].older
    assert found["mallory"].data == b"mallory = 1\n"


def test_a_named_pipe_in_a_students_folder_is_refused_not_read(tmp_path):
    """An unpacked tar can hold a FIFO named train.py: reading it would block the whole class forever."""
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "train.py").write_bytes(GOOD)
    (tmp_path / "class" / "mallory").mkdir()
    os.mkfifo(tmp_path / "class" / "mallory" / "train.py")
    found = by_id(discover([tmp_path / "class"]))
    assert found["alice"].data == GOOD
    assert "train.py (not read: not a regular file)" in found["mallory"].problem


def test_a_name_with_a_superscript_digit_is_a_name(tmp_path):
    """'²' is a digit to str.isdigit() and not to int(): a student's file named like a Canvas entry with one
    must not stop the class."""
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "alice.py").write_bytes(GOOD)
    (tmp_path / "class" / "anon_x_²_hw.py").write_bytes(b"x = 1\n")
    found = by_id(discover([tmp_path / "class"]))
    assert found["alice"].data == GOOD and found["anon_x_²_hw"].data == b"x = 1\n"


class Recorder(Executor):
    """Grades nothing: records the name each file would be graded under, and gives it full marks."""

    def __init__(self):
        self.names = []

    def run(self, work):
        for w in work:
            self.names.append(w.name)
            yield w, reports.full_marks(w.name).model_dump_json()


def test_identical_files_are_read_as_what_they_are_not_as_the_first_owner_named_them(tmp_path):
    """A batch grades identical bytes once, under one owner's file name: 'aaron' (first in order) names
    alice's Python file .ipynb, which must not make alice's file read as a notebook."""
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "train.py").write_bytes(GOOD)
    (tmp_path / "class" / "aaron").mkdir()
    (tmp_path / "class" / "aaron" / "train.ipynb").write_bytes(GOOD)
    recorder = Recorder()
    plan = run.Plan(inputs=[tmp_path / "class"], out=tmp_path / "out", settings=Settings(rubric={}),
                    rubric_digest="d", jobs=1, progress="quiet")
    assert run.run(plan, recorder).students == 2
    assert recorder.names == ["train.py"]
