"""The results store and the exports made from it, on reports built by hand (no grading here)."""

import csv
import json
import os
import sqlite3
from pathlib import Path

import pytest

import reports
from grader.batch import exports
from grader.batch.executor import cpu_shares
from grader.batch.inputs import Student
from grader.batch.store import Store
from grader.report import CHECK_IDS, Report

GOLDEN = Path(__file__).parent / "golden" / "batch"
DIGEST, VERSION = "e712935502e3c468", "0.1.0"


def student(sid, data=b"x", source="canvas", name=None, problem=None, older=(), filename="train.py"):
    return Student(id=sid, source=source, name=name, file=f"export.zip:{sid}_{filename}" if data else None,
                   filename=filename if data else None, data=data, older=list(older), problem=problem)


@pytest.fixture
def store(tmp_path):
    st = Store(tmp_path / "grader.db")
    yield st
    st.close()


def class_of_five(store) -> list:
    """alice full marks, bob no zero_grad (a formula-like name), carol crashed, dave ambiguous, erin and
    frank the same file (a shared report)."""
    roster = [student("101", b"alice", name="alice"), student("102", b"bob", name="=cmd|' /C calc'!A0",
                                                                older=["export.zip:102_old.py"]),
              student("103", b"carol", name="carol"),
              student("104", None, name="dave", problem="ambiguous: 2 candidate files (a.py, b.py); keep one"),
              student("105", b"same", name="erin"), student("106", b"same", name="frank")]
    store.set_roster(roster)
    run = store.begin_run("grader grade export.zip --out x", DIGEST, VERSION, ["skipped export.zip:../evil.py: path traversal ('..')"])
    for s, rep in ((roster[0], reports.full_marks("train.py")), (roster[1], reports.no_zero_grad("train.py")),
                   (roster[2], reports.crashed("train.py")), (roster[4], reports.full_marks("train.py"))):
        store.save(s.sha256, DIGEST, VERSION, rep.model_dump_json(), run)
    return roster, run


def test_each_report_is_committed_at_once_and_keyed_by_what_it_depends_on(store, tmp_path):
    roster, run = class_of_five(store)
    other = sqlite3.connect(tmp_path / "grader.db")  # another process sees every saved report: nothing in flight
    assert other.execute("SELECT count(*) FROM results").fetchone()[0] == 4
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.graded(DIGEST, VERSION) == {s.sha256 for s in roster if s.data and s.id != "106"}
    assert store.graded("another-rubric", VERSION) == set() and store.graded(DIGEST, "9.9") == set()


def test_retry_errors_leaves_infrastructure_errors_out_of_the_done_set(store):
    roster, run = class_of_five(store)
    store.save(roster[0].sha256, DIGEST, VERSION, reports.internal_error().model_dump_json(), run)
    assert roster[0].sha256 in store.graded(DIGEST, VERSION)
    assert roster[0].sha256 not in store.graded(DIGEST, VERSION, retry_errors=True)


def test_roster_is_replaced_whole_and_rows_join_the_reports(store):
    roster, _ = class_of_five(store)
    rows = store.rows(DIGEST, VERSION)
    assert [r.student.id for r in rows] == ["101", "102", "103", "104", "105", "106"]
    assert rows[3].report is None and rows[3].student.problem.startswith("ambiguous")
    assert rows[4].report == rows[5].report  # identical files share one verdict
    store.set_roster(roster[:2])
    assert [r.student.id for r in store.rows(DIGEST, VERSION)] == ["101", "102"]


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    assert text.encode() == path.read_bytes(), f"{path} differs (UPDATE_GOLDEN=1 regenerates it)"


def test_grades_csv_golden_and_spreadsheet_safe(store):
    class_of_five(store)
    text = exports.grades_csv(store.rows(DIGEST, VERSION))
    golden("grades.csv", text)
    assert text.startswith("\ufeff") and "\r\n" in text
    table = list(csv.DictReader(text.lstrip("\ufeff").splitlines()))
    assert list(table[0])[:4 + len(CHECK_IDS)] == ["student", "score", "max_score", "status", *CHECK_IDS]
    by = {r["student"]: r for r in table}
    assert by["101"]["score"] == "100" and by["102"]["score"] == "75" and by["102"]["zero_grad"] == "0"
    assert by["102"]["name"].startswith("'=")  # never a live formula
    assert by["104"]["status"] == "ambiguous" and by["104"]["score"] == "" and "a.py" in by["104"]["message"]
    assert by["103"]["status"] == "runtime_error"


