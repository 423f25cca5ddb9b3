"""The harness's own cost: a graded run against a plain run of the same program on the same data.

The plain run serves the same shortened MNIST subset (same seed, same transform path) with no instrumentation
and no sandbox; the graded run is `Grader.grade` through the chosen sandbox, the two taken in turn. Reported:
the plain run's time, the graded run's submission phase (the program running under instrumentation) and its
total wall, and the overhead of the submission phase over the plain run (medians, and the spread of the pairs).
JSON on stdout.

Usage: python bench/overhead.py [FILE ...] [--sandbox process] [--runs 3]
  (default files: reference/solution.py and the slowest honest example, submissions/edge/batch20_hidden512.py)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = [ROOT / "reference" / "solution.py", ROOT / "submissions" / "edge" / "batch20_hidden512.py"]

PLAIN = r"""
import os, sys, time, runpy, torch
from grader import data
from grader.harness import mnist
from grader.rubric import Rubric
import torchvision.datasets as tvd, torchvision.datasets.mnist as tvm
r = Rubric()
files = data.ensure(data.resolve_dir(None), allow_download=False, log=lambda m: None)
served = mnist.Served(str(files["train_images"]), str(files["train_labels"]), r.train_examples, r.eval_examples, r.seed)
tvd.MNIST = tvm.MNIST = mnist.make_dataset_class(served, lambda ds: None)
torch.set_num_threads(1); torch.manual_seed(r.seed)
os.chdir(sys.argv[2])
t = time.monotonic()
sys.argv = [sys.argv[1]]
runpy.run_path(sys.argv[0], run_name="__main__")
sys.stderr.write(f"PLAIN {time.monotonic() - t:.3f}\n")
"""


def plain_seconds(path: Path, workdir: Path) -> float:
    done = subprocess.run([sys.executable, "-c", PLAIN, str(path), str(workdir)], capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"})
    line = [x for x in done.stderr.splitlines() if x.startswith("PLAIN ")]
    if not line:
        raise RuntimeError(done.stderr[-2000:])
    return float(line[-1].split()[1])


def compare(grader, path: Path, runs: int) -> dict:
    """Plain and graded runs taken in turn (plain, graded, plain, ...): this machine's speed drifts by tens of
    percent from minute to minute, and runs taken in two blocks measured the drift, not the harness."""
    plain, graded, walls = [], [], []
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / "grader-bench-plain"
    workdir.mkdir(exist_ok=True)
    for _ in range(runs):
        plain.append(plain_seconds(path, workdir))
        t = time.monotonic()
        rep = grader.grade(path)
        walls.append(time.monotonic() - t)
        graded.append(rep.timings.submission_s or float("nan"))
    p, g = statistics.median(plain), statistics.median(graded)
    paired = sorted(b / a - 1 for a, b in zip(plain, graded))  # each graded run against the plain one before it
    return {"file": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path), "runs": runs,
            "plain_s": round(p, 2), "graded_s": round(g, 2), "graded_wall_s": round(statistics.median(walls), 2),
            "overhead": round(g / p - 1, 3),
            "overhead_paired": [round(paired[0], 3), round(statistics.median(paired), 3), round(paired[-1], 3)],
            "score": rep.score, "status": rep.status.value}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--sandbox", default="process")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from grader.grade import Grader, Options

    grader = Grader(Options(sandbox=args.sandbox, device="cpu", jobs=max(1, os.cpu_count() or 1)))
    results = []
    for path in [p.resolve() for p in args.files] or DEFAULT:
        results.append(compare(grader, path, args.runs))
        print(json.dumps(results[-1]), file=sys.stderr)
    grader.close()
    print(json.dumps({"bench": "overhead", "sandbox": args.sandbox, "runs": args.runs, "results": results},
                     indent=2))


if __name__ == "__main__":
    main()
