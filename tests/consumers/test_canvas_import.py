"""The Canvas gradebook CSV of the six real gradings, read by Canvas's import parsing (consumers/canvas_import.py,
transcribed from canvas-lms): which students and which assignment it matches, and the score each student gets,
as exported and with --points scaling to what the Canvas assignment is worth."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from consumers import canvas_import as canvas
from grader.batch import exports
from grader.batch.inputs import Student
from grader.batch.store import Row

CASES = ("pass", "partial", "crash", "timeout", "invalid", "internal_error")
IDS = {case: 101 + i for i, case in enumerate(CASES)}
COURSE = canvas.Course(students={IDS[c]: f"Student {c}" for c in CASES}, assignments={4321: "HW1 MNIST"})
# the grade cell Canvas reads, as exported (the rubric's 100 points) and with --points 10
CELLS = {"pass": ("100", "10"), "partial": ("75", "7.5"), "crash": ("72", "7.2"), "timeout": ("0", "0"),
         "invalid": ("0", "0")}  # internal_error: left out, so Canvas keeps what it had


def class_rows(gradings) -> list[Row]:
    return [Row(Student(id=str(IDS[c]), source="canvas", name=f"Student {c}"), c, gradings[c].report_json)
            for c in CASES]


@pytest.fixture(scope="module", params=[None, 10], ids=["rubric-points", "points-10"])
def imported(request, gradings):
    text, skipped = exports.gradebook("canvas", class_rows(gradings), "HW1 MNIST", "4321", "", points=request.param)
    return request.param, text, skipped, canvas.parse(text, COURSE)


def test_canvas_matches_the_assignment_by_id_and_every_student_by_canvas_id(imported):
    points, _, skipped, parsed = imported
    assert parsed.assignments == [{"id": 4321, "title": "HW1 MNIST", "new": False,
                                   "points_possible": "100" if points is None else "10"}]
    assert [(s["id"], s["new"]) for s in parsed.students] == [(IDS[c], False) for c in CELLS]
    assert skipped == [str(IDS["internal_error"])]


def test_the_score_each_student_gets(imported):
    points, _, _, parsed = imported
    got = {s["id"]: s["grades"][0] for s in parsed.students}
    assert got == {IDS[c]: cells[0 if points is None else 1] for c, cells in CELLS.items()}
    # what the student sees on a Canvas assignment worth 10: the cell over 10
    partial = canvas.recorded_score(got[IDS["partial"]])
    assert f"{partial:g}/10" == ("75/10" if points is None else "7.5/10")  # 750% unless scaled


def test_without_the_column_id_canvas_would_make_a_new_assignment(gradings):
    text, _ = exports.gradebook("canvas", class_rows(gradings), "HW1 MNIST", "4321", "")
    titled = text.replace("HW1 MNIST (4321)", "HW1 - MNIST", 1)  # a title that is not Canvas's exact title
    assert canvas.parse(titled, COURSE).assignments[0]["new"] is True


def test_names_with_separators_or_formulas_do_not_move_a_grade(gradings):
    rows = class_rows(gradings)
    rows[1].student.name = 'Smith; "Bob", =HYPERLINK("x")'
    text, _ = exports.gradebook("canvas", rows, "HW1 MNIST", "4321", "")
    parsed = canvas.parse(text, COURSE)
    assert {s["id"]: s["grades"][0] for s in parsed.students}[IDS["partial"]] == "75"


def test_a_file_that_is_not_canvas_shaped_fails_the_whole_import():
    with pytest.raises(canvas.InvalidHeaderRow):
        canvas.parse("student,score\r\n101,75\r\n", COURSE)


RUBY_CSV = """
require "csv"; require "json"
# the options csv_stream passes (its converters leave plain numbers such as ours as they are)
rows = CSV.parse(STDIN.read, skip_lines: /^[;, ]+$/, col_sep: ARGV[0])
puts JSON.generate(rows)
"""


@pytest.mark.slow  # a second proof: Ruby's own CSV parser, the one Canvas uses, splits our file the same way
def test_rubys_csv_reads_our_gradebook_as_the_transcription_does(imported):
    ruby = shutil.which("ruby")
    assert ruby, "install Ruby (apt-get install -y ruby) for this proof"
    _, text, _, _ = imported
    done = subprocess.run([ruby, "-e", RUBY_CSV, ","], input=text, capture_output=True, text=True, check=True)
    theirs = [[c if c is not None else "" for c in row] for row in json.loads(done.stdout)]
    assert theirs == [[c or "" for c in row] for row in canvas._rows(text)]
