"""Command line of the project: ``python -m <package> <command>``.

Each command is a small function taking the parsed arguments and returning
an exit code. It imports what it needs when it runs, so the command line
starts fast and a missing dependency stops only the commands that need it.
Errors a person can fix are reported in one line on stderr, never as a
traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The config module needs nothing beyond the standard library until settings
# are loaded; the global --env option describes its names.
from .config import DEFAULT_ENV, ENV_VARIABLE
from .paths import project_root

if TYPE_CHECKING:
    from .tracking import Run, Tracker

Handler = Callable[[argparse.Namespace], int]

# Errors caused by input or by the state of the project, reported in one line.
USER_ERRORS = (ValueError, KeyError, RuntimeError, OSError)
# Import names of dependencies whose distribution is named otherwise.
DISTRIBUTIONS = {"yaml": "PyYAML", "sklearn": "scikit-learn"}
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"

log = logging.getLogger(__name__)


def configure_logging(level: str) -> None:
    """Log to stderr at ``level``, unless the program running this command
    has configured logging itself."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)


def _settings(args: argparse.Namespace) -> tuple[Path, dict[str, Any], dict[str, str]]:
    """The project folder, its merged settings and their sources; logging
    follows the settings' ``log_level`` from here on."""
    from .config import load_config_with_sources, selected_environment

    root = project_root(args.root)
    settings, sources = load_config_with_sources(args.env, root=root)
    configure_logging(settings.get("log_level", "WARNING"))
    log.debug(
        "settings of environment %s from %s",
        selected_environment(args.env),
        ", ".join(dict.fromkeys(sources.values())) or "nowhere",
    )
    return root, settings, sources


def cmd_lock(args: argparse.Namespace) -> int:
    from . import manifest

    root = project_root(args.root)
    venv = root / manifest.VENV_DIR
    if not manifest.venv_python(venv).exists():
        raise FileNotFoundError(f"no virtual environment at {venv}")
    manager = manifest.detect_manager(venv)
    path = manifest.write_lock(root, manager, shutil.which("uv"))
    print(path.relative_to(root))
    return 0


def cmd_manifest(args: argparse.Namespace) -> int:
    from . import manifest

    root = project_root(args.root)
    current = manifest.build_manifest(root)
    if not args.check:
        path = manifest.write_manifest(root, current)
        print(path.relative_to(root))
        return 0

    newest = manifest.newest_manifest(root)
    if newest is None:
        raise FileNotFoundError(f"no manifest under {root / manifest.MANIFEST_DIR}")
    recorded = json.loads(newest.read_text(encoding="utf-8"))
    findings = manifest.drift(recorded, current)
    for line in findings:
        print(line)
    name = newest.relative_to(root)
    print(
        f"{len(findings)} difference(s) from {name}" if findings else f"matches {name}"
    )
    return 1 if findings else 0


def cmd_config(args: argparse.Namespace) -> int:
    import yaml

    from .config import flatten, selected_environment

    _, config, sources = _settings(args)
    print(f"# environment: {selected_environment(args.env)}")
    if not args.sources:
        print(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), end="")
        return 0

    rows = [
        (key, json.dumps(value, ensure_ascii=False, default=str), sources[key])
        for key, value in flatten(config).items()
    ]
    key_width = max((len(row[0]) for row in rows), default=0)
    value_width = max((len(row[1]) for row in rows), default=0)
    for key, value, source in rows:
        print(f"{key:<{key_width}}  {value:<{value_width}}  {source}")
    return 0


def _model_root(args: argparse.Namespace) -> Path:
    from .model_store import DEFAULT_MODEL_PATH

    root, settings, _ = _settings(args)
    return root / settings.get("model_path", DEFAULT_MODEL_PATH)


