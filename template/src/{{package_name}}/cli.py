"""Command line of the project: ``python -m <package> <command>``.

Each command is a small function taking the parsed arguments and returning
an exit code. Errors a person can fix are reported in one line on stderr,
never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import manifest as manifest_module
from .paths import project_root

Handler = Callable[[argparse.Namespace], int]

# Errors caused by input or by the state of the project, reported in one line.
USER_ERRORS = (FileNotFoundError, ValueError, KeyError, RuntimeError, PermissionError)


def cmd_lock(args: argparse.Namespace) -> int:
    root = project_root(args.root)
    venv = root / manifest_module.VENV_DIR
    if not manifest_module.venv_python(venv).exists():
        raise FileNotFoundError(f"no virtual environment at {venv}")
    manager = manifest_module.detect_manager(venv)
    path = manifest_module.write_lock(root, manager, shutil.which("uv"))
    print(path.relative_to(root))
    return 0


def cmd_manifest(args: argparse.Namespace) -> int:
    root = project_root(args.root)
    current = manifest_module.build_manifest(root)
    if not args.check:
        path = manifest_module.write_manifest(root, current)
        print(path.relative_to(root))
        return 0

    newest = manifest_module.newest_manifest(root)
    if newest is None:
        raise FileNotFoundError(
            f"no manifest under {root / manifest_module.MANIFEST_DIR}"
        )
    recorded = json.loads(newest.read_text(encoding="utf-8"))
    findings = manifest_module.drift(recorded, current)
    for line in findings:
        print(line)
    name = newest.relative_to(root)
    print(
        f"{len(findings)} difference(s) from {name}" if findings else f"matches {name}"
    )
    return 1 if findings else 0


def cmd_import_conda(args: argparse.Namespace) -> int:
    from . import conda_import

    root = project_root(args.root)
    conversion = conda_import.convert_file(Path(args.environment))
    pyproject = root / "pyproject.toml"
    merge = conda_import.update_pyproject(
        pyproject, conversion.requirements, write=not args.dry_run
    )

    for requirement in merge.added:
        print(f"  + {requirement}")
    for before, after in merge.replaced:
        print(f"  ~ {before} -> {after}")
    print(
        f"pyproject.toml: {len(merge.added)} added, {len(merge.replaced)} replaced, "
        f"{len(merge.unchanged)} already there"
    )
    print(", ".join(f"{status}: {count}" for status, count in conversion.counts()))
    if conversion.python:
        required = conda_import.requires_python(pyproject) or "not set"
        print(
            f"the environment asked for Python {conversion.python}; "
            f"requires-python is {required}"
        )

    if args.dry_run:
        print("dry run: nothing written")
        return 0
    report = conda_import.migration_report(conversion, merge)
    path = conda_import.write_migration(root, report)
    print(f"{path.relative_to(root)}: every change, for review")
    return 0


def _add_conda_commands(subparsers: argparse._SubParsersAction) -> None:
    importer = subparsers.add_parser(
        "import-conda",
        help="add a conda environment.yml's packages to pyproject.toml",
    )
    importer.add_argument("environment", help="the environment.yml to import")
    importer.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would change, write nothing",
    )
    importer.set_defaults(handler=cmd_import_conda)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m {__package__}")
    parser.add_argument(
        "--root", help="project folder (default: found from the working directory)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lock = commands.add_parser(
        "lock", help="pin everything installed in .venv to requirements.lock"
    )
    lock.set_defaults(handler=cmd_lock)

    manifest = commands.add_parser(
        "manifest", help="write a deployment manifest of the .venv (or --check it)"
    )
    manifest.add_argument(
        "--check",
        action="store_true",
        help="compare the .venv with the newest manifest",
    )
    manifest.set_defaults(handler=cmd_manifest)

    _add_conda_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except USER_ERRORS as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 2
