"""Issue 8's benchmark: how long a self-check and a class take, where the time goes, and what the harness
costs over a plain run. One JSON document on stdout (progress on stderr), so commits can be compared.

  (a) the unmodified reference, 10 epochs on 60,000 images (only with --unmodified: about 70 s)
  (b) `grader check reference/solution.py`, median of --runs, with the per-phase split from the reports;
      and the reference in a running batch worker (warm worker): its seconds per submission
  (c) a mixed class of --class-size examples through `grader grade --jobs auto`: wall, submissions/min,
      peak resident memory per sandboxed process, CPU seconds per submission, the mean per-phase split from
      the class's reports, and the training bound: the rate if a submission cost nothing but its own
      (instrumented) training and evaluation on every core
  (d) the same class with `grader check` one file after the other (skip with --no-one-by-one)
  (e) the harness's overhead: graded submission phase vs a plain run (bench/overhead.py), for the reference
      and for the slowest honest example (batch 20, 512-wide layers), --runs pairs taken in turn
  (f) ratios: a/b, d/c, and b against the `import torch, torchvision` floor measured in this run

Needs GRADER_DATA_DIR (the real MNIST) and bubblewrap. Run it on a quiet machine: every figure is wall time.
Usage: python bench/speed.py [--runs 5] [--class-size 40] [--unmodified] [--no-one-by-one] [--sandbox process]
                             [--class-from DIR]
Two commits: run this script with each one's interpreter (the grader it times is the one that interpreter
imports, e.g. a worktree's .venv/bin/python) and the same --class-from folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch_speed import tree  # noqa: E402
from overhead import DEFAULT as OVERHEAD_FILES  # noqa: E402
from overhead import compare  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
GRADER = str(Path(sys.executable).parent / "grader")
REFERENCE = ROOT / "reference" / "solution.py"
PHASES = ("sandbox_s", "import_s", "submission_s", "export_s", "evaluate_s", "total_s")


def graded_commit() -> str:
    """The commit of the grader this interpreter runs (a worktree's, when benchmarking an older one)."""
    import grader

    where = Path(grader.__file__).resolve().parent
    return subprocess.run(["git", "-C", str(where), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def import_floor(runs: int) -> float:
    """`import torch, torchvision` in a fresh interpreter: what any cold check pays at least once."""
    walls = []
    for _ in range(runs):
        t = time.monotonic()
        subprocess.run([sys.executable, "-c", "import torch, torchvision"], check=True)
        walls.append(time.monotonic() - t)
    return statistics.median(walls)


def unmodified() -> float:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "unmodified_reference.py")], check=True,
                          capture_output=True, text=True)
    return float(done.stdout.rsplit(":", 1)[1].split()[0])


def check(path: Path, sandbox: str) -> tuple[float, dict]:
    t = time.monotonic()
    done = subprocess.run([GRADER, "check", str(path), "--json", "--sandbox", sandbox], capture_output=True, text=True)
    wall = time.monotonic() - t
    return wall, json.loads(done.stdout)


def check_reference(runs: int, sandbox: str) -> dict:
    walls, reports = [], []
    for _ in range(runs):
        wall, report = check(REFERENCE, sandbox)
        if report["score"] != report["max_score"]:
            raise SystemExit(f"the reference did not get full marks: {report['message']}")
        walls.append(wall)
        reports.append(report)
    phases = {p: statistics.median(r["timings"][p] for r in reports if r["timings"][p] is not None) for p in PHASES}
    return {"runs": runs, "wall_median_s": round(statistics.median(walls), 2), "wall_min_s": round(min(walls), 2),
            "wall_max_s": round(max(walls), 2), "phases_median_s": {k: round(v, 2) for k, v in phases.items()},
            "backend": reports[0]["sandbox"]["backend"]}


