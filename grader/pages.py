"""Reading stored reports and writing their pages to disk: the file side of grader/html.py's pure functions,
shared by `grader report` and batch grading."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from grader import html, inert
from grader.report import Report


class ReportError(Exception):
    """A report file that is not a grader report; the message names it."""


def load_reports(inputs: list[Path]) -> list[tuple[str, Report]]:
    """(student id, report) for each JSON file named or found in a named folder. The id is the file's stem."""
    files = []
    for path in map(Path, inputs):
        files += sorted(path.glob("*.json")) if path.is_dir() else [path]
    out = []
    for file in files:
        try:
            out.append((file.stem, Report.model_validate_json(file.read_bytes())))
        except (ValidationError, ValueError, OSError) as exc:
            first = str(exc).strip().splitlines()[0][:200]
            raise ReportError(f"{file} is not a grader report ({first})") from None
    if not out:
        raise ReportError(f"no report (*.json) found in {', '.join(map(str, inputs))}")
    return out


def page_name(student: str, taken: set[str]) -> str:
    """A file name for a student's page: safe characters only, unique within the folder."""
    stem = inert.file_name(student, limit=200).strip("._") or "student"  # bounded in bytes, cut names hashed
    name, n = f"{stem}.html", 2
    while name.lower() in taken or name.lower() == "index.html":
        name, n = f"{stem}-{n}.html", n + 1
    taken.add(name.lower())
    return name


def write_class(reports: list[tuple[str, Report]], index: Path, title: str = "Class report") -> int:
    """Write every student's page beside `index`, then the class page linking to them."""
    index.parent.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    entries = []
    for student, rep in reports:
        name = page_name(student, taken)
        (index.parent / name).write_text(html.student_page(rep), encoding="utf-8")
        entries.append((student, rep, name))
    index.write_text(html.class_index(entries, title=title), encoding="utf-8")
    return len(entries)
