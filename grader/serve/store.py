"""The service's tables in the course store: tokens and browser sessions (hashed), submissions (their
bytes), the turn each student was last served in, and one row per grading (how a test proves that a
restart graded nothing twice).

A submission is committed, bytes included, before the server answers 202: after `kill -9` the store alone
says what is left to grade. Its bytes live in the database, never under a name the student chose. The
store is the queue: the grading side claims one file at a time, the oldest of the student served least
recently (round-robin), so one student's 30 uploads take turns with everyone else's.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass

from grader.batch.store import INFRASTRUCTURE, Store, _now

SERVE_SCHEMA = """
CREATE TABLE IF NOT EXISTS serve_tokens (
    token_sha256 TEXT PRIMARY KEY, student TEXT NOT NULL, role TEXT NOT NULL, name TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS serve_submissions (
    id TEXT PRIMARY KEY, student TEXT NOT NULL, filename TEXT NOT NULL, sha256 TEXT NOT NULL,
    rubric_digest TEXT NOT NULL, grader_version TEXT NOT NULL, state TEXT NOT NULL, accepted REAL NOT NULL,
    content BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS serve_by_student ON serve_submissions (student, accepted);
CREATE INDEX IF NOT EXISTS serve_by_state ON serve_submissions (state, sha256);
CREATE TABLE IF NOT EXISTS serve_sessions (
    session_sha256 TEXT PRIMARY KEY, student TEXT NOT NULL, role TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS serve_served (student TEXT PRIMARY KEY, turn INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS serve_gradings (
    sha256 TEXT NOT NULL, rubric_digest TEXT NOT NULL, grader_version TEXT NOT NULL, run_id INTEGER NOT NULL,
    graded_at TEXT NOT NULL);
"""
STUDENT, INSTRUCTOR = "student", "instructor"
WAITING = ("queued", "running")
SETTLED = ", ".join(f"'{s}'" for s in INFRASTRUCTURE)  # a verdict that says the grader itself failed


def token_hash(token: str) -> str:
    """Tokens are 256 random bits: a plain sha256 is enough (nothing to brute-force), and lookups stay O(1)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    student: str
    role: str

    @property
    def instructor(self) -> bool:
        return self.role == INSTRUCTOR


class OverLimit(Exception):
    """An upload past a limit: `per_hour` (then `retry_after` s until the hour's oldest ages out) or `queue`."""

    def __init__(self, limit: str, retry_after: float = 0.0):
        super().__init__(limit)
        self.limit, self.retry_after = limit, retry_after


def as_theirs(report_json: str, student: str, filename: str) -> str:
    """The stored verdict as this submission's: identical bytes share one verdict, graded under the name
    one owner gave them; each owner reads their own id and file name (as the batch's exports do)."""
    rep = json.loads(report_json)
    rep["submission"].update(path=filename, name=filename)
    rep["student"] = {"id": student, "name": None, "source": "grader serve", "file": filename, "older_attempts": []}
    return json.dumps(rep)


@dataclass(frozen=True)
class Submission:
    id: str
    student: str
    filename: str
    sha256: str
    state: str
    accepted: float
    report: str | None


class ServeStore(Store):
    def __init__(self, path, check_same_thread: bool = True):
        super().__init__(path)
        if not check_same_thread:  # the app's one connection, used only from the event loop's thread
            self.db.close()
            import sqlite3

            self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SERVE_SCHEMA)

    # ------------------------------------------------------------------ tokens
    def issue_tokens(self, people: list[tuple[str, str, str | None]]) -> list[str]:
        """A fresh token per (student, role, name); earlier tokens of the same people stop working."""
        tokens = [secrets.token_urlsafe(32) for _ in people]
        self._tx([(f"DELETE FROM serve_{table} WHERE student = ? AND role = ?", (s, r))
                  for s, r, _ in people for table in ("tokens", "sessions")]  # a leaked token's sessions end too
                 + [("INSERT INTO serve_tokens VALUES (?, ?, ?, ?, ?)", (token_hash(t), s, r, n, _now()))
                    for t, (s, r, n) in zip(tokens, people)])
        return tokens

    def caller(self, token: str) -> Caller | None:
        row = self.db.execute("SELECT student, role FROM serve_tokens WHERE token_sha256 = ?",
                              (token_hash(token),)).fetchone()
        return Caller(*row) if row else None

    def open_session(self, caller: Caller, days: float) -> str:
        """A browser session for `caller` that ends after `days` (the cookie holds its id, never the token)."""
        session, now = secrets.token_urlsafe(32), time.time()
        self._tx([("DELETE FROM serve_sessions WHERE expires <= ?", (now,)),
                  ("INSERT INTO serve_sessions VALUES (?, ?, ?, ?)",
                   (token_hash(session), caller.student, caller.role, now + days * 24 * 3600))])
        return session

    def session_caller(self, session: str) -> Caller | None:
        row = self.db.execute("SELECT student, role FROM serve_sessions WHERE session_sha256 = ? AND expires > ?",
                              (token_hash(session), time.time())).fetchone()
        return Caller(*row) if row else None

    # ------------------------------------------------------------------ submissions
    def accept(self, student: str, filename: str, content: bytes, digest: str, version: str,
               limits: tuple[int, int] | None = None) -> Submission:
        """Commit the submission; it is `done` at once when a verdict for these bytes is already stored.
        `limits` (per hour, queue length) are checked in the same transaction as the insert, so uploads
        that arrive together cannot all pass the check before any of them is counted (OverLimit)."""
        sha = hashlib.sha256(content).hexdigest()
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            if limits:
                self.check_limits(student, *limits)
            state = self._stored_state(sha, digest, version) or "queued"
            sub = Submission(secrets.token_urlsafe(12), student, filename, sha, state, time.time(), None)
            self.db.execute("INSERT INTO serve_submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (sub.id, student, filename, sha, digest, version, state, sub.accepted, content))
        return sub

    def check_limits(self, student: str, per_hour: int, queue: int) -> None:
        now = time.time()
        count, oldest = self.recent_count(student, now - 3600)
        if count >= per_hour:
            raise OverLimit("per_hour", oldest + 3600 - now)
        if self.waiting_files() >= queue:
            raise OverLimit("queue")

    def _stored_state(self, sha: str, digest: str, version: str) -> str | None:
        row = self.db.execute("SELECT status FROM results WHERE sha256 = ? AND rubric_digest = ? AND "
                              "grader_version = ?", (sha, digest, version)).fetchone()
        return "done" if row and row[0] not in INFRASTRUCTURE else None  # the grader's own failure: again

    def get(self, sub_id: str) -> Submission | None:
        rows = self._select("s.id = ?", (sub_id,))
        return rows[0] if rows else None

    def mine(self, student: str | None, limit: int = 100) -> list[Submission]:
        """Newest first; student None: everyone's (an instructor)."""
        where, args = ("s.student = ?", (student,)) if student is not None else ("1", ())
        return self._select(where, args, f"ORDER BY s.accepted DESC LIMIT {int(limit)}", report="NULL")

    def _select(self, where: str, args: tuple, tail: str = "", report: str = "r.report") -> list[Submission]:
        """Submissions with their verdict's report (report="NULL": without, for listings)."""
        sql = (f"SELECT s.id, s.student, s.filename, s.sha256, s.state, s.accepted, {report} FROM serve_submissions s "
               "LEFT JOIN results r ON r.sha256 = s.sha256 AND r.rubric_digest = s.rubric_digest AND "
               f"r.grader_version = s.grader_version WHERE {where} {tail}")
        return [Submission(*row[:-1], as_theirs(row[-1], row[1], row[2]) if row[-1] else None)
                for row in self.db.execute(sql, args)]

    def recent_count(self, student: str, since: float) -> tuple[int, float | None]:
        """How many submissions the student made since `since`, and when the oldest of them was accepted."""
        return self.db.execute("SELECT COUNT(*), MIN(accepted) FROM serve_submissions WHERE student = ? AND "
                               "accepted >= ?", (student, since)).fetchone()

    def waiting_files(self) -> int:
        """Distinct files waiting to be graded: identical ones are graded once, so they queue once."""
        return self.db.execute("SELECT COUNT(DISTINCT sha256) FROM serve_submissions WHERE state IN (?, ?)",
                               WAITING).fetchone()[0]

    def position(self, sub: Submission) -> int:
        """Where this file is in the order the grading side takes files (identical files are graded once)."""
        order = [sha for sha, _ in self.queue_order()]
        return 1 + order.index(sub.sha256) if sub.sha256 in order else 1

    def queue_order(self, limit: int | None = None) -> list[tuple[str, str]]:
        """The distinct queued files as (sha256, student) in the order they are claimed: round-robin over
        the students, the least recently served first, each student's files oldest first."""
        queues: dict[str, deque] = {}
        for student, sha in self.db.execute(
                "SELECT s.student, s.sha256 FROM serve_submissions s LEFT JOIN serve_served v ON v.student = "
                "s.student WHERE s.state = 'queued' ORDER BY COALESCE(v.turn, 0), s.accepted"):
            queues.setdefault(student, deque()).append(sha)
        order, taken = [], set()
        while queues and (limit is None or len(order) < limit):
            for student in list(queues):
                files = queues[student]
                while files and files[0] in taken:  # someone else's identical file came first
                    files.popleft()
                if files:
                    taken.add(files[0])
                    order.append((files.popleft(), student))
                if not files:
                    del queues[student]
        return order[:limit]

    def typical_seconds(self, digest: str, version: str) -> float | None:
        """The median grading time under this rubric so far (the queue page's estimate)."""
        times = sorted(t for (t,) in self.db.execute("SELECT seconds FROM results WHERE rubric_digest = ? AND "
                                                     "grader_version = ? AND seconds IS NOT NULL", (digest, version)))
        return times[len(times) // 2] if times else None

    def latest_graded(self) -> dict[str, Submission]:
        """student -> their newest submission that has a verdict (the class page, grades.csv)."""
        out: dict[str, Submission] = {}
        for sub in self._select("s.state IN ('done', 'failed')", (), "ORDER BY s.accepted"):
            out[sub.student] = sub
        return out

    def regrade(self, student: str | None) -> list[str]:
        """Queue again the newest graded submission of one student (None: of everyone); their ids. The new
        verdict replaces the stored one when it arrives."""
        latest = self.latest_graded()
        subs = [latest[student]] if student in latest else [] if student is not None else list(latest.values())
        self._tx([("UPDATE serve_submissions SET state = 'queued' WHERE id = ?", (sub.id,)) for sub in subs])
        return [sub.id for sub in subs]

    def students(self) -> list[tuple[str, str | None]]:
        """(student, name) of everyone with a student token, in roster order."""
        return self.db.execute("SELECT student, name FROM serve_tokens WHERE role = ? ORDER BY rowid",
                               (STUDENT,)).fetchall()

    def waiting(self) -> list[Submission]:
        """The queue, oldest first: every submission queued or running (without reports)."""
        return self._select("s.state IN (?, ?)", WAITING, "ORDER BY s.accepted", report="NULL")

    # ------------------------------------------------------------------ the grading side
    def requeue_running(self) -> int:
        """After a crash: what was running had no verdict stored, so it is graded again."""
        return self.db.execute("UPDATE serve_submissions SET state = 'queued' WHERE state = 'running'").rowcount

    def claim(self, digest: str, version: str) -> tuple[str, str, bytes] | None:
        """The next file to grade (queue_order), marked running with every queued submission of the same
        bytes: (sha256, name, bytes); None when nothing is queued."""
        from grader.batch.run import work_name

        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self._adopt(digest, version)
            order = self.queue_order(limit=1)
            if not order:
                return None
            sha, student = order[0]
            self.db.execute("UPDATE serve_submissions SET state = 'running' WHERE sha256 = ? AND state = 'queued'",
                            (sha,))
            self.db.execute("INSERT OR REPLACE INTO serve_served VALUES (?, (SELECT COALESCE(MAX(turn), 0) + 1 "
                            "FROM serve_served))", (student,))
            names = [n for (n,) in self.db.execute("SELECT filename FROM serve_submissions WHERE sha256 = ? AND "
                                                   "state = 'running' ORDER BY accepted", (sha,))]
            data = self.db.execute("SELECT content FROM serve_submissions WHERE sha256 = ? LIMIT 1",
                                   (sha,)).fetchone()[0]
        return sha, work_name(data, names), data  # identical bytes named .py and .ipynb: read as what they are

    def _adopt(self, digest: str, version: str) -> None:
        """Queued under another rubric or grader version (a regrade of an older verdict, a restart with a new
        rubric.toml): graded under this one, from the store at once where it already has these bytes."""
        self.db.execute(
            "UPDATE serve_submissions SET rubric_digest = ?1, grader_version = ?2, state = CASE WHEN EXISTS "
            "(SELECT 1 FROM results r WHERE r.sha256 = serve_submissions.sha256 AND r.rubric_digest = ?1 AND "
            f"r.grader_version = ?2 AND r.status NOT IN ({SETTLED})) THEN 'done' ELSE 'queued' END "
            "WHERE state = 'queued' AND (rubric_digest != ?1 OR grader_version != ?2)", (digest, version))

    def finish(self, sha: str, digest: str, version: str, report_json: str, run_id: int) -> None:
        """Store the verdict and settle every submission of these bytes, in one transaction."""
        state = "failed" if json.loads(report_json)["status"] in INFRASTRUCTURE else "done"
        self._tx([self.result_row(sha, digest, version, report_json, run_id),
                  ("UPDATE serve_submissions SET state = ? WHERE sha256 = ? AND rubric_digest = ? AND "
                   "grader_version = ? AND state IN ('queued', 'running')", (state, sha, digest, version)),
                  ("INSERT INTO serve_gradings VALUES (?, ?, ?, ?, ?)", (sha, digest, version, run_id, _now()))])
