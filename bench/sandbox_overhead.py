"""Per-submission overhead of each sandbox backend: from asking the backend to run a job to having its trace
back, minus the time the in-sandbox supervisor itself ran. Measured on a submission that does nothing.

Usage: python bench/sandbox_overhead.py [--runs 5] [--backends none,process,docker]
"""

import argparse
import statistics
import tempfile
from pathlib import Path

from grader import submission
from grader.grade import Grader, Options


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backends", default="none,process,docker")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "noop.py"
        path.write_text("print('nothing to see')\n")
        sub = submission.load(path)
        for name in args.backends.split(","):
            grader = Grader(Options(sandbox=name, device="cpu"))
            walls, inside = [], []
            for _ in range(args.runs):
                seen = grader.observe(sub)
                walls.append(seen.result.wall_s)
                inside.append(seen.trace.sup["wall_s"])
            overhead = [w - i for w, i in zip(walls, inside, strict=True)]
            print(f"{name:<8} sandbox wall median {statistics.median(walls):.2f} s, supervisor inside "
                  f"{statistics.median(inside):.2f} s, overhead (start to trace back) median "
                  f"{statistics.median(overhead):.2f} s (min {min(overhead):.2f}, max {max(overhead):.2f})")


if __name__ == "__main__":
    main()