@pytest.mark.parametrize("kind", exports.GRADEBOOKS)
def test_gradebooks_golden(store, kind):
    class_of_five(store)
    rows = store.rows(DIGEST, VERSION)
    for r in rows:
        r.student.source = kind
    text, skipped = exports.gradebook(kind, rows, "HW1 MNIST", "4321", "2026-01-02 03:04:05")
    golden(f"gradebook-{kind}.csv", text)
    assert skipped == ["104"]  # no verdict: the LMS keeps what it has
    table = list(csv.reader(text.splitlines()))
    if kind == "canvas":
        assert table[0][:2] == ["Student", "ID"] and table[0][-1] == "HW1 MNIST (4321)"
        assert table[1][0] == "Points Possible" and ["101", "100"] == [table[2][1], table[2][-1]]
    if kind == "moodle":
        assert {"Identifier", "Grade", "Last modified (grade)"} <= set(table[0])
        assert table[1][0] == "Participant 101"
    if kind == "blackboard":
        assert table[0] == ["Username", "HW1 MNIST [Total Pts: 100] |4321"]
        assert all(line.startswith('"') for line in text.splitlines())  # every field quoted


@pytest.mark.parametrize("kind", exports.GRADEBOOKS)
def test_an_infrastructure_error_never_becomes_a_gradebook_zero(store, kind):
    roster, run = class_of_five(store)
    store.save(roster[0].sha256, DIGEST, VERSION, reports.internal_error().model_dump_json(), run)
    rows = store.rows(DIGEST, VERSION)
    for r in rows:
        r.student.source = kind
    text, skipped = exports.gradebook(kind, rows, "HW1", "1", "")
    assert "101" in skipped and not any("101" in cell for row in csv.reader(text.splitlines()) for cell in row[:2])


def test_gradebook_leaves_out_students_of_another_lms(store):
    class_of_five(store)
    rows = store.rows(DIGEST, VERSION)
    rows[0].student.source = "folder"
    text, skipped = exports.gradebook("canvas", rows, "HW1", "1", "")
    assert "101" in skipped and ",101," not in text


@pytest.mark.parametrize("kind, worth, bob", [  # bob scored 75/100: at 10 points, 7.5
    ("canvas", ["Points Possible", "", "", "10"], ["'=cmd|' /C calc'!A0", "102", "", "7.5"]),
    ("moodle", ["Identifier", "Full name", "Grade", "Maximum Grade"], ["Participant 102", "'=cmd|' /C calc'!A0",
                                                                      "7.50", "10.00"]),
    ("blackboard", ["Username", "HW1 [Total Pts: 10] |1"], ["102", "7.5"]),
])
def test_gradebook_points_scale_every_score_to_what_the_assignment_is_worth(store, kind, worth, bob):
    class_of_five(store)
    rows = store.rows(DIGEST, VERSION)
    for r in rows:
        r.student.source = kind
    text, _ = exports.gradebook(kind, rows, "HW1", "1", "", points=10)
    table = list(csv.reader(text.splitlines()))
    assert table[1 if kind == "canvas" else 0][:len(worth)] == worth
    assert [row[:len(bob)] for row in table if "102" in row[0] or row[1:2] == ["102"]] == [bob]


@pytest.mark.parametrize("kind", exports.GRADEBOOKS)
def test_a_gradebook_with_no_student_from_that_lms_is_refused_with_the_fix(store, kind):
    class_of_five(store)
    rows = store.rows(DIGEST, VERSION)
    for r in rows:
        r.student.source = "folder"
    with pytest.raises(exports.ExportError) as err:
        exports.gradebook(kind, rows, "HW1", "1", "")
    assert exports.LMS_NAMES[kind] in str(err.value) and "zip" in err.value.fix


