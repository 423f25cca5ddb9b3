"""JUnit XML: one testsuite per submission, one testcase per check, so any CI lists the checks as tests."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from grader.inert import xml as _clean  # names and output may hold escapes, controls, stray surrogates
from grader.report import Report, Status


def testsuite(report: Report) -> ET.Element:
    broken = report.status == Status.internal_error
    failed = [c for c in report.checks if not c.passed]
    suite = ET.Element("testsuite", {
        "name": _clean(report.submission.name), "tests": str(len(report.checks)),
        "failures": "0" if broken else str(len(failed)), "errors": str(len(failed)) if broken else "0",
        "skipped": "0", "time": f"{report.timings.total_s:.3f}"})
    props = ET.SubElement(suite, "properties")
    for name, value in (("status", report.status.value), ("score", f"{report.score:g}"),
                        ("max_score", f"{report.max_score:g}"), ("grader_version", report.grader_version)):
        ET.SubElement(props, "property", {"name": name, "value": _clean(value)})
    classname = "grader." + (re.sub(r"\W", "_", _clean(report.submission.name).rsplit(".", 1)[0]) or "submission")
    for c in report.checks:
        case = ET.SubElement(suite, "testcase", {"classname": classname, "name": _clean(f"{c.id}: {c.title}"),
                                                 "time": "0"})
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
    root = ET.Element("testsuites", {"name": "grader"})
    root.extend(testsuite(r) for r in reports)
    return _serialise(root)


def _serialise(element: ET.Element) -> str:
    ET.indent(element)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode") + "\n"
