"""Gradescope's autograder `results.json`: one test per check, the report's message and the program's output."""

from __future__ import annotations

from grader.formats import check_text, number
from grader.report import Report

OUTPUT_LINES = 20


def results(report: Report) -> dict:
    tests = [{"name": c.title, "number": str(i), "score": number(c.points), "max_score": number(c.max_points),
              "status": "passed" if c.passed else "failed", "output": check_text(c), "tags": [c.id],
              "visibility": "visible"}
             for i, c in enumerate(report.checks, 1)]
    return {
        "score": number(report.score),
        "execution_time": round(report.timings.total_s, 1),
        "output": overview(report),
        "output_format": "text",
        "visibility": "visible",
        "tests": tests,
        "extra_data": {"status": report.status.value, "accuracy": report.training.accuracy,
                       "grader_version": report.grader_version, "rubric_digest": report.rubric_digest},
    }


def overview(report: Report) -> str:
    """What the student reads above the tests: the verdict, warnings, and the end of their program's output."""
    parts = [report.message]
    if report.warnings:
        parts.append("Warnings:\n" + "\n".join(f"- {w}" for w in report.warnings))
    tail = report.output.stdout_tail.rstrip("\n").splitlines()[-OUTPUT_LINES:]
    if tail:
        parts.append(f"Your program's output, last {len(tail)} lines:\n" + "\n".join(tail))
    return "\n\n".join(parts)
