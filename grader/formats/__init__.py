"""LMS and CI result formats. Each is a pure function of one Report: no I/O, no clock, no environment.

`render(name, report)` returns the text a hook writes (JSON, base64 or XML); the modules return plain data so
tests can check field names before anything is serialised.
"""

from __future__ import annotations

import json

from grader.report import CheckResult, Report

NAMES = ("gradescope", "github-classroom", "prairielearn", "junit")


def number(x: float) -> int | float:
    """75.0 -> 75: LMSs show points as the instructor wrote them."""
    return int(x) if float(x).is_integer() else x


def check_text(c: CheckResult) -> str:
    return c.message + (f"\nhint: {c.hint}" if c.hint else "")


def render(name: str, report: Report) -> str:
    from grader.formats import github_classroom, gradescope, junit, prairielearn

    if name == "gradescope":
        return json.dumps(gradescope.results(report), indent=2, ensure_ascii=False)
    if name == "github-classroom":
        return github_classroom.encoded(report)
    if name == "prairielearn":
        return json.dumps(prairielearn.results(report), indent=2, ensure_ascii=False)
    if name == "junit":
        return junit.xml(report)
    raise ValueError(f"unknown format {name!r} (choose one of {', '.join(NAMES)})")
