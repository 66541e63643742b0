"""Where the project lives on disk, found without any configuration."""

from __future__ import annotations

import os
from pathlib import Path

MARKERS = ("pyproject.toml", "config")


def _is_root(folder: Path) -> bool:
    return all((folder / marker).exists() for marker in MARKERS)


def project_root(start: str | os.PathLike[str] | None = None) -> Path:
    """The project folder: the nearest parent of ``start`` holding
    ``pyproject.toml`` and ``config/``. Without ``start``, the search begins
    at the working directory and falls back to the folder this package was
    installed from in editable mode."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_root(folder):
            return folder

    source_checkout = Path(__file__).resolve().parents[2]
    if start is None and _is_root(source_checkout):
        return source_checkout
    raise FileNotFoundError(
        f"no project found at or above {here} (looked for {' and '.join(MARKERS)})"
    )
