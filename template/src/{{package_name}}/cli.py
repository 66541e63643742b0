"""Command line of the project: ``python -m <package> <command>``.

Each command is a small function taking the parsed arguments and returning
an exit code. Errors a person can fix are reported in one line on stderr,
never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import manifest as manifest_module
from .paths import project_root
from .tracking import MISSING, Run, Tracker

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


def _load_settings(root: Path, env: str | None) -> dict[str, Any]:
    """``config/base.yaml`` with ``config/<env>.yaml`` over it, one level deep."""
    import yaml

    env = env or os.environ.get(f"{__package__.upper()}_ENV") or "development"
    config = root / "config"
    if not (config / f"{env}.yaml").is_file():
        known = sorted(
            p.stem for p in config.glob("*.yaml") if p.stem not in ("base", "local")
        )
        raise ValueError(f"unknown environment {env!r} (known: {', '.join(known)})")

    settings: dict[str, Any] = {}
    for path in (config / "base.yaml", config / f"{env}.yaml"):
        try:
            layer = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise ValueError(f"{path}: {error}".replace("\n", " ")) from error
        for key, value in layer.items():
            if isinstance(value, dict) and isinstance(settings.get(key), dict):
                settings[key] = {**settings[key], **value}
            else:
                settings[key] = value
    return settings


def _tracker(args: argparse.Namespace) -> Tracker:
    root = project_root(args.root)
    settings = _load_settings(root, args.env)
    return Tracker.from_settings(settings.get("tracking") or {}, root)


def _number(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else json.dumps(value)


def _print_run(run: Run) -> None:
    git = "-"
    if run.git_commit:
        git = run.git_commit[:12] + (" (uncommitted changes)" if run.git_dirty else "")
    print(f"run      {run.id}")
    print(f"name     {run.name or '-'}")
    print(f"created  {run.created_at:%Y-%m-%d %H:%M:%S} UTC")
    print(f"dataset  {run.dataset or '-'}")
    print(f"git      {git}")
    for title, values in (
        ("params", run.params),
        ("metrics", run.metrics),
        ("tags", run.tags),
    ):
        print(f"{title}:" if values else f"{title}:  -")
        for key, value in values.items():
            shown = (
                value if isinstance(value, str) and title == "tags" else _number(value)
            )
            print(f"  {key} = {shown}")


def cmd_runs_list(args: argparse.Namespace) -> int:
    with _tracker(args) as tracker:
        runs = tracker.runs(
            name=args.name,
            dataset=args.dataset,
            tags=dict(args.tag),
            limit=args.limit or None,
        )
    if args.json:
        print(json.dumps([run.to_dict() for run in runs], indent=2))
        return 0
    if not runs:
        print("no runs")
        return 0
    names = [run.name or "-" for run in runs]
    datasets = [run.dataset or "-" for run in runs]
    name_width, dataset_width = max(map(len, names)), max(map(len, datasets))
    for run, name, dataset in zip(runs, names, datasets, strict=True):
        metrics = "  ".join(f"{k}={_number(v)}" for k, v in run.metrics.items())
        line = (
            f"{run.id}  {run.created_at:%Y-%m-%d %H:%M:%S}"
            f"  {name:<{name_width}}  {dataset:<{dataset_width}}  {metrics}"
        )
        print(line.rstrip())
    return 0


def cmd_runs_show(args: argparse.Namespace) -> int:
    with _tracker(args) as tracker:
        run = tracker.get(args.run_id)
    if args.json:
        print(json.dumps(run.to_dict(), indent=2))
    else:
        _print_run(run)
    return 0


def cmd_runs_best(args: argparse.Namespace) -> int:
    with _tracker(args) as tracker:
        run = tracker.best(
            args.metric,
            higher_is_better=not args.lower_is_better,
            name=args.name,
            dataset=args.dataset,
            tags=dict(args.tag),
        )
    if args.json:
        print(json.dumps(run.to_dict(), indent=2))
    else:
        _print_run(run)
    return 0


def cmd_runs_compare(args: argparse.Namespace) -> int:
    with _tracker(args) as tracker:
        rows = tracker.compare(args.first, args.second)
    first, second = args.first[:8], args.second[:8]
    width = max([len(f"{row.kind} {row.key}") for row in rows] + [4])
    print(f"  {'':<{width}}  {first:>12}  {second:>12}  change")
    for row in rows:
        shown = ["-" if v is MISSING else _number(v) for v in (row.first, row.second)]
        if row.delta is not None:
            change = f"{row.delta:+.6g}"
        else:
            change = "changed" if row.changed else ""
        mark = "*" if row.changed else " "
        label = f"{row.kind} {row.key}"
        line = f"{mark} {label:<{width}}  {shown[0]:>12}  {shown[1]:>12}  {change}"
        print(line.rstrip())
    return 0


def _tag(text: str) -> tuple[str, str]:
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, not {text!r}")
    return key, value


def _add_runs_commands(commands: argparse._SubParsersAction) -> None:
    environment = argparse.ArgumentParser(add_help=False)
    environment.add_argument(
        "--env",
        help=f"config environment (default: ${__package__.upper()}_ENV or development)",
    )
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON")
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--name", help="only runs with this name")
    filters.add_argument("--dataset", help="only runs on this dataset")
    filters.add_argument(
        "--tag",
        type=_tag,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="only runs with this tag (repeatable)",
    )

    runs = commands.add_parser(
        "runs", help="experiment runs: list, show, best, compare"
    )
    actions = runs.add_subparsers(dest="runs_command", required=True, metavar="ACTION")

    listing = actions.add_parser(
        "list", parents=[environment, as_json, filters], help="newest runs first"
    )
    listing.add_argument(
        "--limit", type=int, default=20, help="at most this many (0: all; default 20)"
    )
    listing.set_defaults(handler=cmd_runs_list)

    show = actions.add_parser(
        "show", parents=[environment, as_json], help="one run in full"
    )
    show.add_argument("run_id", metavar="ID")
    show.set_defaults(handler=cmd_runs_show)

    best = actions.add_parser(
        "best",
        parents=[environment, as_json, filters],
        help="the run with the best value of a metric",
    )
    best.add_argument("--metric", required=True, help="metric to rank runs by")
    best.add_argument(
        "--lower-is-better", action="store_true", help="rank lowest first (a loss)"
    )
    best.set_defaults(handler=cmd_runs_best)

    compare = actions.add_parser(
        "compare",
        parents=[environment],
        help="params and metrics of two runs side by side",
    )
    compare.add_argument("first", metavar="ID")
    compare.add_argument("second", metavar="ID")
    compare.set_defaults(handler=cmd_runs_compare)


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

    _add_runs_commands(commands)
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