def cmd_models_list(args: argparse.Namespace) -> int:
    from . import model_store

    store = _model_root(args)
    catalogue = model_store.list_models(root=store)
    if not catalogue:
        print(f"no models in {store}")
        return 0

    rows = [("NAME", "VERSIONS", "LATEST", "CREATED", "FORMAT", "SIZE")]
    for name, numbers in catalogue.items():
        try:
            info = model_store.model_info(name, root=store)
        except ValueError as error:
            rows.append(
                (name, str(len(numbers)), str(numbers[-1]), f"({error})", "", "")
            )
            continue
        rows.append(
            (
                name,
                str(len(numbers)),
                str(info["version"]),
                info["created_at"],
                info["format"],
                _size(info["size"]),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(
                cell.ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
    return 0


def cmd_models_show(args: argparse.Namespace) -> int:
    from . import model_store

    info = model_store.model_info(args.name, args.version, root=_model_root(args))
    print(json.dumps(info, indent=2, sort_keys=True, ensure_ascii=False))
    return 0


def cmd_models_verify(args: argparse.Namespace) -> int:
    from . import model_store

    store = _model_root(args)
    results = model_store.verify(args.name, root=store)
    if not results:
        print(f"no models in {store}")
        return 0

    for result in results:
        print(f"{result.name} version {result.version}: {result.problem or 'ok'}")
    bad = sum(result.problem is not None for result in results)
    print(f"{len(results) - bad} of {len(results)} versions sound")
    return 1 if bad else 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from . import doctor

    findings = doctor.diagnose(args.root)
    for finding in findings:
        print(f"{finding.level:<8} {finding.message}")
    problems = sum(finding.level == "problem" for finding in findings)
    print(f"{problems} problem(s) found" if problems else "healthy")
    return 1 if problems else 0


def _size(size: float) -> str:
    for unit in ("B", "kB", "MB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def _add_config_commands(commands: argparse._SubParsersAction) -> None:
    config = commands.add_parser(
        "config", help="print the merged settings of an environment"
    )
    # SUPPRESS keeps the global --env when this one is not given.
    config.add_argument(
        "--env", default=argparse.SUPPRESS, help="environment (as the global --env)"
    )
    config.add_argument(
        "--sources",
        action="store_true",
        help="show the file or variable each value comes from",
    )
    config.set_defaults(handler=cmd_config)


def _add_model_commands(commands: argparse._SubParsersAction) -> None:
    models = commands.add_parser("models", help="saved models and their metadata")
    actions = models.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="every model with its latest version")
    listing.set_defaults(handler=cmd_models_list)

    show = actions.add_parser("show", help="metadata of one saved version")
    show.add_argument("name")
    show.add_argument("version", nargs="?", default="latest")
    show.set_defaults(handler=cmd_models_show)

    verify = actions.add_parser(
        "verify", help="check artifacts against their sha256 without loading them"
    )
    verify.add_argument("name", nargs="?")
    verify.set_defaults(handler=cmd_models_verify)


def _add_doctor_command(commands: argparse._SubParsersAction) -> None:
    doctor = commands.add_parser(
        "doctor", help="check .venv against the lock, pyproject and Python"
    )
    doctor.set_defaults(handler=cmd_doctor)


def _tracker(args: argparse.Namespace) -> Tracker:
    from .tracking import Tracker

    root, settings, _ = _settings(args)
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
    from .tracking import MISSING

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
    # SUPPRESS keeps the global --env when this one is not given.
    environment.add_argument(
        "--env", default=argparse.SUPPRESS, help="environment (as the global --env)"
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


class _PrintVersion(argparse.Action):
    """``--version``: the distribution's name and version, looked up only when
    asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any):
        kwargs.setdefault("help", "print the distribution and its version, and exit")
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        from . import DISTRIBUTION, __version__

        print(f"{DISTRIBUTION} {__version__}")
        parser.exit()


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The command line; ``prog`` names it in usage and errors (default: the
    name it was started by, as argparse takes it from ``sys.argv[0]``)."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--version", action=_PrintVersion)
    parser.add_argument(
        "--root", help="project folder (default: found from the working directory)"
    )
    parser.add_argument(
        "--env",
        help=f"config environment (default: ${ENV_VARIABLE}, else {DEFAULT_ENV})",
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

    _add_config_commands(commands)
    _add_model_commands(commands)
    _add_doctor_command(commands)
    _add_runs_commands(commands)
    _add_conda_commands(commands)
    return parser


def missing_dependency(error: ModuleNotFoundError, root: str | None) -> str:
    """One line naming the distribution a failed import needs, and the command
    that reinstalls the project with its dependencies."""
    from .manifest import install_command

    module = (error.name or "").partition(".")[0]
    distribution = DISTRIBUTIONS.get(module, module)
    missing = f"{distribution} is not installed (no module named {module!r})"
    try:
        folder = project_root(root)
    except FileNotFoundError:
        return f"{missing}: install the project with its dependencies"
    return f"{missing}; reinstall the project in {folder}: {install_command(folder)}"


def _one_line(error: BaseException) -> str:
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])
    if isinstance(error, OSError) and error.strerror and error.filename:
        paths = " -> ".join(
            os.fsdecode(name) for name in (error.filename, error.filename2) if name
        )
        return f"{paths}: {error.strerror}"
    return str(error)


def _run(args: argparse.Namespace) -> int:
    handler: Handler = args.handler
    try:
        return handler(args)
    except BrokenPipeError:
        raise
    except ModuleNotFoundError as error:
        if error.name and error.name.partition(".")[0] == __package__:
            raise  # a module of this very package missing is a bug: show it
        # Without a name, the toolkit raised it with its own remedy.
        detail = missing_dependency(error, args.root) if error.name else error
        print(f"error: {detail}", file=sys.stderr)
        return 2
    except USER_ERRORS as error:
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Run the command ``argv`` (default: the process's arguments); its exit
    code."""
    try:
        try:
            return _run(build_parser(prog).parse_args(argv))
        finally:
            # Output to a pipe is buffered: a reader that left early (head)
            # shows up here rather than at exit.
            sys.stdout.flush()
    except BrokenPipeError:
        # Python's advice for a closed pipe: send what is left to devnull,
        # so the exit does not report the pipe again, and fail quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
