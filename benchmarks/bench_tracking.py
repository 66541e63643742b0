"""How the SQLite tracking store scales: log N runs, then time the queries.

    python benchmarks/bench_tracking.py [--runs 100000] [--keep PATH]

Runs the generated package's ``tracking`` module straight from the template
(it is plain Python). Each query is timed as the best of several tries on a
warm file; the script exits 1 when a query misses its goal, so the goals
below are checked, not just printed.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tracking_pair import fastest as best_time
from tracking_pair import load_tracking

# Seconds a query may take on a 100,000-run file, on a 2-core machine.
GOALS = {
    "best run": 0.02,
    "best run, lower is better": 0.02,
    "best run on one dataset": 0.05,
    "newest 20 runs": 0.02,
    "newest 20 runs with a tag": 0.05,
    "one run by id": 0.005,
}


def fastest(operation: Callable[[], object], tries: int = 5) -> float:
    """Best time of ``tries`` runs of ``operation``."""
    return best_time(operation, tries)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="write the database here")
    args = parser.parse_args()
    tracking = load_tracking()

    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep or Path(scratch) / "runs.sqlite"
        tracker = tracking.Tracker(tracking.SQLiteStore(path), root=scratch)
        rng = random.Random(7)
        start = time.perf_counter()
        for number in range(args.runs):
            tracker.log_run(
                {"C": rng.choice([0.1, 1.0, 10.0]), "seed": number},
                {"accuracy": rng.random(), "loss": rng.random(), "f1": rng.random()},
                name=f"sweep-{number % 50}",
                dataset=f"customers-v{number % 10}",
                tags={"stage": rng.choice(["dev", "review", "prod"])},
            )
        logged = time.perf_counter() - start
        some_id = tracker.runs(limit=1, oldest_first=True)[0].id

        timings = {
            "best run": fastest(lambda: tracker.best("accuracy")),
            "best run, lower is better": fastest(lambda: tracker.best("loss", False)),
            "best run on one dataset": fastest(
                lambda: tracker.best("f1", dataset="customers-v3")
            ),
            "newest 20 runs": fastest(lambda: tracker.runs(limit=20)),
            "newest 20 runs with a tag": fastest(
                lambda: tracker.runs(tags={"stage": "prod"}, limit=20)
            ),
            "one run by id": fastest(lambda: tracker.get(some_id)),
        }
        listed = fastest(lambda: tracker.runs(), tries=1)
        sql, arguments = tracking.best_run_sql("accuracy", True, tracking.Query())
        with sqlite3.connect(path) as connection:
            plan = [
                row[-1]
                for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", arguments)
            ]
        tracker.close()

    rate = args.runs / logged
    print(f"logged {args.runs} runs in {logged:.1f} s ({rate:.0f} runs/s)")
    print(f"read all {args.runs} runs in {listed:.2f} s")
    print(f"best-run plan: {'; '.join(plan)}")
    missed = 0
    for label, seconds in timings.items():
        goal = GOALS[label] * max(1.0, args.runs / 100_000)
        verdict = "ok" if seconds <= goal else "MISSED"
        missed += verdict != "ok"
        shown = f"{seconds * 1000:8.2f} ms  (goal {goal * 1000:.0f} ms)"
        print(f"{label:<28} {shown} {verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
