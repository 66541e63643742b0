"""Build the numeric feature matrix and the label vector from raw rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

FEATURES = ("tenure_months", "monthly_spend", "support_calls", "spend_per_tenure")
LABEL = "churned"


def _number(row: Mapping[str, str], column: str, line: int) -> float:
    try:
        raw = row[column]
    except KeyError:
        raise KeyError(f"row {line}: missing column {column!r}") from None
    try:
        return float(raw)
    except (TypeError, ValueError) as error:
        # `as error` keeps the parentheses, which ruff drops for 3.14+ targets:
        # the file then formats the same for every python_version.
        raise ValueError(f"row {line}: {column}={raw!r} is not a number") from error


def build_features(
    rows: Sequence[Mapping[str, str]],
) -> tuple[list[list[float]], list[int]]:
    """Return ``(X, y)``: one list of ``FEATURES`` values and one label per row."""
    matrix, labels = [], []
    for line, row in enumerate(rows, start=1):
        tenure = _number(row, "tenure_months", line)
        spend = _number(row, "monthly_spend", line)
        calls = _number(row, "support_calls", line)
        matrix.append([tenure, spend, calls, spend / max(tenure, 1.0)])
        labels.append(int(_number(row, LABEL, line)))
    return matrix, labels
