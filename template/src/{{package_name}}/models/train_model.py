"""Fit and evaluate the example classifier.

``make_model`` returns scikit-learn's logistic regression when scikit-learn
is installed, and a small nearest-centroid classifier written with the
standard library otherwise, so the example runs whatever libraries were
chosen.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

Matrix = Sequence[Sequence[float]]


class NearestCentroid:
    """Classify each point by the closest class mean, on standardised features."""

    def fit(self, X: Matrix, y: Sequence[int]) -> NearestCentroid:
        if not X or len(X) != len(y):
            raise ValueError(f"need as many rows as labels, got {len(X)} and {len(y)}")

        columns = list(zip(*X, strict=True))
        self.means_ = [sum(c) / len(c) for c in columns]
        self.scales_ = [
            math.sqrt(sum((v - m) ** 2 for v in c) / len(c)) or 1.0
            for c, m in zip(columns, self.means_, strict=True)
        ]
        by_class: dict[int, list[list[float]]] = {}
        for row, label in zip(self._scale(X), y, strict=True):
            by_class.setdefault(label, []).append(row)
        self.classes_ = sorted(by_class)
        self.centroids_ = [
            [sum(c) / len(c) for c in zip(*by_class[label], strict=True)]
            for label in self.classes_
        ]
        return self

    def predict(self, X: Matrix) -> list[int]:
        if not hasattr(self, "centroids_"):
            raise RuntimeError("call fit() before predict()")
        return [
            self.classes_[
                min(
                    range(len(self.classes_)),
                    key=lambda k: math.dist(row, self.centroids_[k]),
                )
            ]
            for row in self._scale(X)
        ]

    def _scale(self, X: Matrix) -> list[list[float]]:
        return [
            [
                (v - m) / s
                for v, m, s in zip(row, self.means_, self.scales_, strict=True)
            ]
            for row in X
        ]


def make_model() -> Any:
    """Return an unfitted classifier with ``fit`` and ``predict``."""
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        return NearestCentroid()
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def train(X: Matrix, y: Sequence[int], model: Any = None) -> Any:
    """Fit ``model`` (default: ``make_model()``) on ``X`` and ``y`` and return it."""
    model = make_model() if model is None else model
    return model.fit(X, y)


def accuracy(model: Any, X: Matrix, y: Sequence[int]) -> float:
    """Share of rows of ``X`` whose prediction equals the label in ``y``."""
    if not y:
        raise ValueError("cannot score an empty set")
    predictions = list(model.predict(X))
    return sum(int(p) == int(t) for p, t in zip(predictions, y, strict=True)) / len(y)
