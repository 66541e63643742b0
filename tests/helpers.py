"""Reading rendered projects: their files, their data, what an answer became."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from conftest import tomllib

DATA_SUFFIXES = {".toml", ".yml", ".yaml", ".json", ".ipynb"}


def files(root: Path) -> set[str]:
    """Every file under ``root`` (outside ``.venv`` and ``.git``), POSIX-relative."""
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and not {".venv", ".git"} & set(p.relative_to(root).parts)
    }


def parse(path: Path) -> Any:
    """A TOML, YAML or JSON file, parsed."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        return tomllib.loads(text)
    if path.suffix in {".yml", ".yaml"}:
        return yaml.safe_load(text)
    return json.loads(text)


def parse_all(root: Path) -> dict[str, Any]:
    """Every TOML, YAML and JSON file of a project, parsed."""
    return {
        name: parse(root / name)
        for name in sorted(files(root))
        if Path(name).suffix in DATA_SUFFIXES
    }


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """``value`` with ``change`` applied to every string in it, keys included."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {
            map_strings(k, change): map_strings(v, change) for k, v in value.items()
        }
    if isinstance(value, list):
        return [map_strings(item, change) for item in value]
    return value


def walk(value: Any) -> Iterator[Any]:
    """Every scalar in a parsed data file, keys included."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(key)
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)
    else:
        yield value


def python_strings(text: str, change: Callable[[str], str]) -> str:
    """The AST dump of Python ``text`` with ``change`` applied to its strings."""
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = change(node.value)
    return ast.dump(tree)


def assert_same_project_but(
    reference: Path, project: Path, substitutions: list[tuple[str, str]]
) -> None:
    """``project`` is ``reference`` with each marker replaced by an answer.

    ``reference`` was rendered with marker answers, ``project`` with the real
    ones; every file must agree once the markers are replaced: data files as
    parsed values, Python files as syntax trees, other files as text. So an
    answer is escaped right wherever it lands, and reaches nothing else.
    """

    def substitute(text: str) -> str:
        for marker, answer in substitutions:
            text = text.replace(marker, answer)
        return text

    assert files(project) == files(reference)
    for name in sorted(files(reference)):
        path, expected_path = project / name, reference / name
        if path.suffix in DATA_SUFFIXES:
            expected = map_strings(parse(expected_path), substitute)
            assert parse(path) == expected, name
        elif path.suffix == ".py":
            expected = python_strings(expected_path.read_text("utf-8"), substitute)
            assert python_strings(path.read_text("utf-8"), str) == expected, name
        else:
            raw = expected_path.read_bytes()
            try:
                expected = substitute(raw.decode("utf-8")).encode("utf-8")
            except UnicodeDecodeError:  # a binary file: answers never reach it
                expected = raw
            assert path.read_bytes() == expected, name
