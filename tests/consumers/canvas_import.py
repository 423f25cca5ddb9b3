"""The parsing half of Canvas's gradebook CSV import, transcribed from lib/gradebook_importer.rb of
github.com/instructure/canvas-lms at 00b222d77ee43d046e6aee0347c4ed5b27e1741f (AGPL-3.0; methods named, lines
as that file numbers them) and Assignment.title_and_id (app/models/assignment.rb). Canvas's code is not
vendored. What it leaves to the database (which students and assignments exist) is the `course` argument.

Canvas then stores each grade cell, unscaled, as the score of that student on that assignment (a points
assignment's grade is its score): the cell, not the Points Possible row, decides what a student gets.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

RESERVED = ("Student", "LastName", "FirstName", "ID", "SIS User ID", "SIS Login ID", "Section", "Integration ID",
            "Root Account")  # GRADEBOOK_IMPORTER_RESERVED_NAMES
NON_ASSIGNMENT = ("Current Score", "Current Points", "Current Grade", "Final Score", "Final Points", "Final Grade",
                  "Override Score", "Override Grade", "Override Status")  # NON_ASSIGNMENT_COLUMN_HEADERS


class InvalidHeaderRow(Exception):
    """Canvas fails the whole import: "Invalid header row" (parse!)."""


@dataclass
class Course:
    students: dict[int, str]  # Canvas user id -> name
    assignments: dict[int, str]  # assignment id -> title


@dataclass
class Parsed:
    assignments: list[dict] = field(default_factory=list)  # {id, title, new, points_possible}
    students: list[dict] = field(default_factory=list)  # {id, name (Canvas's, once matched), new, grades: [cells]}


def _decimal_comma_to_period(cell: str | None) -> str | None:
    """CSV::Converters[:decimal_comma_to_period]."""
    if cell is None or not re.fullmatch(r"-?[0-9.,]+%?", cell):
        return cell
    *head, last = re.split(r"[,.]", cell)
    return last if not head else "".join(head) + "." + last


def _delimiter(text: str) -> str:
    """semicolon_delimited? / identify_delimiter: the separator that splits the first three lines into the same
    number of fields, `;` only when it gives more fields than `,`."""
    first = text.splitlines(keepends=True)[:3]
    counts = {}
    for sep in (";", ","):
        sizes = {len(next(csv.reader([line], delimiter=sep), [])) for line in first}
        counts[sep] = sizes.pop() if len(sizes) == 1 else 0
    return ";" if counts[";"] > counts[","] else ","


def _rows(text: str):
    """csv_stream: skip_lines /^[;, ]+$/, converters nil and decimal_comma_to_period on every cell."""
    sep = _delimiter(text)
    for line in csv.reader(io.StringIO(text), delimiter=sep):
        if line and re.fullmatch(r"[;, ]+", sep.join(line)):
            continue
        yield [_decimal_comma_to_period(c) for c in line]


def title_and_id(header: str) -> tuple[str, str | None]:
    """Assignment.title_and_id: `Title (123)`."""
    m = re.fullmatch(r"(.*)\s\((\d+)\)", header, flags=re.S)
    return (m.group(1), m.group(2)) if m else (header, None)


def _student_columns(row: list[str]) -> int:
    """header? / row_has_student_headers? / update_column_count (Student, ID[, SIS ids], Section)."""
    if not (len(row) > 3 and "Student" in row[0] and "ID" in row[1]):
        raise InvalidHeaderRow("Invalid header row")
    n = 3
    if re.search(r"SIS\s+Login\s+ID", row[n - 1]):
        n += 1
    elif re.search(r"SIS\s+User\s+ID", row[n - 1]) and re.search(r"SIS\s+Login\s+ID", row[n]):
        extra = 1 if re.search(r"Integration\s+ID", row[n + 1] if len(row) > n + 1 else "") else 0
        n += 2 + extra + (1 if re.search(r"Root\s+Account", row[n + 1 + extra] if len(row) > n + 1 + extra else "")
                          else 0)
    if "Section" not in row[n - 1]:  # last_student_info_column
        raise InvalidHeaderRow("Invalid header row")
    return n


def parse(text: str, course: Course) -> Parsed:
    """parse!'s csv_stream loop: header, Points Possible, muted rows, then one student per row."""
    out = Parsed()
    indices: list[int] = []
    for row in _rows(text):
        if not indices:  # process_header
            n = _student_columns(row)
            for i, header in enumerate(row[n:], n):  # strip_non_assignment_columns, parse_assignments
                if any(word in header for word in NON_ASSIGNMENT):
                    continue
                title, aid = title_and_id(header)
                found = int(aid) if aid and int(aid) in course.assignments else next(
                    (k for k, t in course.assignments.items() if t == header), None)  # backward compat: exact title
                out.assignments.append({"id": found, "title": title, "new": found is None, "points_possible": None})
                indices.append(i)
            continue
        if row[0] and "Points Possible" in row[0]:  # process_pp
            for a, i in zip(out.assignments, indices):
                a["points_possible"] = row[i] if i < len(row) and row[i] else a["points_possible"]
            continue
        if all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c or "", flags=re.I) for c in row if c is not None):
            continue
        digits = re.match(r"\s*[-+]?\d+", row[1] or "")  # process_student: student_id.to_i
        sid = int(digits.group()) if digits else None
        if sid not in course.students:
            sid = next((k for k, name in course.students.items() if name == row[0]), None)
        out.students.append({"id": sid, "name": course.students.get(sid, row[0]), "new": sid is None,
                             "grades": [(row[i] or "").strip() if i < len(row) else None for i in indices]})
    return out


def recorded_score(cell: str) -> float | None:
    """What a points assignment stores for a grade cell: the number itself; blank or `-` keeps no score."""
    return None if cell in ("", "-") else float(cell)
