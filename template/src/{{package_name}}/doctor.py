"""Health checks of the environment the project runs in.

Is this the project's ``.venv``, on a Python ``requires-python`` allows,
holding exactly what ``requirements.lock`` pins, with every dependency of
``pyproject.toml`` installed, locked, and imported from the venv rather than
from a user or global site? Do the settings load? Each check returns
findings of one line.

The doctor must run in the broken environments it diagnoses: it imports
nothing beyond the standard library at first, and a missing dependency,
``packaging`` and PyYAML included, is one of its findings.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import platform
import re
import site
import sys
from collections.abc import Iterable, Mapping
from importlib.metadata import distributions, packages_distributions
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .config import ConfigError, load_config, selected_environment
from .manifest import (
    LOCK_FILE,
    VENV_DIR,
    install_command,
    normalize_name,
    project_metadata,
    read_lock,
    venv_python,
)
from .paths import project_root

if TYPE_CHECKING:
    from packaging.requirements import Requirement

# Installers' own tools: `pip freeze` leaves them out of a lock on purpose.
INSTALLER_TOOLS = frozenset({"pip", "setuptools", "wheel", "distribute"})
COMMAND = f"python -m {__package__}"
# Longest list of names one finding spells out.
LISTED = 8

log = logging.getLogger(__name__)


class Finding(NamedTuple):
    """One result of a check: ``level`` is ok, note or problem."""

    level: str
    message: str


def ok(message: str) -> Finding:
    return Finding("ok", message)


def note(message: str) -> Finding:
    return Finding("note", message)


def problem(message: str) -> Finding:
    return Finding("problem", message)


def installed_distributions() -> dict[str, str]:
    """Version of each importable distribution, by normalised name; the first
    one on ``sys.path`` wins, as it does for imports."""
    found: dict[str, str] = {}
    for distribution in distributions():
        name = distribution.metadata["Name"]
        if name:
            found.setdefault(normalize_name(name), distribution.version)
    return found


def declared_requirements(root: Path) -> list[Requirement]:
    """The ``dependencies`` of ``pyproject.toml``."""
    from packaging.requirements import InvalidRequirement, Requirement

    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: read the list the template writes.
        block = re.search(r"(?ms)^dependencies = \[(.*?)^\]", text)
        lines = re.findall(r'"([^"]+)"', block.group(1)) if block else []
    else:
        lines = tomllib.loads(text).get("project", {}).get("dependencies", [])

    requirements = []
    for line in lines:
        try:
            requirements.append(Requirement(line))
        except InvalidRequirement as error:
            raise ValueError(
                f"pyproject.toml: bad dependency {line!r}: {error}"
            ) from None
    return requirements


def applicable(requirements: Iterable[Requirement]) -> list[Requirement]:
    """The requirements whose environment marker holds here."""
    return [r for r in requirements if r.marker is None or r.marker.evaluate()]


def _same_version(a: str, b: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def check_venv(root: Path, prefix: str = sys.prefix) -> list[Finding]:
    """Is the running interpreter the one of the project's ``.venv``?"""
    venv = root / VENV_DIR
    if Path(prefix).resolve() == venv.resolve():
        return [ok(f"running in {VENV_DIR} ({sys.executable})")]
    if not venv.is_dir():
        return [problem(f"no {VENV_DIR} in {root}: see the README to build it")]
    return [
        problem(
            f"running {sys.executable}, not {VENV_DIR}: use"
            f" {venv_python(Path(VENV_DIR))} -m {__package__} doctor"
        )
    ]


def check_python(requires_python: str, version: str | None = None) -> list[Finding]:
    """Does this Python satisfy ``requires-python``?"""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    version = version or platform.python_version()
    if not requires_python:
        return [note("pyproject.toml sets no requires-python")]
    try:
        allowed = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return [problem(f"requires-python {requires_python!r} is not a specifier")]
    if allowed.contains(version, prereleases=True):
        return [ok(f"Python {version} satisfies requires-python {requires_python}")]
    return [
        problem(f"Python {version} does not satisfy requires-python {requires_python}")
    ]


def check_lock(
    pins: Mapping[str, str], installed: Mapping[str, str], project: str
) -> list[Finding]:
    """Is every locked distribution installed at its locked version?"""
    findings = []
    for name, locked in pins.items():
        version = installed.get(name)
        if version is None:
            findings.append(problem(f"{name} {locked} is locked but not installed"))
        elif not _same_version(version, locked):
            findings.append(problem(f"{name} {version} is installed, {locked} locked"))
    if findings:
        findings.append(
            note(f"pip install -r {LOCK_FILE} restores the locked versions")
        )
    else:
        findings.append(
            ok(f"all {len(pins)} locked distributions installed at their versions")
        )

    unlocked = sorted(
        f"{name} {version}"
        for name, version in installed.items()
        if name not in pins
        and name not in INSTALLER_TOOLS
        and name != normalize_name(project)
    )
    if unlocked:
        listed = ", ".join(unlocked[:LISTED])
        if len(unlocked) > LISTED:
            listed += f" and {len(unlocked) - LISTED} more"
        findings.append(
            note(f"not in {LOCK_FILE}: {listed} ({COMMAND} lock records them)")
        )
    return findings


