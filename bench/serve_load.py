"""`grader serve` under load: many clients upload at once, then poll; the API's p95 while graders are busy.

    python bench/serve_load.py --clients 10 --files 20 --distinct 3        # a small run
    python bench/serve_load.py --clients 50 --files 200 --distinct 5       # the issue's load

The files are the reference with a comment per distinct variant (identical files are graded once). It
prints the p50/p95/max of every API call's response time (not grading time) made while a grader was busy,
the count of 5xx answers, and checks in the store that every accepted submission ended graded and each
distinct file was graded exactly once; it exits 1 when a check fails. Needs GRADER_DATA_DIR.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the one client of the API, shared with tests/test_serve.py

from serve_client import Server, load, make_course, p95  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--distinct", type=int, default=3)
    ap.add_argument("--jobs", default="1")
    ap.add_argument("--sandbox", default="process")
    args = ap.parse_args()
    reference = (ROOT / "reference" / "solution.py").read_bytes()
    files = [(f"f{i}.py", reference + f"\n# variant {i % args.distinct}\n".encode()) for i in range(args.files)]
    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        course = Path(tmp) / "course"
        tokens = make_course(course, [f"s{i:03d}" for i in range(args.clients)], ROOT / "tests" / "e2e_rubric.toml")
        del tokens["prof"]
        server = Server(course, "--sandbox", args.sandbox, "--jobs", args.jobs, "--timeout", "400",
                        "--per-hour", str(args.files + 1), "--max-queue", str(args.files + 1))
        started = time.monotonic()
        try:
            result = load(server.client, tokens, files)
        finally:
            server.stop()
        wall = time.monotonic() - started
        with sqlite3.connect(course / "grader.db") as db:
            gradings = dict(db.execute("SELECT sha256, COUNT(*) FROM serve_gradings GROUP BY sha256"))
            states = dict(db.execute("SELECT state, COUNT(*) FROM serve_submissions GROUP BY state"))
            uploaded = {sha for (sha,) in db.execute("SELECT DISTINCT sha256 FROM serve_submissions")}
    accepted = sum(map(len, result["ids"].values()))
    busy = [s for s, _, graders_busy in result["calls"] if graders_busy]
    statuses = [status for _, status, _ in result["calls"]]
    fivexx = sum(s >= 500 for s in statuses)
    once = set(gradings) == uploaded and set(gradings.values()) == {1}
    print(f"{args.clients} clients, {args.files} files ({args.distinct} distinct), jobs {args.jobs}: "
          f"{accepted} accepted, all graded in {wall:.1f} s; states in the store: {states}")
    print(f"API calls: {len(statuses)}, 5xx: {fivexx}, other non-2xx: {sum(300 <= s < 500 for s in statuses)}")
    print(f"API response while graders busy: p50 {statistics.median(busy) * 1000:.1f} ms, p95 "
          f"{p95(busy) * 1000:.1f} ms, max {max(busy) * 1000:.1f} ms over {len(busy)} calls")
    print(f"distinct files uploaded {len(uploaded)}, graded {len(gradings)}, each exactly once: {once}")
    ok = accepted == args.files and states == {"done": accepted} and fivexx == 0 and once
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
