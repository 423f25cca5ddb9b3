"""Everything a batch writes in DIR, generated from the store's rows (never from memory of the run).

grades.csv is deterministic (no times, no paths of this machine), so an interrupted-and-resumed batch
writes the same bytes as an uninterrupted one. Each export is a pure function of the rows; `write_all`
is the only part that touches the disk, and it replaces files and folders whole.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from grader import formats, html, inert
from grader.batch.store import Row
from grader.formats import github_classroom, gradescope, junit, prairielearn
from grader.report import CHECK_IDS, Report, Student

GRADEBOOKS = ("canvas", "moodle", "blackboard")
LMS_NAMES = {"canvas": "Canvas", "moodle": "Moodle", "blackboard": "Blackboard"}


class ExportError(Exception):
    """An export these rows cannot make (the input, not the grader, is at fault); the others are still written."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.fix = fix


@dataclass
class Failure:
    """One export that was not written, and why. `internal`: a fault of the grader's, not of the input."""

    target: str
    message: str
    fix: str | None = None
    internal: bool = False

    def __str__(self) -> str:
        return f"{self.target} not written: {self.message}" + (f"\n  fix: {self.fix}" if self.fix else "")


@dataclass
class Written:
    notes: list[str] = field(default_factory=list)  # for the instructor: skipped students
    failed: list[Failure] = field(default_factory=list)


def report_of(row: Row) -> Report | None:
    """The stored report, as this student's: their id, and the file as they named it."""
    if row.report is None:
        return None
    rep = Report.model_validate_json(row.report)
    s = row.student
    rep.student = Student(id=s.id, name=s.name, source=s.source, file=s.file, older_attempts=s.older)
    rep.submission.path = s.file or rep.submission.path
    rep.submission.name = s.filename or rep.submission.name
    return rep


def status_of(row: Row) -> str:
    if row.student.problem:
        return "ambiguous" if row.student.problem.startswith("ambiguous") else "no_submission"
    return json.loads(row.report)["status"] if row.report else "not_graded"


def safe_name(student_id: str) -> str:
    """A file name stem for a student id (ids come from names students chose), with room for the longest
    suffix an export adds (`-N.json`) within a file name's 255 bytes."""
    return inert.file_name(student_id, limit=inert.FILE_NAME_BYTES - 16)


_cell = inert.csv_cell


def _csv(rows: list[list], quote_all: bool = False) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerows(rows)
    return buf.getvalue()


