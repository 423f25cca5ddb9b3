"""GitHub Classroom's autograding reporter input: the grader step's `result` output, base64 of compact JSON.

One test per check, in the envelope `autograding-command-grader` emits (`version: 1`). A failing check is
`fail`; a run the grader itself could not judge is `error`, which the reporter counts as a failed job too.
"""

from __future__ import annotations

import base64
import json

from grader.formats import check_text, number
from grader.report import Report, Status


def result(report: Report) -> dict:
    broken = report.status == Status.internal_error
    status = "error" if broken else ("pass" if report.all_passed else "fail")
    tests = [{"name": c.title, "status": "error" if broken else ("pass" if c.passed else "fail"),
              "score": number(c.points), "message": check_text(c), "test_code": f"grader check {c.id}",
              "filename": report.submission.name, "line_no": 0, "duration": 0}
             for c in report.checks]
    return {"version": 1, "status": status, "max_score": number(report.max_score), "tests": tests}


def encoded(report: Report) -> str:
    compact = json.dumps(result(report), separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(compact.encode()).decode()
