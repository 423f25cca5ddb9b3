"""PrairieLearn's external-grading `results.json`: score in 0..1, one test per check.

A file that is not a submission at all (empty, binary, wrong type), or a run the grader could not judge, is
`gradable: false` with `format_errors`: PrairieLearn then does not count the attempt against the student.
"""

from __future__ import annotations

from grader.formats import check_text, number
from grader.report import Report, Status

NOT_GRADABLE = (Status.invalid_submission, Status.internal_error)


def not_gradable(message: str) -> dict:
    """PrairieLearn shows "Invalid, not gradable" and the message, and the try is not counted."""
    return {"gradable": False, "format_errors": [message], "message": message}


def results(report: Report) -> dict:
    if report.status in NOT_GRADABLE:
        return not_gradable(report.message)
    return {
        "gradable": True,
        "score": round(report.score / report.max_score, 4) if report.max_score else 0.0,
        "message": report.message,
        "output": report.output.stdout_tail,
        "tests": [{"name": c.title, "description": c.id, "points": number(c.points),
                   "max_points": number(c.max_points), "message": check_text(c)}
                  for c in report.checks],  # no test `output`: the element would show the hint a second time
    }
