"""Import a conda environment file into a freshly copied project.

Copier runs this once, after the first copy and before the bootstrap, when
the ``conda_environment`` question was answered. It converts the file with
the project's own ``conda_import`` module, puts the requirements into the
rendered ``pyproject.toml`` (only the ``dependencies`` array changes) and
writes ``MIGRATION.md``, so the bootstrap then installs the imported
packages.

Like the bootstrap, it exits 0 when the import fails: copier deletes a new
project whose task fails. It then changes no file and says how to import
later with the project's own command.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from bootstrap import load_project_module

# The array exactly as template/pyproject.toml.jinja renders it.
DEPENDENCIES = re.compile(r"^dependencies = \[\n(?P<items>(?:  .*,\n)*)\]$", re.M)


def read_dependencies(pyproject: str) -> list[str]:
    """The requirements of the rendered ``dependencies`` array."""
    found = DEPENDENCIES.search(pyproject)
    if found is None:
        raise ValueError(
            "pyproject.toml has no dependencies array in the rendered form"
        )
    return [json.loads(line.strip()[:-1]) for line in found["items"].splitlines()]


def write_dependencies(pyproject: str, requirements: Sequence[str]) -> str:
    """``pyproject`` with its ``dependencies`` array holding ``requirements``."""
    items = "".join(f"  {json.dumps(r, ensure_ascii=False)},\n" for r in requirements)
    if DEPENDENCIES.search(pyproject) is None:
        raise ValueError(
            "pyproject.toml has no dependencies array in the rendered form"
        )
    return DEPENDENCIES.sub(lambda _: f"dependencies = [\n{items}]", pyproject, 1)


def import_environment(root: Path, package: str, environment: Path) -> str:
    """Convert ``environment`` into ``root``'s pyproject.toml and MIGRATION.md;
    the summary to print. Raises before writing anything if the file is bad."""
    conda_import = load_project_module(root, package, "conda_import")
    atomic = load_project_module(root, package, "atomic")

    conversion = conda_import.convert_file(environment)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    merge = conda_import.merge_requirements(
        read_dependencies(text), conversion.requirements
    )
    report = conda_import.migration_report(conversion, merge)

    atomic.atomic_write(pyproject, write_dependencies(text, merge.dependencies))
    summary = (
        f"Imported {environment.name}: {len(merge.added)} requirements added to "
        f"pyproject.toml ({len(conversion.having(conda_import.RENAMED))} renamed "
        f"from conda), {len(conversion.having(conda_import.DROPPED_ENTRY))} "
        f"conda-only entries dropped, "
        f"{len(conversion.having(conda_import.NOT_TRANSLATED))} not translated."
    )
    try:
        path = conda_import.write_migration(root, report)
    except OSError as error:
        return f"{summary}\nMIGRATION.md could not be written ({error}):\n{report}"
    return f"{summary}\n{path.name} lists every change: review it."


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environment", required=True, help="environment.yml path")
    parser.add_argument("--package", required=True, help="import name of the project")
    args = parser.parse_args(argv)
    if not args.package.isidentifier():
        parser.error(f"--package must be an import name, got {args.package!r}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path.cwd()
    environment = Path(args.environment)
    try:
        print(import_environment(root, args.package, environment), flush=True)
    except (OSError, ValueError, ImportError) as error:
        later = [
            ".venv/bin/python",
            "-m",
            args.package,
            "import-conda",
            str(environment),
        ]
        print(
            f"\nConda import skipped: {error}\n"
            "No file was changed. Once the project is built, import with:\n"
            f"  {shlex.join(later)}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
