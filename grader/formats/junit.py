"""JUnit XML: one testsuite per submission, one testcase per check, so any CI lists the checks as tests.

A batch report carries its student: the suite is named `STUDENT/FILE` (with the student's id as its `id` and
a `student` property) and the testcases' classname includes the student, so two students who both hand in
`train.py` stay apart in every reporter, which key tests on classname and name.

Times: the suite's `time` is the whole grading (report.timings.total_s). The checks are not timed one by one:
every one is judged from that same single run, so each testcase's `time` is an equal share of it, and the
shares add up to the suite's time, the figure reporters sum or compare.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from datetime import timezone

from grader.inert import xml as _clean  # names and output may hold escapes, controls, stray surrogates
from grader.report import Report, Status


def _identifier(text: str, fallback: str) -> str:
    """A classname part (no dots: reporters split classnames at them); one that had to change keeps a digest of
    the original, so `a.b` and `a_b` stay two students."""
    plain = re.sub(r"\W", "_", _clean(text)) or fallback
    return plain if plain == text else f"{plain}_{hashlib.sha256(text.encode('utf-8', 'surrogateescape')).hexdigest()[:6]}"


def shares(total_s: float, n: int) -> list[str]:
    """`total_s` split evenly into n times of 3 decimals that add up to its own 3 decimals."""
    millis = round(total_s * 1000)
    return [f"{(millis // n + (i < millis % n)) / 1000:.3f}" for i in range(n)]


def testsuite(report: Report) -> ET.Element:
    broken = report.status == Status.internal_error
    failed = [c for c in report.checks if not c.passed]
    student = report.student.id if report.student else None
    attrs = {"name": _clean(f"{student}/{report.submission.name}" if student else report.submission.name),
             "tests": str(len(report.checks)), "failures": "0" if broken else str(len(failed)),
             "errors": str(len(failed)) if broken else "0", "skipped": "0", "time": f"{report.timings.total_s:.3f}",
             "timestamp": report.created_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")}
    suite = ET.Element("testsuite", attrs | ({"id": _clean(student)} if student else {}))
    props = ET.SubElement(suite, "properties")
    for name, value in (("student", student), ("status", report.status.value), ("score", f"{report.score:g}"),
                        ("max_score", f"{report.max_score:g}"), ("grader_version", report.grader_version)):
        if value is not None:
            ET.SubElement(props, "property", {"name": name, "value": _clean(value)})
    classname = ".".join(["grader", *([_identifier(student, "student")] if student else []),
                          _identifier(report.submission.name.rsplit(".", 1)[0], "submission")])
    for c, time in zip(report.checks, shares(report.timings.total_s, len(report.checks))):
        case = ET.SubElement(suite, "testcase", {"classname": classname, "name": _clean(f"{c.id}: {c.title}"),
                                                 "time": time})
        if not c.passed:
            tag = "error" if broken else "failure"
            node = ET.SubElement(case, tag, {"message": _clean(c.message), "type": "internal_error" if broken else "check_failed"})
            node.text = _clean(f"{c.points:g}/{c.max_points:g} points. {c.message}" + (f"\nhint: {c.hint}" if c.hint else ""))
    out = ET.SubElement(suite, "system-out")
    out.text = _clean(report.output.stdout_tail)
    return suite


def xml(report: Report) -> str:
    return _serialise(testsuite(report))


def combined(reports: list[Report]) -> str:
    """Many submissions in one file (a batch): <testsuites> around each one's <testsuite>."""
    suites = [testsuite(r) for r in reports]
    totals = {key: str(sum(int(s.get(key)) for s in suites)) for key in ("tests", "failures", "errors")}
    root = ET.Element("testsuites", {"name": "grader", **totals,
                                     "time": f"{sum(r.timings.total_s for r in reports):.3f}"})
    root.extend(suites)
    return _serialise(root)


def _serialise(element: ET.Element) -> str:
    ET.indent(element)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode") + "\n"
