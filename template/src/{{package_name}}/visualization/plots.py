"""Plots of the example pipeline.

``text_histogram`` needs nothing but the standard library and works in a
terminal or a log. ``save_histogram`` needs matplotlib, imported only when
called, and draws without pyplot so it never changes a notebook's backend.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


def text_histogram(values: Sequence[float], bins: int = 10, width: int = 40) -> str:
    """Render a histogram of ``values`` as lines of ``#``, one per bin."""
    if not values:
        raise ValueError("cannot draw a histogram of no values")
    if bins < 1 or width < 1:
        raise ValueError(f"bins and width must be positive, got {bins} and {width}")

    low, high = min(values), max(values)
    span = (high - low) or 1.0
    counts = [0] * bins
    for value in values:
        counts[min(int((value - low) / span * bins), bins - 1)] += 1
    tallest = max(counts)
    lines = []
    for index, count in enumerate(counts):
        start = low + span * index / bins
        bar = "#" * round(count / tallest * width)
        lines.append(f"{start:>10.2f} | {bar} {count}")
    return "\n".join(lines)


def save_histogram(
    values: Sequence[float],
    path: str | os.PathLike[str],
    bins: int = 20,
    title: str = "",
) -> Path:
    """Save a histogram of ``values`` as an image at ``path`` (needs matplotlib)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "save_histogram needs matplotlib: pip install matplotlib"
        ) from error

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    axes.hist(list(values), bins=bins)
    axes.set_title(title)
    figure.savefig(target)
    return target