def check_requirements(
    requirements: Iterable[Requirement], installed: Mapping[str, str]
) -> list[Finding]:
    """Is every dependency of ``pyproject.toml`` installed, in a version it
    accepts?"""
    requirements = applicable(requirements)
    findings = []
    for requirement in requirements:
        version = installed.get(normalize_name(requirement.name))
        if version is None:
            findings.append(problem(f"{requirement} is required but not installed"))
        elif not requirement.specifier.contains(version, prereleases=True):
            findings.append(
                problem(f"{requirement} is required, {version} is installed")
            )
    return findings or [
        ok(f"all {len(requirements)} dependencies of pyproject.toml installed")
    ]


def check_lock_covers(
    requirements: Iterable[Requirement], pins: Mapping[str, str]
) -> list[Finding]:
    """Does the lock pin every dependency, in a version it accepts?"""
    requirements = applicable(requirements)
    findings = []
    for requirement in requirements:
        locked = pins.get(normalize_name(requirement.name))
        if locked is None:
            findings.append(problem(f"{requirement} is not in {LOCK_FILE}"))
        elif not requirement.specifier.contains(locked, prereleases=True):
            findings.append(
                problem(f"{requirement} is required, {LOCK_FILE} pins {locked}")
            )
    return findings or [ok(f"{LOCK_FILE} covers every dependency of pyproject.toml")]


def import_location(module: str) -> Path | None:
    """Where ``import module`` would load it from, without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError) as error:  # a broken or nameless parent
        log.debug("cannot locate %s: %s", module, error)
        return None
    if spec is None:
        return None
    if spec.origin and spec.origin not in {"built-in", "frozen"}:
        return Path(spec.origin)
    locations = list(spec.submodule_search_locations or [])
    return Path(locations[0]) if locations else None


def check_import_locations(names: Iterable[str], prefix: Path) -> list[Finding]:
    """Does each distribution in ``names`` import from under ``prefix``?"""
    modules: dict[str, list[str]] = {}
    for module, owners in packages_distributions().items():
        if module.isidentifier():
            for owner in owners:
                modules.setdefault(normalize_name(owner), []).append(module)

    prefix = prefix.resolve()
    user_site = Path(site.getusersitepackages()).resolve()
    findings = []
    checked = 0
    for name in sorted(set(names)):
        for module in sorted(modules.get(name, [])):
            location = import_location(module)
            if location is None:
                continue
            checked += 1
            location = location.resolve()
            if location.is_relative_to(prefix):
                continue
            where = "the user site" if location.is_relative_to(user_site) else "outside"
            findings.append(
                problem(f"{module} ({name}) imports from {where}: {location}")
            )
    return findings or [
        ok(f"all {checked} modules of the dependencies import from {prefix}")
    ]


def check_config(root: Path) -> list[Finding]:
    """Do the settings of the selected environment load and type-check?"""
    env = selected_environment()
    try:
        load_config(env, root=root)
    except ConfigError as error:
        return [problem(f"settings: {error}")]
    except ModuleNotFoundError as error:
        return [note(f"settings not checked: they need the {error.name} module")]
    return [ok(f"settings of environment {env} load and check")]


def check_package_source(root: Path) -> list[Finding]:
    """Is the project's own package imported from its ``src/`` folder?"""
    here = Path(__file__).resolve().parent
    source = (root / "src" / (__package__ or "")).resolve()
    if here == source:
        return [ok(f"{__package__} imports from src/{__package__}")]
    return [
        problem(
            f"{__package__} imports from {here}, not from src/:"
            " reinstall it with pip install -e ."
        )
    ]


def diagnose(root: str | os.PathLike[str] | None = None) -> list[Finding]:
    """Every check, in order, for the project at ``root``."""
    root = project_root(root)
    reinstall = f"reinstall the project in {root}: {install_command(root)}"
    findings = [*check_venv(root), *check_package_source(root), *check_config(root)]
    if importlib.util.find_spec("packaging") is None:
        findings.append(
            problem(
                "packaging is not installed, so Python, dependencies and lock"
                f" are not checked; {reinstall}"
            )
        )
        return findings

    project = project_metadata(root)
    requirements = declared_requirements(root)
    installed = installed_distributions()
    findings += check_python(project["requires_python"])
    required = check_requirements(requirements, installed)
    findings += required
    if not healthy(required):
        findings.append(note(reinstall))

    lock = root / LOCK_FILE
    pins: dict[str, str] = {}
    if lock.is_file():
        pins = read_lock(lock)
        findings += check_lock(pins, installed, project["name"])
        findings += check_lock_covers(requirements, pins)
    else:
        findings.append(problem(f"no {LOCK_FILE}: {COMMAND} lock writes it"))

    if sys.prefix != sys.base_prefix:
        names = set(pins) | {normalize_name(r.name) for r in applicable(requirements)}
        findings += check_import_locations(names, Path(sys.prefix))
    else:
        findings.append(note("imports not checked: not running in a virtual env"))
    return findings


def healthy(findings: Iterable[Finding]) -> bool:
    return all(finding.level != "problem" for finding in findings)
