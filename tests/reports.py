"""Reports built by hand (the pydantic model, no grading), for the pure exports and formats."""

from __future__ import annotations

from datetime import datetime, timezone

from grader.report import CHECK_IDS, CheckResult, Output, Report, Status, SubmissionInfo, Timings, Training
from grader.rubric import Points

TITLES = {"runs": "Runs to completion", "architecture": "Two hidden layers", "loss": "CrossEntropyLoss",
          "optimizer": "Adam optimizer", "epochs": "10 epochs", "prints_loss_each_epoch": "Prints the loss every epoch",
          "zero_grad": "Gradients cleared every step", "learns": "Learns (held-out accuracy)"}
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def make_report(name: str = "solution.py", failed: dict[str, str] = None, status: Status = Status.graded,
                stdout: str = "Epoch [1/10], Loss: 0.4000\n", seconds: float = 9.5, accuracy: float | None = 0.9,
                message: str | None = None) -> Report:
    failed = failed or {}
    points = Points().model_dump()
    checks = [CheckResult(id=cid, title=TITLES[cid], passed=cid not in failed,
                          points=0 if cid in failed else points[cid], max_points=points[cid],
                          message=failed.get(cid, f"{cid} is fine"),
                          hint=f"fix {cid}" if cid in failed else None)
              for cid in CHECK_IDS]
    score = sum(c.points for c in checks)
    return Report(created_at=WHEN, submission=SubmissionInfo(path=name, name=name, sha256="ab" * 32, kind="python",
                                                             size_bytes=1234),
                  status=status, message=message or f"{len(checks) - len(failed)} of 8 checks passed: {score:g}/100.",
                  score=score, max_score=100, checks=checks,
                  training=Training(epochs=10, accuracy=accuracy, eval_examples=10000, seed=0),
                  timings=Timings(total_s=seconds), output=Output(stdout_tail=stdout, total_bytes=len(stdout)),
                  rubric_digest="e712935502e3c468")


def full_marks(name: str = "solution.py") -> Report:
    return make_report(name, message="Ran to completion; all 8 checks passed: 100/100.")


def no_zero_grad(name: str = "no_zero_grad.py") -> Report:
    return make_report(name, failed={"zero_grad": "old gradients were still there at 469 of 470 backward passes",
                                     "learns": "11.35% accuracy on 10,000 held-out test images (needs 80%)"},
                       stdout="Epoch [1/10], Loss: 3.5844\n\x1b[31mred\x1b[0m & <tag>\n", accuracy=0.1135)


def crashed(name: str = "crash.py") -> Report:
    return make_report(name, status=Status.runtime_error, failed={"runs": "ZeroDivisionError at line 30 in epoch 3",
                                                                  "epochs": "2 of 10 epochs",
                                                                  "prints_loss_each_epoch": "2 of 10 epochs printed"})


def internal_error(name: str = "solution.py") -> Report:
    return make_report(name, status=Status.internal_error, message="The grader failed: OSError: disk full",
                       failed={cid: "not graded: the grader failed before it could observe this" for cid in CHECK_IDS},
                       accuracy=None)


def invalid(name: str = "empty.py") -> Report:
    return make_report(name, status=Status.invalid_submission, message="Not graded: the file is empty.",
                       failed={cid: "not checked" for cid in CHECK_IDS}, stdout="", accuracy=None)
