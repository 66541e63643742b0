"""Carry a project along when a template release moves one of its files.

Run by a copier ``_migrations`` entry during ``copier update``, with the
interpreter that runs copier and the project as working directory::

    migrate.py move OLD NEW

moves ``OLD`` (a file or a folder, with its contents) to ``NEW``. It never
overwrites: when ``NEW`` already exists both are left as they are and a
warning says so, and when ``OLD`` is gone there is nothing to do. Paths must
stay inside the project.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path


def inside(root: Path, relative: str) -> Path:
    """``root / relative``, refusing absolute paths and escapes from ``root``."""
    candidate = Path(relative)
    resolved = (root / candidate).resolve()
    if candidate.is_absolute() or not resolved.is_relative_to(root.resolve()):
        raise ValueError(f"{relative!r} is not a path inside the project")
    return root / candidate


def move(root: Path, old: str, new: str) -> str:
    """Move ``old`` to ``new`` inside ``root``; a one-line account of what happened."""
    source, target = inside(root, old), inside(root, new)
    if not source.exists():
        return f"nothing to move: {old} does not exist"
    if target.exists():
        return f"warning: kept both {old} and {new}; merge them by hand"

    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(os.fspath(source), os.fspath(target))
    return f"moved {old} -> {new}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    move_parser = commands.add_parser("move", help="move a file or folder")
    move_parser.add_argument("old")
    move_parser.add_argument("new")
    args = parser.parse_args(argv)

    try:
        print(move(Path.cwd(), args.old, args.new))
    except (ValueError, OSError) as error:
        print(f"migration failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
