"""Read and write the project's tables as CSV, with the standard library.

The example data set is a synthetic customer table with a churn label, so
that every part of the pipeline has something real to run on from day one.
Replace ``synthetic_customers`` with the loader of your own raw data.
"""

from __future__ import annotations

import csv
import os
import random
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..atomic import atomic_path

Row = dict[str, str]

CUSTOMER_COLUMNS = (
    "customer_id",
    "tenure_months",
    "monthly_spend",
    "support_calls",
    "churned",
)


def synthetic_customers(n: int = 200, seed: int = 0) -> list[Row]:
    """Return ``n`` reproducible customer rows where churn depends on the features."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")

    rng = random.Random(seed)
    rows = []
    for index in range(n):
        tenure = rng.randint(1, 72)
        spend = round(rng.uniform(10, 120), 2)
        calls = rng.randint(0, 9)
        risk = 0.9 * calls / 9 + 0.6 * (1 - tenure / 72) + 0.2 * spend / 120
        churned = int(risk + rng.gauss(0, 0.12) > 0.85)
        rows.append(
            {
                "customer_id": f"C{index:05d}",
                "tenure_months": str(tenure),
                "monthly_spend": str(spend),
                "support_calls": str(calls),
                "churned": str(churned),
            }
        )
    return rows


def write_csv(
    rows: Iterable[Mapping[str, object]], path: str | os.PathLike[str]
) -> Path:
    """Write rows to ``path`` atomically: a crash never leaves half a file."""
    rows = list(rows)
    if not rows:
        raise ValueError("refusing to write an empty table")

    with (
        atomic_path(path) as temporary,
        temporary.open("w", newline="", encoding="utf-8") as handle,
    ):
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


def load_csv(path: str | os.PathLike[str]) -> list[Row]:
    """Read a CSV file with a header row into a list of dicts of strings."""
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"no CSV file at {source}")

    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    if not rows:
        raise ValueError(f"{source} has a header but no rows")
    return rows
