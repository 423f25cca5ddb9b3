"""Does shortening change a verdict? Each file graded on the shortened run and on a full-size run
(60,000 training images), side by side, plus which run `grader check` lets decide. JSON on stdout.

Usage: python bench/shortening.py [FILE ...] [--sandbox process]
  (default: the examples in submissions/ whose verdict could depend on the shortening)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ["edge/subset_20000_images.py", "edge/hardcoded_n_60000.py", "edge/print_every_100_steps.py",
           "students/running_loss_every_300_batches.py", "students/pytorch_examples_log_interval.py",
           "public/yunjey_pytorch-tutorial_feedforward.py", "cheats/single_epoch_only.py", "public/leechee_MNIST-Multilayer-Perceptron_mnist_mlp.py"]


def failed(report) -> list[str]:
    return sorted(c.id for c in report.checks if not c.passed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--sandbox", default="process")
    args = parser.parse_args()
    from grader import static, submission
    from grader.grade import Grader, Options, confirmation_limits, shortening_suspect
    from grader.report import SubmissionInfo

    grader = Grader(Options(sandbox=args.sandbox, device="cpu"))
    rows = []
    for path in args.files or [ROOT / "submissions" / f for f in DEFAULT]:
        if not path.exists():
            continue
        sub = submission.load(path)
        info = SubmissionInfo(path=str(path), name=sub.name, sha256=sub.sha256, kind=sub.kind, size_bytes=sub.size)
        facts = static.analyse(sub.source)
        row = {"file": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)}
        for run, full in (("short", False), ("full", True)):
            started = time.monotonic()
            limits = confirmation_limits(grader.limits, grader.rubric.train_examples, 0) if full else None
            rep = grader._report(sub, info, facts, grader.observe(sub, limits, full=full), started)
            row[run] = {"status": rep.status.value, "failed": failed(rep), "score": rep.score,
                        "accuracy": rep.training.accuracy, "seconds": round(time.monotonic() - started, 1)}
            if run == "short":
                row["confirmation"] = shortening_suspect(rep, grader.rubric)
        row["same_verdict"] = row["short"]["failed"] == row["full"]["failed"]
        row["decided_by"] = "full" if row["confirmation"] else "short"
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    print(json.dumps({"bench": "shortening", "results": rows}, indent=2))


if __name__ == "__main__":
    main()
