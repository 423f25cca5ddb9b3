"""`grader serve roster`: one token per person on the roster, shown once in DIR/tokens.csv, stored hashed."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from urllib.parse import quote

from grader import inert
from grader.serve.store import INSTRUCTOR, STUDENT, ServeStore

ROLES = (STUDENT, INSTRUCTOR)


class RosterError(ValueError):
    """A roster that cannot be read; the message says which row and why."""


def read_roster(path: Path) -> list[tuple[str, str, str | None]]:
    """(student, role, name) per row. ROSTER: a `student` column, optional `name`, `email`, `role`."""
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    if "student" not in (reader.fieldnames or []):
        raise RosterError(f"{path} has no `student` column (found: {', '.join(reader.fieldnames or []) or 'none'})")
    people, seen = [], set()
    for line, row in enumerate(reader, start=2):
        student = (row.get("student") or "").strip()
        role = (row.get("role") or STUDENT).strip().lower() or STUDENT
        if not student:
            raise RosterError(f"{path}, line {line}: the student column is empty")
        if role not in ROLES:
            raise RosterError(f"{path}, line {line}: role {inert.terminal(role, one_line=True)!r} is neither "
                              f"{' nor '.join(ROLES)}")
        if (student, role) in seen:
            raise RosterError(f"{path}, line {line}: {inert.terminal(student, one_line=True)} appears twice")
        seen.add((student, role))
        people.append((student, role, (row.get("name") or "").strip() or None))
    if not people:
        raise RosterError(f"{path} lists nobody")
    return people


def issue(roster: Path, course: Path, base_url: str) -> Path:
    """Write COURSE/tokens.csv (student,role,token,url), readable by its owner only; returns its path."""
    people = read_roster(roster)
    course.mkdir(parents=True, exist_ok=True)
    store = ServeStore(course / "grader.db")
    try:
        tokens = store.issue_tokens(people)
    finally:
        store.close()
    out = course / "tokens.csv"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student", "role", "token", "url"])
    for (student, role, _), token in zip(people, tokens):
        writer.writerow([inert.csv_cell(student), role, token, f"{base_url.rstrip('/')}/signin?token={quote(token)}"])
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the only copy of every token
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(buf.getvalue())
    return out