def warm_reference(runs: int, sandbox: str) -> dict | None:
    """The reference graded again and again by one batch worker's Grader (warm worker, evaluator service):
    what each submission after the first costs, per phase, in a worker that is already running. None for a
    commit from before the warm worker (this script also benchmarks older commits)."""
    from grader.grade import Grader, Options

    if "warm_worker" not in Options.__dataclass_fields__:
        return None
    grader = Grader(Options(sandbox=sandbox, device="cpu", jobs=max(1, os.cpu_count() or 1), warm_worker=True,
                            evaluator_service=True))
    try:
        grader.grade(REFERENCE)  # the worker's own start (its torch import) is the first submission's
        reports = [grader.grade(REFERENCE) for _ in range(runs)]
    finally:
        grader.close()
    if any(r.score != r.max_score for r in reports):
        raise SystemExit("the reference did not get full marks in the warm worker")
    return {"runs": runs, "harness": reports[0].sandbox.limits.get("harness"),
            "total_median_s": round(statistics.median(r.timings.total_s for r in reports), 2),
            "phases_median_s": {p: round(statistics.median(getattr(r.timings, p) or 0 for r in reports), 2)
                                for p in PHASES}}


def mixed_class(folder: Path, size: int) -> list[Path]:
    """`size` examples spread evenly over submissions/expected.toml (the reference first), timeouts left out:
    a class is mostly honest programs with some mistakes, crashes and cheats. Each file gets a distinct
    trailing comment, so none is deduplicated away."""
    examples = tomllib.loads((ROOT / "submissions" / "expected.toml").read_text())["example"]
    pool = [ROOT / "submissions" / e["file"] for e in examples if e["status"] != "timeout"]
    step = max(1, len(pool) // max(1, size - 1))
    picked = [REFERENCE] + pool[::step]
    files = []
    for i, src in enumerate(picked[:size]):
        dest = folder / f"s{i:03d}_{src.name}"
        shutil.copyfile(src, dest)
        if src.suffix == ".py":
            with dest.open("a") as fh:
                fh.write(f"\n# student {i}\n")
        files.append(dest)
    return files


def sample(pid: int, peaks: dict, cpu: dict) -> None:
    """For every process under `pid`: its CPU seconds so far (kept per pid, so exited ones still count), and
    for the harness and evaluator interpreters (not the bubblewrap or supervisor around them, nor a warm
    worker outside any sandbox) the high-water resident memory."""
    for p in [pid, *tree(pid)]:
        try:
            stat = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            cpu[p] = max(cpu.get(p, 0.0), (int(stat[11]) + int(stat[12])) / CLOCK_TICKS)
            argv = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
            if not argv[0].endswith((b"python", b"python3")) or b"-m" not in argv:
                continue
            module = argv[argv.index(b"-m") + 1]
            status = Path(f"/proc/{p}/status").read_text().splitlines()
            if module == b"grader.harness.zygote":  # a warm worker's fork: the harness is the one in a sandbox
                sandboxed = len(next(ln for ln in status if ln.startswith("NSpid")).split()) > 2
                module = b"grader.harness" if sandboxed else None
            role = {b"grader.harness": "harness", b"grader.evaluate": "evaluator"}.get(module)
            if role:
                hwm = next(int(ln.split()[1]) for ln in status if ln.startswith("VmHWM"))
                peaks[(role, p)] = max(peaks.get((role, p), 0), hwm)
        except (OSError, StopIteration, ValueError, IndexError):
            continue


def grade_class(files: list[Path], out: Path, sandbox: str) -> dict:
    from grader.batch.run import default_jobs
    from grader.rubric import Rubric

    t = time.monotonic()
    # no --jobs: its default is auto (what the machine holds), and older graders took no "auto"
    proc = subprocess.Popen([GRADER, "grade", *map(str, files), "--out", str(out), "--sandbox", sandbox, "--quiet"])
    peaks: dict = {}
    cpu_by_pid: dict = {}
    while proc.poll() is None:
        sample(proc.pid, peaks, cpu_by_pid)
        time.sleep(0.1)
    wall = time.monotonic() - t
    cpu = sum(cpu_by_pid.values())
    rows = (out / "grades.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    phases = class_phases(out / "grader.db")
    by_role = {role: [kb for (r, _), kb in peaks.items() if r == role] for role in ("harness", "evaluator")}
    return {"submissions": len(files), "graded_rows": len(rows), "exit_code": proc.returncode,
            "jobs_auto": default_jobs(Rubric().limits.memory_mb),
            "wall_s": round(wall, 1), "per_minute": round(len(files) / wall * 60, 1),
            "cpu_s_per_submission": round(cpu / len(files), 2),  # sampled every 0.1 s: a lower bound
            "phases_mean_s": phases,
            # the rate if a submission cost only its own training (and its evaluation) on every core:
            # no import, no sandbox, no host; what no worker design can beat on this class and machine
            "training_bound_per_minute": round(len(os.sched_getaffinity(0)) * 60 /
                                               max(1e-9, phases["submission_s"] + phases["evaluate_s"]), 1),
            "peak_rss_mb": {role: {"max": round(max(v) / 1024), "median": round(statistics.median(v) / 1024)}
                            for role, v in by_role.items() if v}}


def class_phases(db: Path) -> dict:
    """Mean seconds per phase over the class's reports (a phase a report lacks counts as 0)."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        timings = [json.loads(r)["timings"] for (r,) in conn.execute("SELECT report FROM results")]
    return {p: round(sum(t.get(p) or 0 for t in timings) / max(1, len(timings)), 2) for p in PHASES}


def one_by_one(files: list[Path], sandbox: str) -> dict:
    t = time.monotonic()
    for f in files:
        subprocess.run([GRADER, "check", str(f), "--json", "--sandbox", sandbox], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    wall = time.monotonic() - t
    return {"submissions": len(files), "wall_s": round(wall, 1), "per_minute": round(len(files) / wall * 60, 1)}


def overhead(runs: int, sandbox: str) -> list[dict]:
    from grader.grade import Grader, Options

    grader = Grader(Options(sandbox=sandbox, device="cpu", jobs=max(1, os.cpu_count() or 1)))  # 1 thread, as plain
    rows = [compare(grader, path, runs) for path in OVERHEAD_FILES]
    grader.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--class-size", type=int, default=40)
    ap.add_argument("--sandbox", default="process")
    ap.add_argument("--unmodified", action="store_true", help="also time the unmodified reference (a)")
    ap.add_argument("--no-one-by-one", action="store_true", help="skip (d)")
    ap.add_argument("--class-from", type=Path, help="grade these files as the class (c, d) instead of picking them "
                    "from submissions/expected.toml, whose list grows: two commits compare only on the same files")
    args = ap.parse_args()
    result: dict = {"bench": "speed", "cores": len(os.sched_getaffinity(0)),
                    "load_average_before": round(os.getloadavg()[0], 2),
                    "commit": graded_commit()}
    floor = import_floor(3)
    result["import_floor_s"] = round(floor, 2)
    log(f"import floor {floor:.2f} s")
    if args.unmodified:
        result["a_unmodified_s"] = round(unmodified(), 1)
        log(f"(a) {result['a_unmodified_s']} s")
    result["b_check"] = check_reference(args.runs, args.sandbox)
    log(f"(b) {result['b_check']}")
    result["b_warm"] = warm_reference(args.runs, args.sandbox)
    log(f"(b, warm) {result['b_warm']}")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "class").mkdir()
        files = sorted(args.class_from.iterdir()) if args.class_from else \
            mixed_class(Path(tmp) / "class", args.class_size)
        result["c_class"] = grade_class(files, Path(tmp) / "out", args.sandbox)
        log(f"(c) {result['c_class']}")
        if not args.no_one_by_one:
            result["d_one_by_one"] = one_by_one(files, args.sandbox)
            log(f"(d) {result['d_one_by_one']}")
    result["e_overhead"] = overhead(args.runs, args.sandbox)
    log(f"(e) {result['e_overhead']}")
    b = result["b_check"]["wall_median_s"]
    result["f_ratios"] = {"b_over_import_floor": round(b / floor, 2),
                          **({"a_over_b": round(result["a_unmodified_s"] / b, 1)} if args.unmodified else {}),
                          **({"d_over_c": round(result["d_one_by_one"]["wall_s"] / result["c_class"]["wall_s"], 2)}
                             if "d_one_by_one" in result else {})}
    result["load_average_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
