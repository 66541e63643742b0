"""Layered settings: YAML files per environment, then environment variables.

Sources, each overriding the ones before it (mappings merge key by key):

1. ``config/base.yaml``: settings shared by every environment;
2. ``config/<env>.yaml``: the environment's own, e.g. ``production.yaml``;
3. ``config/local.yaml``: one person's overrides, never committed;
4. environment variables ``<PACKAGE>__<SECTION>__<KEY>=value``, whose value
   is read as a YAML scalar (``8`` is a number, ``true`` a boolean).

The environment is the one asked for, else ``<PACKAGE>_ENV``, else
``development``. ``<PACKAGE>`` is the package name in capitals.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .paths import project_root

log = logging.getLogger(__name__)

CONFIG_DIR = "config"
BASE_FILE = "base.yaml"
LOCAL_FILE = "local.yaml"
DEFAULT_ENV = "development"
ENV_PREFIX = (__package__ or __name__.partition(".")[0]).upper()
ENV_VARIABLE = f"{ENV_PREFIX}_ENV"
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "NOTSET")

_ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class ConfigError(ValueError):
    """A configuration that cannot be read or has a value of the wrong kind."""


@functools.cache
def _loader() -> type:
    """PyYAML's safe loader, refusing a key given twice in one mapping.

    PyYAML keeps the last of two equal keys silently; in a settings file that
    is almost always a mistake that hides the first value. Built on first use,
    so importing this module does not need PyYAML.
    """
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, Hashable):
                    continue  # the base class reports unhashable keys itself
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} appears twice", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def _positive_int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return "must be a positive integer"
    return None


def _integer(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be an integer"
    return None


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) and value else "must be a non-empty string"


def _mapping(value: Any) -> str | None:
    return None if isinstance(value, dict) else "must be a mapping of settings"


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value in choices:
            return None
        return f"must be one of {', '.join(choices)}"

    return check


# Settings the toolkit reads, with what each must be. Other keys are the
# project's own and pass unchecked; a known key left out is not an error.
KNOWN_KEYS: dict[str, Callable[[Any], str | None]] = {
    "project_name": _text,
    "data_path": _text,
    "model_path": _text,
    "log_level": _one_of(*LOG_LEVELS),
    "max_workers": _positive_int,
    "random_seed": _integer,
    "tracking": _mapping,
    "tracking.backend": _one_of("sqlite", "mlflow"),
    "tracking.uri": _text,
    "tracking.experiment": _text,
    "monitoring": _mapping,
    "monitoring.metrics_path": _text,
}


def environment_names(root: Path) -> list[str]:
    """Environments that have a file in ``config/`` (base and local excluded)."""
    folder = Path(root) / CONFIG_DIR
    return sorted(
        path.stem
        for path in folder.glob("*.yaml")
        if path.name not in {BASE_FILE, LOCAL_FILE}
    )


def selected_environment(env: str | None = None) -> str:
    """``env`` when given, else ``<PACKAGE>_ENV``, else ``development``."""
    return env or os.environ.get(ENV_VARIABLE) or DEFAULT_ENV


def read_yaml(path: Path, shown: str | None = None) -> dict[str, Any]:
    """Settings of one YAML file; errors name the file (as ``shown``, default
    its path) and the line."""
    import yaml

    shown = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{shown}: not UTF-8 text ({error.reason})") from None
    except OSError as error:
        # Windows reports reading a folder as a permission error: ask the path.
        reason = "a folder, not a file" if path.is_dir() else error.strerror
        raise ConfigError(f"{shown}: {reason or error}") from None
    try:
        data = yaml.load(text, Loader=_loader())
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
        raise ConfigError(f"{where}: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{shown}: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{shown}: expected a mapping of settings, got {type(data).__name__}"
        )
    return data


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple, Any]]:
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            yield from _leaves(inner, (*path, key))
    elif path:
        yield path, value


def _dotted(path: Iterable[Any]) -> str:
    return ".".join(map(str, path))


def flatten(config: Mapping[str, Any]) -> dict[str, Any]:
    """Each leaf value of ``config`` by its dotted key, in file order."""
    return {_dotted(path): value for path, value in _leaves(dict(config))}


def _merge(
    target: dict[Any, Any],
    overlay: Mapping[Any, Any],
    sources: dict[str, str],
    origin: str,
    path: tuple[Any, ...] = (),
) -> None:
    """Merge ``overlay`` into ``target`` in place; record ``origin`` per leaf."""
    for key, value in overlay.items():
        here = (*path, key)
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value, sources, origin, here)
            continue

        dotted = _dotted(here)
        for name in [n for n in sources if n == dotted or n.startswith(dotted + ".")]:
            del sources[name]
        target[key] = copy.deepcopy(value)
        for leaf, _ in _leaves(value, here):
            sources[_dotted(leaf)] = origin


def parse_scalar(text: str) -> Any:
    """Read an environment variable's value as YAML does a scalar.

    Text YAML would read as a list or mapping, or cannot read at all, stays
    the string it is: a password like ``a: b`` is not a mapping.
    """
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return text if isinstance(value, (dict, list)) else value


def environment_overrides(
    environ: Mapping[str, str] | None = None,
) -> list[tuple[str, list[str], Any]]:
    """``(variable, key path, value)`` of each ``<PACKAGE>__…`` variable."""
    environ = os.environ if environ is None else environ
    prefix = f"{ENV_PREFIX}__"
    found = []
    for variable in sorted(environ):
        if not variable.startswith(prefix):
            continue
        parts = variable[len(prefix) :].split("__")
        if not all(parts):
            raise ConfigError(
                f"{variable}: expected {prefix}<KEY> or {prefix}<SECTION>__<KEY>"
            )
        keys = [part.lower() for part in parts]
        found.append((variable, keys, parse_scalar(environ[variable])))
    return found


def _apply_override(
    config: dict[str, Any],
    sources: dict[str, str],
    variable: str,
    parts: list[str],
    value: Any,
) -> None:
    # Match existing keys without regard to case: variables are upper case by
    # convention, YAML keys need not be.
    node = config
    path: list[Any] = []
    for part in parts[:-1]:
        key = next((k for k in node if str(k).lower() == part), part)
        path.append(key)
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ConfigError(
                f"{variable}: {_dotted(path)} is a single value, not a section"
            )
        node = child
    key = next((k for k in node if str(k).lower() == parts[-1]), parts[-1])
    if key not in node:
        # Most often a typo (MAX_WORKER for MAX_WORKERS): added, but said.
        log.warning(
            "%s sets %s, which no config file has", variable, _dotted([*path, key])
        )
    _merge(node, {key: value}, sources, variable, tuple(path))


def validate(config: Mapping[str, Any], sources: Mapping[str, str]) -> None:
    """Raise ConfigError naming the first known key whose value is wrong."""
    for dotted, check in KNOWN_KEYS.items():
        node: Any = config
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                break
            node = node[part]
        else:
            problem = check(node)
            if problem:
                origin = next(
                    s
                    for k, s in sources.items()
                    if k == dotted or k.startswith(f"{dotted}.")
                )
                raise ConfigError(f"{dotted} {problem}, got {node!r} (from {origin})")


def load_config_with_sources(
    env: str | None = None, *, root: Path | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Merged settings, and for each leaf key (dotted) the file or variable
    that set it."""
    root = Path(root) if root is not None else project_root()
    folder = root / CONFIG_DIR
    base = folder / BASE_FILE
    if not base.exists():
        raise ConfigError(f"no {CONFIG_DIR}/{BASE_FILE} under {root}")

    env = selected_environment(env)
    existing = environment_names(root)
    if not _ENV_NAME.fullmatch(env) or env not in existing:
        names = ", ".join(existing) or "none"
        raise ConfigError(f"unknown environment {env!r} (config/ has: {names})")

    config: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for path in (base, folder / f"{env}.yaml", folder / LOCAL_FILE):
        if path.name == LOCAL_FILE and not path.exists():
            continue  # optional: one person's overrides
        origin = path.relative_to(root).as_posix()
        _merge(config, read_yaml(path, origin), sources, origin)
    for variable, keys, value in environment_overrides():
        _apply_override(config, sources, variable, keys, value)

    validate(config, sources)
    log.debug("loaded %s settings for environment %s", len(sources), env)
    return config, sources


def load_config(env: str | None = None, *, root: Path | None = None) -> dict[str, Any]:
    """Merged settings of environment ``env`` for the project at ``root``."""
    return load_config_with_sources(env, root=root)[0]
