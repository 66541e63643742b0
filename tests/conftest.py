"""Shared fixtures: a committed copy of the template and ways to render it.

Every test runs with the machine's pip and uv settings neutralised, so the
suite behaves on a developer's laptop as on a fresh CI machine: no site-wide
pip configuration (constraints, extra indexes, local wheel folders), no
inherited PIP_/UV_ variables, no interpreter downloads by uv, and bytecode
written as on a default Python (PYTHONDONTWRITEBYTECODE unset).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from copier import run_copy
from plumbum import local

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PATHS = ["copier.yml", "team.yml", "includes", "hooks", "template"]
ANSWERS = yaml.safe_load((Path(__file__).parent / "answers.yml").read_text())
# The team's standards as team.yml sets them: tests read them from there, so
# a fork that edits team.yml keeps a green suite.
TEAM = {
    name: entry["default"]
    for name, entry in yaml.safe_load((ROOT / "team.yml").read_text()).items()
}

sys.path.insert(0, str(ROOT / "hooks"))
sys.path.insert(0, str(ROOT))


def _neutral_environment() -> dict[str, str | None]:
    changes: dict[str, str | None] = {
        name: None
        for name in os.environ
        if name.startswith(("PIP_", "UV_")) or name == "PYTHONDONTWRITEBYTECODE"
    }
    changes.update(
        {
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_NO_CONFIG": "1",
        }
    )
    return changes


@pytest.fixture(scope="session", autouse=True)
def neutral_environment(sessionpatch: pytest.MonkeyPatch) -> None:
    # copier runs tasks with plumbum's copy of the environment: patch both.
    for name, value in _neutral_environment().items():
        for mapping in (os.environ, local.env):
            if value is None:
                sessionpatch.delitem(mapping, name, raising=False)
            else:
                sessionpatch.setitem(mapping, name, value)


@pytest.fixture(scope="session")
def copier_template_paths() -> list[str]:
    return TEMPLATE_PATHS


@pytest.fixture(scope="session")
def copier_template_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def plain_template(copier_template: Path, tmp_path_factory) -> Path:
    """The template outside git: renders faster, without ``_commit``."""
    destination = tmp_path_factory.mktemp("plain") / "template"
    shutil.copytree(copier_template, destination, ignore=shutil.ignore_patterns(".git"))
    return destination


@pytest.fixture
def copier_defaults() -> dict[str, Any]:
    return dict(ANSWERS)


def render_project(
    template: Path, destination: Path, *, tasks: bool = False, **answers: Any
) -> Path:
    """Copy ``template`` into ``destination`` as ``copier copy --trust
    --defaults`` does, without its tasks unless ``tasks``."""
    run_copy(
        str(template),
        destination,
        data={**ANSWERS, **answers},
        defaults=True,
        unsafe=True,
        skip_tasks=not tasks,
        quiet=True,
    )
    return destination


@pytest.fixture
def render(copier_template: Path, tmp_path: Path):
    """Render the template without tasks; keyword arguments override answers."""

    def _render(destination: Path | None = None, **answers: Any) -> Path:
        return render_project(
            copier_template, destination or tmp_path / "project", **answers
        )

    return _render


__all__ = ["ANSWERS", "ROOT", "TEAM", "TEMPLATE_PATHS", "tomllib"]
