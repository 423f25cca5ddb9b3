"""The results store: DIR/grader.db, SQLite in WAL mode. Every file a batch writes is an export of it.

A verdict is keyed by what it depends on: (submission sha256, rubric digest, grader version). Each report
is committed in its own transaction the moment it arrives, so `kill -9` loses only the submissions that
were still running. The roster (which student handed in which file) is replaced as a whole on each run.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from grader.batch.inputs import Student

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    sha256 TEXT NOT NULL, rubric_digest TEXT NOT NULL, grader_version TEXT NOT NULL,
    status TEXT NOT NULL, score REAL NOT NULL, max_score REAL NOT NULL, seconds REAL,
    report TEXT NOT NULL, run_id INTEGER NOT NULL, graded_at TEXT NOT NULL,
    PRIMARY KEY (sha256, rubric_digest, grader_version));
CREATE TABLE IF NOT EXISTS roster (
    position INTEGER PRIMARY KEY, student TEXT NOT NULL UNIQUE, name TEXT, source TEXT, file TEXT,
    filename TEXT, sha256 TEXT, older TEXT NOT NULL, problem TEXT);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, command TEXT NOT NULL,
    rubric_digest TEXT NOT NULL, grader_version TEXT NOT NULL, warnings TEXT NOT NULL, outcome TEXT);
"""
INFRASTRUCTURE = ("internal_error",)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Row:
    """One student of the roster, with the stored report of their file (None: not graded yet, or a problem)."""

    student: Student
    sha256: str | None
    report: str | None


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a committed report survives a power cut too
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def _tx(self, statements) -> None:
        with self.db:  # sqlite3's context manager: one transaction, rolled back on error
            self.db.execute("BEGIN IMMEDIATE")
            for sql, args in statements:
                self.db.execute(sql, args)

    # ------------------------------------------------------------------ runs and roster
    def begin_run(self, command: str, digest: str, version: str, warnings: list[str]) -> int:
        cur = self.db.execute("INSERT INTO runs (started_at, command, rubric_digest, grader_version, warnings) "
                              "VALUES (?, ?, ?, ?, ?)", (_now(), command, digest, version, json.dumps(warnings)))
        return cur.lastrowid

    def end_run(self, run_id: int, outcome: str) -> None:
        self.db.execute("UPDATE runs SET finished_at = ?, outcome = ? WHERE id = ?", (_now(), outcome, run_id))

    def run_info(self, run_id: int) -> dict:
        row = self.db.execute("SELECT command, rubric_digest, grader_version, warnings, started_at FROM runs "
                              "WHERE id = ?", (run_id,)).fetchone()
        return {"command": row[0], "rubric_digest": row[1], "grader_version": row[2],
                "warnings": json.loads(row[3]), "started_at": row[4]}

    def set_roster(self, students: list[Student]) -> None:
        rows = [("INSERT INTO roster VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (i, s.id, s.name, s.source, s.file, s.filename, s.sha256, json.dumps(s.older), s.problem))
                for i, s in enumerate(students)]
        self._tx([("DELETE FROM roster", ())] + rows)

    # ------------------------------------------------------------------ results
    def graded(self, digest: str, version: str, retry_errors: bool = False) -> set[str]:
        """sha256 of every submission that already has a verdict under this rubric and grader."""
        sql = "SELECT sha256 FROM results WHERE rubric_digest = ? AND grader_version = ?"
        if retry_errors:
            sql += f" AND status NOT IN ({','.join('?' * len(INFRASTRUCTURE))})"
        return {r[0] for r in self.db.execute(sql, (digest, version, *(INFRASTRUCTURE if retry_errors else ())))}

    def save(self, sha256: str, digest: str, version: str, report_json: str, run_id: int) -> None:
        self._tx([self.result_row(sha256, digest, version, report_json, run_id)])

    @staticmethod
    def result_row(sha256: str, digest: str, version: str, report_json: str, run_id: int) -> tuple[str, tuple]:
        """The statement that stores a verdict, for callers that commit more in the same transaction."""
        rep = json.loads(report_json)
        return ("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sha256, digest, version, rep["status"], rep["score"], rep["max_score"],
                 (rep.get("timings") or {}).get("total_s"), report_json, run_id, _now()))

    def result_runs(self, digest: str, version: str) -> dict[str, int]:
        """sha256 -> the run that graded it (how a resumed batch shows it graded nothing twice)."""
        return dict(self.db.execute("SELECT sha256, run_id FROM results WHERE rubric_digest = ? AND "
                                    "grader_version = ?", (digest, version)))

    def rows(self, digest: str, version: str) -> list[Row]:
        out = []
        for r in self.db.execute(
                "SELECT r.student, r.name, r.source, r.file, r.filename, r.sha256, r.older, r.problem, x.report "
                "FROM roster r LEFT JOIN results x ON x.sha256 = r.sha256 AND x.rubric_digest = ? "
                "AND x.grader_version = ? ORDER BY r.position", (digest, version)):
            student = Student(id=r[0], name=r[1], source=r[2], file=r[3], filename=r[4], older=json.loads(r[6]),
                              problem=r[7])
            out.append(Row(student, r[5], r[8]))
        return out
