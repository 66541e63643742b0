"""Atomic file writes: a crash leaves the old file or the new one, never half.

Everything the toolkit writes that matters (models, metadata, manifests,
locks, tables) goes through here: the data lands in a temporary file in the
target's folder, is flushed to disk, and only then replaces the target.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _file_mode(target: Path) -> int:
    """Mode for ``target``: its current one, else what the umask allows."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; it replaces ``target`` on success and
    is removed on failure."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    os.close(fd)
    temporary = Path(name)
    try:
        os.chmod(temporary, _file_mode(target))
        yield temporary
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def atomic_write(target: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8 with LF endings) to ``target`` atomically."""
    with atomic_path(target) as temporary:
        if isinstance(data, str):
            temporary.write_text(data, encoding="utf-8", newline="\n")
        else:
            temporary.write_bytes(data)
    return Path(target)
