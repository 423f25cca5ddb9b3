"""The same class through `--executor local` and `--executor ray`, one after the other, and the driver's own
cost per report, from which the class size per hour N nodes would reach before the driver is the bottleneck.

    python bench/ray_overhead.py --copies 2 --jobs 2          # 40 files: the issue's figure (minutes)
    python bench/ray_overhead.py --limit 4 --jobs 2           # a quick look

Ray runs as a one-node cluster this process starts (with --jobs CPUs, as the local pool gets --jobs
workers) before either batch, as a real cluster would be running before a batch: its start-up is printed
apart. The driver's costs are measured on reports the Ray batch wrote: a store write (SQLite commit), the
share of the exports regenerated at the end, and a Ray round trip (a report-sized answer from an actor),
with the driver's wait over as many unfinished calls as N nodes of 16 one-core slots would keep running.
Needs GRADER_DATA_DIR (the real MNIST), bubblewrap and Ray (pip install 'grader[ray]').
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from batch_speed import GRADER, make_class

NODE_CORES = 16
SAMPLES = 200


def batch(files: list[Path], out: Path, jobs: int, timeout: str, *extra: str) -> float:
    started = time.monotonic()
    done = subprocess.run([GRADER, "grade", *map(str, files), "--out", str(out), "--jobs", str(jobs), "--sandbox",
                           "process", "--timeout", timeout, "--quiet", *extra], stderr=subprocess.PIPE, text=True)
    if done.returncode not in (0, 1, 2):
        raise SystemExit(f"the batch failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return time.monotonic() - started


def per_call(fn, n: int = SAMPLES) -> float:
    started = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - started) / n


def store_write_s(reports: list[str], folder: Path) -> float:
    from grader.batch.store import Store

    store = Store(folder / "bench.db")
    run = store.begin_run("bench", "digest", "0", [])
    try:
        return per_call(lambda i: store.save(f"{i:064x}", "digest", "0", reports[i % len(reports)], run))
    finally:
        store.close()


def export_share_s(out: Path, folder: Path) -> float:
    """The exports at a batch's end, for this class copied up to SAMPLES students, per student."""
    from grader.batch import exports
    from grader.batch.store import Store

    store = Store(out / "grader.db")
    try:
        digest, version = store.db.execute("SELECT rubric_digest, grader_version FROM results").fetchone()
        rows = store.rows(digest, version)
        info = store.run_info(store.db.execute("SELECT max(id) FROM runs").fetchone()[0])
    finally:
        store.close()
    many = [r for _ in range(SAMPLES // len(rows) + 1) for r in rows][:SAMPLES]
    many = [replace(r, student=replace(r.student, id=f"s{i}")) for i, r in enumerate(many)]
    started = time.perf_counter()
    exports.write_all(folder / "exports", many, info)
    return (time.perf_counter() - started) / len(many)


def ray_round_trip_s(reports: list[str], in_flight: list[int]) -> dict[int, float]:
    """A work item out and a report back through an actor, plus ray.wait over `k` unfinished calls."""
    import ray

    @ray.remote(num_cpus=0)
    class Echo:
        def grade(self, work: bytes, i: int) -> str:
            return reports[i % len(reports)]

    @ray.remote(num_cpus=0)
    class Busy:
        def hold(self) -> None:
            time.sleep(600)

    echo, work = Echo.remote(), os.urandom(4096)
    ray.get(echo.grade.remote(work, 0))
    base = per_call(lambda i: ray.get(echo.grade.remote(work, i)))
    costs = {}
    for k in in_flight:
        busy = Busy.options(max_concurrency=1).remote()
        pending = [busy.hold.remote() for _ in range(k)]
        costs[k] = base + per_call(lambda i: ray.wait(pending, num_returns=1, timeout=0), n=50)
        ray.kill(busy)
    return costs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--limit", type=int, help="only the first N files")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", default="400")
    args = ap.parse_args()
    import ray

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "class").mkdir()
        files = make_class(tmp / "class", args.copies, args.limit)
        print(f"{len(files)} submissions, --jobs {args.jobs}, {os.cpu_count()} cores, "
              f"load average before: {os.getloadavg()[0]:.1f}")
        started = time.monotonic()
        ray.init(num_cpus=args.jobs, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        print(f"ray: a one-node cluster started in {time.monotonic() - started:.1f} s (not counted below)")
        address = ray.get_runtime_context().gcs_address
        local = batch(files, tmp / "local", args.jobs, args.timeout)
        on_ray = batch(files, tmp / "ray", args.jobs, args.timeout, "--executor", "ray", "--address", address)
        same = (tmp / "local" / "grades.csv").read_bytes() == (tmp / "ray" / "grades.csv").read_bytes()
        print(f"local: {local:.1f} s · ray: {on_ray:.1f} s · overhead {(on_ray / local - 1) * 100:+.1f} % "
              f"· grades.csv identical: {same}")

        reports = [p.read_text() for p in sorted((tmp / "ray" / "reports").glob("*.json"))]
        write, share = store_write_s(reports, tmp), export_share_s(tmp / "ray", tmp)
        parse = per_call(lambda i: json.loads(reports[i % len(reports)]))
        nodes = (1, 10, 100)
        trips = ray_round_trip_s(reports, [n * NODE_CORES for n in nodes])
        print(f"driver, per report: store write {write * 1e3:.2f} ms, export share {share * 1e3:.2f} ms, "
              f"progress (JSON parse) {parse * 1e3:.2f} ms, report size {statistics.mean(map(len, reports)) / 1e3:.0f} kB")
        slot_s = on_ray * args.jobs / len(files)  # core-seconds one submission took a slot here
        print(f"a slot grades one submission in {slot_s:.1f} core-s (this class, this machine)")
        print(f"{'nodes':>6} {'slots':>6} {'Ray trip+wait':>14} {'driver/h':>10} {'cluster/h':>10} {'class/h':>10}")
        for n in nodes:
            slots = n * NODE_CORES
            driver = 3600 / (write + share + parse + trips[slots])
            cluster = slots * 3600 / slot_s
            print(f"{n:>6} {slots:>6} {trips[slots] * 1e3:>11.2f} ms {driver:>10,.0f} {cluster:>10,.0f} "
                  f"{min(driver, cluster):>10,.0f}")
        ray.shutdown()
        print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
