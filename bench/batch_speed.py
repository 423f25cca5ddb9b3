"""A class graded as a batch vs. one by one with `grader check`, and how busy the batch keeps the CPUs.

    python bench/batch_speed.py --copies 2 --jobs 2            # 2 copies of every example + the reference
    python bench/batch_speed.py --copies 1 --jobs 2 --no-check # the batch only

Each copy gets a trailing comment so its sha256 differs (the store would grade identical files once).
While the batch runs, every 0.1 s it counts the batch's threads that are running or waiting for a CPU
(state R, over the whole process tree: workers, sandboxes, harnesses, evaluators) and records which cores
each harness and evaluator may use. Needs GRADER_DATA_DIR (the real MNIST) and bubblewrap.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRADER = str(Path(sys.executable).parent / "grader")


def make_class(folder: Path, copies: int, limit: int | None) -> list[Path]:
    sources = [ROOT / "reference" / "solution.py"] + sorted((ROOT / "submissions").glob("*.py")) + \
              sorted((ROOT / "submissions").glob("*.ipynb"))
    files = []
    for i in range(copies):
        for src in sources:
            dest = folder / f"{src.stem}_{i}{src.suffix}"
            data = src.read_bytes()
            if src.suffix == ".py" and data.strip():
                data += f"\n# copy {i}\n".encode()
            shutil.copyfile(src, dest) if src.suffix != ".py" else dest.write_bytes(data)
            files.append(dest)
    return files[:limit] if limit else files


def tree(pid: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def sample(pid: int, pins: Counter) -> int:
    running = 0
    for p in tree(pid):
        try:
            cmd = Path(f"/proc/{p}/cmdline").read_bytes()
            if b"grader.harness" in cmd or b"grader.evaluate" in cmd:
                role = "evaluator" if b"grader.evaluate" in cmd else "harness"
                allowed = next(ln.split(":")[1].strip() for ln in Path(f"/proc/{p}/status").read_text().splitlines()
                               if ln.startswith("Cpus_allowed_list"))
                pins[(role, allowed)] += 1
            for task in Path(f"/proc/{p}/task").iterdir():
                state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
                running += state == "R"
        except (OSError, StopIteration):
            continue
    return running


def run_batch(files: list[Path], jobs: int, out: Path, timeout: str) -> dict:
    started = time.monotonic()
    proc = subprocess.Popen([GRADER, "grade", *map(str, files), "--out", str(out), "--jobs", str(jobs), "--sandbox",
                             "process", "--timeout", timeout, "--quiet"])
    counts, pins = [], Counter()
    while proc.poll() is None:
        counts.append(sample(proc.pid, pins))
        time.sleep(0.1)
    wall = time.monotonic() - started
    return {"wall": wall, "counts": counts, "pins": pins, "rc": proc.returncode}


def run_checks(files: list[Path], timeout: str) -> float:
    started = time.monotonic()
    for f in files:
        subprocess.run([GRADER, "check", str(f), "--sandbox", "process", "--timeout", timeout, "--json"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--limit", type=int, help="only the first N files")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", default="90")
    ap.add_argument("--no-check", action="store_true", help="skip the one-by-one `grader check` comparison")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "class").mkdir()
        files = make_class(Path(tmp) / "class", args.copies, args.limit)
        print(f"{len(files)} submissions, --jobs {args.jobs}, {os.cpu_count()} cores, "
              f"load average before: {os.getloadavg()[0]:.1f}")
        b = run_batch(files, args.jobs, Path(tmp) / "out", args.timeout)
        counts = b["counts"] or [0]
        over = sum(c > os.cpu_count() for c in counts) / len(counts)
        print(f"batch: {b['wall']:.1f} s wall, {len(files) / b['wall'] * 60:.1f} submissions/min (exit {b['rc']})")
        print(f"  batch threads running or runnable: mean {statistics.mean(counts):.2f}, max {max(counts)}, "
              f"more than {os.cpu_count()} in {over:.0%} of {len(counts)} samples")
        for (role, cores), n in sorted(b["pins"].items()):
            print(f"  {role} processes allowed on cores {cores}: seen in {n} samples")
        print((Path(tmp) / "out" / "grades.csv").read_text(encoding="utf-8-sig").splitlines()[0])
        statuses = Counter(line.split(",")[3] for line in
                           (Path(tmp) / "out" / "grades.csv").read_text(encoding="utf-8-sig").splitlines()[1:])
        print(f"  statuses: {dict(statuses)}")
        if not args.no_check:
            one = run_checks(files, args.timeout)
            print(f"one by one (grader check): {one:.1f} s wall, {len(files) / one * 60:.1f} submissions/min; "
                  f"batch speed-up x{one / b['wall']:.2f}")
        print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
