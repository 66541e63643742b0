"""The benchmark script runs end to end (one repetition, small sizes)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

FIGURES = [
    "Render",
    "Bootstrap, uv path (warm cache)",
    "Bootstrap, pip path (warm cache)",
    "Import",
    "Update",
    "Tracking: log runs, then find the best",
    "Tracking: best of 1,000 runs",
]


def test_smoke_run_measures_every_figure(tmp_path):
    table, raw = tmp_path / "benchmarks.md", tmp_path / "benchmarks.json"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks/run.py"),
            "--smoke",
            "--output",
            str(table),
            "--json",
            str(raw),
            "--workdir",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        text=True,
    )

    figures = json.loads(raw.read_text())["figures"]
    assert [figure["name"] for figure in figures] == FIGURES
    for figure in figures:
        assert figure["subject_times"] and figure["baseline_times"], figure["name"]
        assert figure["ratio"] > 0, figure["name"]
    text = table.read_text()
    assert "Measured on" in text and "python benchmarks/run.py --smoke" in text
    assert text.count("\n| ") == len(FIGURES) + 2  # header and separator too

    table.unlink()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks/run.py"),
            "--table-only",
            "--output",
            str(table),
            "--json",
            str(raw),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    assert table.read_text() == text, "the table is a pure function of the JSON"
