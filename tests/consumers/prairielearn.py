"""What PrairieLearn does with an external grader's /grade/results/results.json, step by step, transcribed
from its source at commit 88fb8556a7a1768e2082736be9095241b11238d7 (github.com/PrairieLearn/PrairieLearn,
AGPL-3.0; each step cites file:line). Its code is not vendored here; this transcription was checked against
that code itself, run offline (the TypeScript bundled with esbuild, the database stubbed, the results element's
own .py and .mustache rendered) on the same six real gradings: equal stored rows, equal text shown.

1. grader-host reads the file        apps/grader-host/src/index.ts:605-660
2. makeGradingResult                 apps/prairielearn/src/lib/externalGraderCommon.ts:128-213
3. processGradingResult → database   apps/prairielearn/src/lib/externalGrader.ts:143-222
4. <pl-external-grader-results>      apps/prairielearn/elements/pl-external-grader-results/*.py:65-191, .mustache
"""

from __future__ import annotations

import json
import math

RESULTS_MAX_BYTES = 1024 * 1024  # index.ts:625
DEFAULT_TIMEOUT_S = 30  # docs/externalGrading.md:46, "defaults to 30 seconds"
MAX_TIMEOUT_S = 600  # docs/externalGrading.md:46, "cannot exceed 600 seconds"
DEFAULT_CPUS = 90000 / 100000  # apps/grader-host/src/lib/config.ts:35-36, CpuQuota / CpuPeriod
DEFAULT_MEMORY_MB = 2 * 1024  # config.ts:31


def host_results(raw: bytes | None, exit_code: int, timed_out: bool = False, timeout_s: int = DEFAULT_TIMEOUT_S):
    """What grader-host sends back: results.json is read only when the container exited 0 in time."""
    results: dict = {"succeeded": not timed_out and exit_code == 0}  # index.ts:610
    if results["succeeded"]:
        if raw is None:
            return {"succeeded": False, "message": "Could not read grading results."}  # index.ts:646
        if len(raw) > RESULTS_MAX_BYTES:
            return {"succeeded": False, "message": "The grading results were larger than 1MB. If the problem "
                                                   "persists, please contact course staff or a proctor."}
        try:
            results["results"] = json.loads(raw.decode())  # sanitizeObject only escapes NUL bytes
        except ValueError:
            return {"succeeded": False, "message": "Could not parse the grading results."}
        return results
    if timed_out:  # index.ts:651-653
        results["message"] = (f"Your grading job did not complete within the time limit of {timeout_s} seconds.\n"
                              "Please fix your code before submitting again.")
    results["results"] = None
    return results


def make_grading_result(data: dict) -> dict:
    """externalGraderCommon.ts:128-213 (`grading` of the object it returns)."""
    def failure(message):
        return {"score": 0, "feedback": {"succeeded": False, "message": message}, "format_errors": {}}

    if not isinstance(data.get("succeeded"), bool):
        return failure("results did not contain 'succeeded' field.")
    if not data["succeeded"]:
        return {"score": 0, "feedback": data, "format_errors": {}}
    if not data.get("results"):
        return failure("results did not contain 'results' object.")
    score = data["results"].get("score")
    if score is None:
        score = 0
    elif not isinstance(score, (int, float)) or isinstance(score, bool) or math.isnan(score):
        return failure(f'score "{score}" was not a number.')
    errors = data["results"].get("format_errors")
    errors = [errors] if isinstance(errors, str) else errors if isinstance(errors, list) else []
    return {"score": score, "feedback": data, "format_errors": {"_external_grader": errors}}


def process_grading_result(grading: dict) -> dict:
    """externalGrader.ts:161-222: the row written (submissions.score, .gradable, .format_errors, .feedback).
    A gradable submission uses one of the student's tries (grading-job.sql:156-160); one that is not does not."""
    feedback = grading["feedback"] or {}
    results = feedback.get("results") or {}
    score = grading["score"] if results.get("succeeded", True) else 0  # :163-166
    gradable = bool(feedback.get("succeeded")) and bool(results.get("gradable", True))  # :161, :171
    if gradable:  # :173-201, each with its own message
        problem = ("score was not provided." if score is None
                   else "score is not a number." if not (isinstance(score, (int, float)) and math.isfinite(score))
                   else "score is out of range." if not 0 <= score <= 1 else None)
        if problem:
            return {"score": 0, "gradable": False, "format_errors": grading["format_errors"],
                    "feedback": {"results": {"succeeded": False, "gradable": False},
                                 "message": f"Error parsing external grading results: {problem}",
                                 "original_feedback": feedback}}
    return {"score": score, "gradable": gradable, "format_errors": grading["format_errors"], "feedback": feedback}


def round_value(value: float, digits: int = 2) -> str:
    """pl-external-grader-results.py:53-62."""
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


def student_view(row: dict) -> dict:
    """What the results element shows for a stored row (render(), .py:65-191, and the .mustache): the heading,
    the error boxes, the Message and Output boxes, and per test `[points/max_points] name` with its boxes."""
    feedback = row["feedback"]
    results = feedback.get("results")
    if not feedback.get("succeeded"):
        return {"heading": "Grading failed!",
                "message": feedback.get("message") or "Unknown error; please contact course staff."}
    errors = (row["format_errors"] or {}).get("_external_grader", [])
    gradable = results.get("gradable", True) if results is not None else True
    view: dict = {"errors": errors}
    if not results:
        return {"heading": "Score: 0%" if gradable else "Invalid, not gradable", **view}
    score = round_value(results.get("score", 0) * 100)
    tests = results.get("tests") or []
    with_points = bool(tests) and not any(t.get("points") is None or t.get("max_points") is None for t in tests)
    points = f"{round_value(sum(t['points'] for t in tests))}/{round_value(sum(t['max_points'] for t in tests))}"
    view["heading"] = ("Invalid, not gradable" if not gradable
                       else f"Score: {points} ({score}%)" if with_points else f"Score: {score}%")
    view["message"] = results.get("message") or None
    view["output"] = results.get("output") or None
    view["tests"] = [{"points": f"[{round_value(t['points'])}/{round_value(t['max_points'])}]" if with_points else None,
                      "name": t.get("name", ""), "description": t.get("description") or None,
                      "message": t.get("message") or None, "output": t.get("output") or None}
                     for t in tests]
    return view


def text(view: dict) -> str:
    """The view as the page reads, top to bottom (the .mustache's order), whitespace collapsed."""
    parts = [view["heading"]] + [f"Error: {e}" for e in view.get("errors", [])]
    parts += [f"{label} {view[key]}" for key, label in (("message", "Message"), ("output", "Output"))
              if view.get(key)] if view["heading"] != "Grading failed!" else [view["message"]]
    if view.get("tests"):
        parts.append("Test Results")
    for t in view.get("tests", []):
        parts += [t["points"] or "", t["name"]] + ([f"Description: {t['description']}"] if t["description"] else [])
        if t["points"]:
            earned, most = t["points"].strip("[]").split("/")
            parts += [f"Max points: {most}", f"Earned points: {earned}"]
        parts += [f"{label} {t[key]}" for key, label in (("message", "Message"), ("output", "Output")) if t[key]]
    return " ".join(" ".join(parts).split())


def ingest(raw: bytes | None, exit_code: int) -> tuple[dict, dict]:
    """(the stored row, what the student sees) for what the grading container left and its exit status."""
    row = process_grading_result(make_grading_result(host_results(raw, exit_code)))
    return row, student_view(row)