def _points(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


# ---------------------------------------------------------------------------------------------- grades.csv
def grades_csv(rows: list[Row]) -> str:
    """student, score, max_score, status, one column per check (points earned), then name, file, message.
    UTF-8 with a BOM and CRLF, which is what makes Excel open it cleanly."""
    table = [["student", "score", "max_score", "status", *CHECK_IDS, "name", "file", "message"]]
    for row in rows:
        rep = json.loads(row.report) if row.report else None
        s = row.student
        if rep is None:
            table.append([_cell(s.id), "", "", status_of(row), *[""] * len(CHECK_IDS), _cell(s.name), _cell(s.file),
                          _cell(s.problem or "not graded yet: run the same command again")])
            continue
        points = {c["id"]: c["points"] for c in rep["checks"]}
        table.append([_cell(s.id), _points(rep["score"]), _points(rep["max_score"]), rep["status"],
                      *[_points(points.get(cid)) for cid in CHECK_IDS], _cell(s.name), _cell(s.file),
                      _cell(rep["message"])])
    return "\ufeff" + _csv(table)


# ---------------------------------------------------------------------------------------------- gradebooks
def gradebook(kind: str, rows: list[Row], title: str, column_id: str | None, when: str,
              points: float | None = None) -> tuple[str, list[str]]:
    """The CSV the LMS's grade import reads, keyed by the ids its export carried. Returns (csv, skipped
    students: those not found in that LMS's export, or with nothing graded, which keep their LMS grade).
    `points`: what the assignment is worth in the LMS; every score is scaled to it (75/100 -> 7.5/10).
    Raises ExportError when no graded student came from that LMS's export (there is no id to key on)."""
    if kind not in GRADEBOOKS:
        raise ValueError(f"unknown gradebook {kind!r} (choose {', '.join(GRADEBOOKS)})")
    # an infrastructure error is no verdict: it stays out, so the LMS keeps what it had instead of a false 0
    mine = [r for r in rows if r.student.source == kind and r.report and status_of(r) != "internal_error"]
    skipped = [r.student.id for r in rows if r not in mine]
    if kind == "canvas":
        skipped += [r.student.id for r in mine if r.student.id.startswith("anon_")]
        mine = [r for r in mine if not r.student.id.startswith("anon_")]
    if not mine:
        lms = LMS_NAMES[kind]
        raise ExportError(f"no graded student came from a {lms} export, so no {lms} id is known to key a grade on",
                          fix=f"grade the zip {lms}'s bulk download of the submissions gives (or that zip unpacked)")
    reps = [(r, json.loads(r.report)) for r in mine]
    max_score = reps[0][1]["max_score"]
    scale = _scale(points, max_score)
    worth = max_score * scale
    if kind == "canvas":
        table = [["Student", "ID", "Section", f"{title} ({column_id})"], ["Points Possible", "", "", _points(worth)]]
        table += [[_cell(r.student.name or r.student.id), _cell(r.student.id), "", _points(_scaled(rep, scale))]
                  for r, rep in reps]
        return _csv(table), skipped
    if kind == "moodle":
        table = [["Identifier", "Full name", "Grade", "Maximum Grade", "Last modified (grade)", "Feedback comments"]]
        table += [[f"Participant {r.student.id}", _cell(r.student.name), f"{_scaled(rep, scale):.2f}", f"{worth:.2f}",
                   when, _cell(rep["message"])] for r, rep in reps]
        return _csv(table), skipped
    table = [["Username", f"{title} [Total Pts: {worth:g}] |{column_id}"]]
    table += [[_cell(r.student.id), _points(_scaled(rep, scale))] for r, rep in reps]
    return _csv(table, quote_all=True), skipped


def _scale(points: float | None, max_score: float) -> float:
    if points is None:
        return 1.0
    if max_score <= 0:
        raise ExportError("the rubric's maximum is 0 points, which no scale turns into --points",
                          fix="give the rubric's checks points, or leave out --points")
    return points / max_score


def _scaled(rep: dict, scale: float) -> float:
    """Rounded to 2 places, which every LMS here stores: 75/100 at 10 points is 7.5, 2/3 of 10 is 6.67."""
    return round(rep["score"] * scale, 2)


# ---------------------------------------------------------------------------------------------- summary.md
def _bar(n: int, total: int, width: int = 30) -> str:
    return "█" * round(width * n / total) if total else ""


def _shape(message: str) -> str:
    """Group failure messages that differ only in their numbers ("at 469 of 470 passes")."""
    return re.sub(r"\d+(?:\.\d+)?", "#", message)


def summary_md(rows: list[Row], run: dict, min_score: float | None, slowest: int = 5) -> str:
    reports = [(r, report_of(r)) for r in rows]
    graded = [(r, rep) for r, rep in reports if rep is not None]
    lines = ["# Grading summary", "",
             f"{len(rows)} students · {len(graded)} with a verdict · rubric `{run['rubric_digest']}` · "
             f"grader {run['grader_version']}", ""]
    if graded:
        scores = [rep.score for _, rep in graded]
        top = graded[0][1].max_score
        need = top if min_score is None else min_score
        reached = sum(s >= need for s in scores)
        lines += [f"Mean score {statistics.mean(scores):.1f}/{top:g}, median {statistics.median(scores):g}; "
                  f"{reached} of {len(graded)} reached {need:g} ({reached / len(graded):.0%}).", "",
                  "## Score distribution", "", "| score | students | |", "|---|---:|---|"]
        bins = Counter(min(int(s * 10 // top), 9) if top else 0 for s in scores if s < top)
        for b in range(10):
            lo, hi = b * top / 10, (b + 1) * top / 10
            lines.append(f"| {lo:g}–{hi:g} | {bins[b]} | {_bar(bins[b], len(scores))} |")
        full = sum(s >= top for s in scores)
        lines += [f"| {top:g} | {full} | {_bar(full, len(scores))} |", ""]
        status = Counter(rep.status.value for _, rep in graded)
        lines += ["## Status", "", "| status | students |", "|---|---:|"]
        lines += [f"| {k} | {v} |" for k, v in sorted(status.items(), key=lambda kv: -kv[1])] + [""]
        lines += ["## Pass rate per check", "", "| check | passed | rate |", "|---|---:|---:|"]
        for cid in CHECK_IDS:
            passed = sum(rep.check(cid).passed for _, rep in graded if any(c.id == cid for c in rep.checks))
            lines.append(f"| `{cid}` | {passed}/{len(graded)} | {passed / len(graded):.0%} |")
        failures: Counter = Counter()
        example: dict = {}
        for r, rep in graded:
            for c in rep.checks:
                if not c.passed:
                    key = (c.id, _shape(c.message))
                    failures[key] += 1
                    example.setdefault(key, (r.student.id, c.message))
        if failures:
            lines += ["", "## Most common failures", "", "| students | check | message (example) | example student |",
                      "|---:|---|---|---|"]
            for (cid, _), n in failures.most_common(10):
                who, msg = example[(cid, _)]
                lines.append(f"| {n} | `{cid}` | {_md(msg)} | {_md(who)} |")
        lines += ["", "## Slowest submissions", "", "| student | seconds | status |", "|---|---:|---|"]
        for r, rep in sorted(graded, key=lambda x: -x[1].timings.total_s)[:slowest]:
            lines.append(f"| {_md(r.student.id)} | {rep.timings.total_s:.1f} | {rep.status.value} |")
        same: dict[str, list[str]] = {}
        for r, _ in graded:
            same.setdefault(r.sha256, []).append(r.student.id)
        dupes = [ids for ids in same.values() if len(ids) > 1]
        if dupes:
            lines += ["", "## Identical files", "", "Byte-for-byte the same submission (graded once):", ""]
            lines += [f"- {', '.join(map(_md, ids))}" for ids in dupes]
    problems = [r for r in rows if r.student.problem]
    if problems:
        lines += ["", "## Not graded", "", "| student | why |", "|---|---|"]
        lines += [f"| {_md(r.student.id)} | {_md(r.student.problem)} |" for r in problems]
    older = [r for r in rows if r.student.older]
    if older:
        lines += ["", "## Older attempts (not graded)", "", "| student | graded | not graded |", "|---|---|---|"]
        lines += [f"| {_md(r.student.id)} | {_md(r.student.file or '—')} | {_md(', '.join(r.student.older))} |"
                  for r in older]
    if run["warnings"]:
        lines += ["", "## Skipped while reading the inputs", ""] + [f"- {_md(w)}" for w in run["warnings"]]
    return "\n".join(lines) + "\n"


_md = inert.markdown


# ---------------------------------------------------------------------------------------------- on disk
def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    os.replace(tmp, path)


def _replace_dir(target: Path, files: dict[str, str]) -> None:
    """Write a folder of exports beside the old one, then swap, so it never holds a mix of two runs."""
    fresh = target.with_name(target.name + ".new")
    shutil.rmtree(fresh, ignore_errors=True)
    for rel, text in files.items():
        path = fresh / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    fresh.mkdir(parents=True, exist_ok=True)
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    fresh.rename(target)
    shutil.rmtree(old, ignore_errors=True)


FORMAT_FILES = {
    "gradescope": lambda name, rep: (f"{name}/results.json", json.dumps(gradescope.results(rep), indent=2,
                                                                        ensure_ascii=False) + "\n"),
    "github-classroom": lambda name, rep: (f"{name}.json", json.dumps(github_classroom.result(rep), indent=2,
                                                                      ensure_ascii=False) + "\n"),
    "prairielearn": lambda name, rep: (f"{name}/results.json", json.dumps(prairielearn.results(rep), indent=2,
                                                                          ensure_ascii=False) + "\n"),
    "junit": lambda name, rep: (f"{name}.xml", junit.xml(rep)),
}
assert set(FORMAT_FILES) == set(formats.NAMES)


class Exports:
    """Every export of a class as files, {path inside DIR: text}, each a pure function of the rows. A target is
    a file ("grades.csv") or a folder ("gradescope/"); `write_all` puts them in DIR and `grader serve` hands
    them out over HTTP, so no format is written twice."""

    def __init__(self, rows: list[Row], run: dict, *, min_score: float | None = None,
                 title: str = "MNIST training loop", column_id: str | None = None, points: float | None = None):
        self.rows, self.run, self.min_score = rows, run, min_score
        self.title, self.column_id, self.points = title, column_id, points
        self.notes: list[str] = []  # for the instructor: skipped students
        names: dict[str, str] = {}
        taken: set[str] = set()
        for r in rows:  # two ids may map to one file name ("a b", "a_b", "A_b"): the later one gets a suffix
            name, n = safe_name(r.student.id), 1
            while name.lower() in taken:
                n += 1
                name = f"{safe_name(r.student.id)}-{n}"
            names[r.student.id] = name
            taken.add(name.lower())
        reports = {r.student.id: report_of(r) for r in rows}
        self.graded = [(sid, names[sid], rep) for sid, rep in reports.items() if rep is not None]

    @staticmethod
    def targets(gradebook_kind: str | None = None, format_names: tuple[str, ...] = ()) -> list[str]:
        return (["reports/", "grades.csv", "summary.md", "pages/", "index.html"]
                + ([f"gradebook-{gradebook_kind}.csv"] if gradebook_kind else []) + [f"{f}/" for f in format_names])

    def files(self, target: str) -> dict[str, str]:
        """The files of one target; raises ExportError when these rows cannot make it."""
        graded = self.graded
        if target == "reports/":
            return {f"reports/{name}.json": rep.model_dump_json(indent=2) + "\n" for _, name, rep in graded}
        if target == "grades.csv":
            return {target: grades_csv(self.rows)}
        if target == "summary.md":
            return {target: summary_md(self.rows, self.run, self.min_score)}
        if target == "pages/":  # the class page and one page per student, like every other export
            return {f"pages/{name}.html": html.student_page(rep) for _, name, rep in graded}
        if target == "index.html":
            return {target: html.class_index([(sid, rep, f"pages/{name}.html") for sid, name, rep in graded],
                                             title=self.title)}
        if target.startswith("gradebook-") and target.endswith(".csv"):
            return {target: self._gradebook(target.removeprefix("gradebook-").removesuffix(".csv"))}
        fmt = target.rstrip("/")
        if fmt not in FORMAT_FILES or not target.endswith("/"):
            raise ValueError(f"unknown export {target!r}")
        files = {f"{fmt}/{rel}": text for rel, text in (FORMAT_FILES[fmt](name, rep) for _, name, rep in graded)}
        if fmt == "junit":
            files["junit.xml"] = junit.combined([rep for _, _, rep in graded])
        return files

    def _gradebook(self, kind: str) -> str:
        text, skipped = gradebook(kind, self.rows, self.title, self.column_id,
                                  self.run["started_at"].replace("T", " ").rstrip("Z"), self.points)
        if skipped:
            self.notes.append(f"gradebook-{kind}.csv leaves out {len(skipped)} student(s) with no {kind} id or no "
                              f"verdict: {', '.join(skipped[:8])}{' …' if len(skipped) > 8 else ''}")
        return text


def _put(out: Path, target: str, files: dict[str, str]) -> None:
    """A folder target replaces its folder whole; files beside it (junit.xml) are written alone."""
    for rel, text in files.items():
        if not (target.endswith("/") and rel.startswith(target)):
            _write(out / rel, text)
    if target.endswith("/"):
        _replace_dir(out / target.rstrip("/"), {rel[len(target):]: text for rel, text in files.items()
                                                if rel.startswith(target)})


def write_all(out: Path, rows: list[Row], run: dict, *, min_score: float | None = None,
              gradebook_kind: str | None = None, title: str = "MNIST training loop", column_id: str | None = None,
              format_names: tuple[str, ...] = (), points: float | None = None) -> Written:
    """Regenerate every export in OUT from the rows. Each is written or fails on its own: one that cannot be
    made (a Canvas gradebook of a plain folder) or that breaks is reported in `failed`, never takes the rest."""
    written = Written()
    made = Exports(rows, run, min_score=min_score, title=title, column_id=column_id, points=points)
    for target in made.targets(gradebook_kind, format_names):
        try:
            _put(out, target, made.files(target))
        except ExportError as exc:
            written.failed.append(Failure(target, str(exc), exc.fix))
        except Exception as exc:  # a bug of ours in one export: say so, and still write the others
            written.failed.append(Failure(target, f"internal error: {type(exc).__name__}: {exc}", internal=True))
    written.notes = made.notes
    return written
