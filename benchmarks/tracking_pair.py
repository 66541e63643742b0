"""Log the same runs through one tracking backend, then find the best run.

    python benchmarks/tracking_pair.py --backend toolkit --runs 10000 --db X
    python benchmarks/tracking_pair.py --backend mlflow --runs 10000 --db X

Prints JSON: seconds to log every run, and the best of five timings of the
best-run query on the warm file.
The toolkit side runs the template's own ``tracking`` module; the MLflow
side uses MLflow's client on an SQLite store, the same shape of data (three
params, three metrics, a name, a dataset and a tag per run). Run both with
the same interpreter (one that has mlflow) so only the backend differs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import sys
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
TOOLKIT = Path(__file__).resolve().parents[1] / "template/src/{{package_name}}"


def runs(count: int) -> Iterator[tuple[dict, dict, str, str, dict]]:
    rng = random.Random(7)
    for number in range(count):
        params = {"C": rng.choice([0.1, 1.0, 10.0]), "seed": number, "solver": "lbfgs"}
        metrics = {"accuracy": rng.random(), "loss": rng.random(), "f1": rng.random()}
        tags = {"stage": rng.choice(["dev", "review", "prod"])}
        yield params, metrics, f"sweep-{number % 50}", f"customers-v{number % 10}", tags


def fastest(query: Callable[[], T], tries: int = 5) -> tuple[float, T]:
    """Best time of ``tries`` runs of ``query`` on a warm file, and its answer."""
    times = []
    for _ in range(tries):
        start = time.perf_counter()
        answer = query()
        times.append(time.perf_counter() - start)
    return min(times), answer


def load_tracking() -> types.ModuleType:
    """The template's tracking module, imported as part of a stand-in package."""
    sys.dont_write_bytecode = True  # no __pycache__ inside the template source
    package = types.ModuleType("toolkit")
    package.__path__ = [str(TOOLKIT)]
    sys.modules["toolkit"] = package
    return importlib.import_module("toolkit.tracking")


def toolkit(count: int, database: Path) -> dict[str, float]:
    tracking = load_tracking()
    tracker = tracking.Tracker(tracking.SQLiteStore(database), root=database.parent)
    start = time.perf_counter()
    for params, metrics, name, dataset, tags in runs(count):
        tracker.log_run(params, metrics, name=name, dataset=dataset, tags=tags)
    logged = time.perf_counter() - start

    found, best = fastest(lambda: tracker.best("accuracy"))
    tracker.close()
    return {
        "log_seconds": logged,
        "best_seconds": found,
        "best": best.metrics["accuracy"],
    }


def mlflow(count: int, database: Path) -> dict[str, float]:
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{database}")
    experiment = client.create_experiment("benchmark")
    start = time.perf_counter()
    for params, metrics, name, dataset, tags in runs(count):
        moment = int(time.time() * 1000)
        run = client.create_run(experiment, run_name=name, tags={"dataset": dataset})
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, moment, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        client.set_terminated(run.info.run_id)
    logged = time.perf_counter() - start

    found, (best,) = fastest(
        lambda: client.search_runs(
            [experiment], order_by=["metrics.accuracy DESC"], max_results=1
        )
    )
    return {
        "log_seconds": logged,
        "best_seconds": found,
        "best": best.data.metrics["accuracy"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["toolkit", "mlflow"], required=True)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--db", type=Path, required=True, help="a new SQLite file")
    args = parser.parse_args()
    if args.db.exists():
        parser.error(f"{args.db} exists; give a new file")

    measure = toolkit if args.backend == "toolkit" else mlflow
    json.dump(measure(args.runs, args.db.resolve()), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
