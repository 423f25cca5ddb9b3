"""GitHub Classroom's autograding reporter input (`classroom-resources/autograding-grading-reporter@v1`).

Each reporter "runner" is one envelope (`version: 1`, `status`, `max_score`, `tests[]`) that the workflow
hands it base64-encoded in `<RUNNER>_RESULTS`. What the reporter does with one, read from its code:
- it *records* `sum(test.score)` out of `max_score` (the "Autograding report" notice GitHub Classroom reads);
- its *log* counts instead: (tests passed / tests) x `max_score`. One envelope holding every check would
  log a total other than the recorded grade whenever checks carry unequal points, so the workflow uses one
  runner per check (`outputs`), and a check earning part of its points (the rubric's proportional credit)
  is that share as k passing parts of n: its log line and its recorded points agree;
- it prints a test's `message` only for `error` tests, but always prints `test_code`: a failed check's
  `test_code` is the command that grades it again, followed by its message and hint as shell comments;
- a runner with `max_score` 0 records nothing: a run the grader could not judge (internal error) is
  `error` with `max_score` 0, so the student sees the error and no grade of 0 is recorded for it.
`result` (the stdout of `--format github-classroom`, and the batch's per-student file) is every check in
one envelope, for a single-runner workflow.
"""

from __future__ import annotations

import base64
import json
from fractions import Fraction

from grader import inert
from grader.formats import number
from grader.report import CheckResult, Report, Status

MAX_PARTS = 20  # a proportional share shown as k of at most this many parts (the default rubric needs 10)


def runner_name(check_id: str) -> str:
    """The reporter's runner (and step output) for a check: letters and digits only, which its `runners`
    input requires (`zero_grad` -> `zeroGrad`)."""
    head, *rest = check_id.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _judged(report: Report) -> bool:
    return report.status != Status.internal_error


def _comment(text: str) -> str:
    """Shell comment lines: no line of the log can start a workflow command (`::`), whatever a message quotes."""
    return "\n".join("# " + inert.terminal(line) for line in text.splitlines())


def _test(report: Report, c: CheckResult, name: str, passed: bool, score: float, explain: bool = True) -> dict:
    """One reporter test; `explain`: a failed one shows the command, message and hint (once per check)."""
    status = "pass" if passed else "fail" if _judged(report) else "error"
    shown = c.message + (f"\nhint: {c.hint}" if c.hint else "")
    return {"name": name, "status": status, "score": number(score),
            "message": " ".join(inert.terminal(shown).split()) if status == "error" else inert.terminal(shown),
            "test_code": f"grader check {report.submission.name}\n{_comment(shown)}"
            if status == "fail" and explain else "",
            "filename": report.submission.name, "line_no": 0, "duration": 0}


def _tests(report: Report, c: CheckResult) -> list[dict]:
    """The check as one test, or, where it earned part of its points, as that share: k passing parts of n."""
    share = Fraction(c.points / c.max_points).limit_denominator(MAX_PARTS) if c.max_points else Fraction(0)
    if c.passed or not 0 < share < 1:
        return [_test(report, c, c.title, c.passed, c.points)]
    k, n = share.numerator, share.denominator
    return [_test(report, c, f"{c.title} (part {i} of {n})", i <= k, c.points if i == 1 else 0, i == k + 1)
            for i in range(1, n + 1)]


def _envelope(report: Report, checks: list[CheckResult]) -> dict:
    judged = _judged(report)
    tests = [t for c in checks for t in _tests(report, c)]
    status = "error" if not judged else "pass" if all(c.passed for c in checks) else "fail"
    return {"version": 1, "status": status, "max_score": number(sum(c.max_points for c in checks)) if judged else 0,
            "tests": tests}


def result(report: Report) -> dict:
    """Every check in one envelope."""
    return _envelope(report, report.checks)


def runner_results(report: Report) -> dict[str, dict]:
    """runner -> its envelope: one per check."""
    return {runner_name(c.id): _envelope(report, [c]) for c in report.checks}


def _encode(envelope: dict) -> str:
    compact = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(compact.encode()).decode()


def encoded(report: Report) -> str:
    return _encode(result(report))


def outputs(report: Report) -> dict[str, str]:
    """The grading step's outputs: `result` (every check) and one per runner, base64 each."""
    return {"result": encoded(report)} | {name: _encode(env) for name, env in runner_results(report).items()}
