"""Target: a self-check takes seconds. Wall time of `grader check reference/solution.py`, median of N runs,
with the per-phase timings from the reports. Exits 1 when the median misses the target.

Usage: python bench/check_speed.py [--runs 3] [--sandbox auto] [--target 20]
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRADER = Path(sys.executable).with_name("grader")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sandbox", default="auto")
    parser.add_argument("--target", type=float, default=20.0, help="seconds")
    args = parser.parse_args()
    walls, reports = [], []
    for _ in range(args.runs):
        started = time.monotonic()
        done = subprocess.run([str(GRADER), "check", str(ROOT / "reference" / "solution.py"), "--json",
                               "--sandbox", args.sandbox], capture_output=True, text=True)
        walls.append(time.monotonic() - started)
        reports.append(json.loads(done.stdout))
        assert reports[-1]["score"] == reports[-1]["max_score"], reports[-1]["message"]
    backend = reports[0]["sandbox"]["backend"]
    print(f"grader check reference/solution.py ({backend} sandbox), {args.runs} runs: "
          f"median {statistics.median(walls):.1f} s (min {min(walls):.1f}, max {max(walls):.1f})")
    for phase in ("sandbox_s", "import_s", "submission_s", "export_s", "evaluate_s"):
        values = [r["timings"][phase] for r in reports if r["timings"][phase] is not None]
        print(f"  {phase:<13} median {statistics.median(values):.2f} s")
    ok = statistics.median(walls) <= args.target
    print(f"target {args.target:g} s: {'met' if ok else 'MISSED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