def test_one_export_that_breaks_takes_no_other_with_it(store, tmp_path, monkeypatch):
    class_of_five(store)
    rows = store.rows(DIGEST, VERSION)
    for r in rows:
        r.student.source = "folder"  # no Canvas ids: that gradebook cannot be made

    def broken(name, rep):
        raise KeyError("a bug in one format")

    monkeypatch.setitem(exports.FORMAT_FILES, "github-classroom", broken)
    out = tmp_path / "out"
    written = exports.write_all(out, rows, {**store.run_info(1), "started_at": "2026-01-02T03:04:05Z"},
                                gradebook_kind="canvas", column_id="9",
                                format_names=("github-classroom", "gradescope", "junit"))
    assert [(f.target, f.internal) for f in written.failed] == [("gradebook-canvas.csv", False),
                                                                ("github-classroom/", True)]
    assert "KeyError" in str(written.failed[1]) and "fix: grade the zip" in str(written.failed[0])
    assert not (out / "gradebook-canvas.csv").exists() and not (out / "github-classroom").exists()
    assert (out / "gradescope" / "102" / "results.json").exists() and (out / "junit.xml").exists()
    assert (out / "grades.csv").exists() and (out / "index.html").exists()


def test_write_all_regenerates_every_export_from_the_rows(store, tmp_path):
    class_of_five(store)
    out = tmp_path / "out"
    out.mkdir()
    (out / "reports").mkdir()
    (out / "reports" / "stale.json").write_text("{}")  # a student no longer in the roster
    rows = store.rows(DIGEST, VERSION)
    run = {**store.run_info(1), "started_at": "2026-01-02T03:04:05Z"}
    written = exports.write_all(out, rows, run, gradebook_kind="canvas", column_id="9",
                                format_names=("gradescope", "github-classroom", "prairielearn", "junit"))
    notes = written.notes
    assert written.failed == []
    assert sorted(p.name for p in (out / "reports").iterdir()) == ["101.json", "102.json", "103.json", "105.json",
                                                                   "106.json"]
    rep = Report.model_validate_json((out / "reports" / "102.json").read_text())
    assert rep.student.id == "102" and rep.student.older_attempts == ["export.zip:102_old.py"]
    assert rep.submission.path == "export.zip:102_train.py" and rep.rubric_digest == DIGEST
    gs = json.loads((out / "gradescope" / "102" / "results.json").read_text())
    assert gs["score"] == 75 and (out / "prairielearn" / "102" / "results.json").exists()
    assert (out / "github-classroom" / "102.json").exists() and (out / "junit" / "102.xml").exists()
    assert (out / "junit.xml").read_text().count("<testsuite ") == 5
    assert (out / "gradebook-canvas.csv").exists() and any("104" in n for n in notes)
    summary = (out / "summary.md").read_text()
    for part in ("## Score distribution", "## Pass rate per check", "## Most common failures",
                 "## Slowest submissions", "## Not graded", "## Older attempts", "## Identical files",
                 "path traversal", "| `zero_grad` | 4/5 | 80% |"):
        assert part in summary, part
    assert not list(out.glob("*.tmp")) and not list(out.glob("*.new")) and not list(out.glob("*.old"))
    # the pictures are exports of the same rows: one page per graded student, linked from the class page
    assert sorted(p.name for p in (out / "pages").iterdir()) == ["101.html", "102.html", "103.html", "105.html",
                                                                 "106.html"]
    index = (out / "index.html").read_text()
    assert all(f'href="pages/{sid}.html' in index for sid in ("101", "102", "103", "105", "106"))


def test_student_ids_become_safe_unique_file_names():
    assert exports.safe_name("../../etc/passwd") == "_.._etc_passwd"
    assert exports.safe_name("ana lópez") == "ana_lópez" and exports.safe_name("") == "_"


def test_cpu_shares_are_disjoint_and_cover_the_cores():
    cores = os.sched_getaffinity(0)
    shares = cpu_shares(len(cores))
    assert all(len(s) == 1 for s in shares) and set().union(*shares) == cores
    assert cpu_shares(1) == [None] and cpu_shares(len(cores) + 1) == [None] * (len(cores) + 1)

