"""Turn a conda ``environment.yml`` into PyPI requirements, losing nothing.

Reads an environment file as written by hand or by ``conda env export``
(with or without build strings, channels and a ``pip:`` section), converts
each conda entry to a PEP 440 requirement under its PyPI name, and records
what became of every entry: kept, renamed, rewritten, dropped (conda-only and
system packages), not translated, a duplicate, or an installer option. The
record becomes a ``MIGRATION.md`` section that a person reviews.

Standard library and PyYAML only, so that the template's copy-time task can
run it with copier's interpreter; ``update_pyproject`` and
``requires_python`` import tomlkit (the ``dev`` extra) when they are called.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from .atomic import atomic_write
from .conda_names import DROPPED, DROPPED_PATTERNS, PYPI_NAMES, PYTHON_EXCEPTIONS

log = logging.getLogger(__name__)

MIGRATION_FILE = "MIGRATION.md"

KEPT = "kept"
RENAMED = "renamed"
REWRITTEN = "rewritten"
DROPPED_ENTRY = "dropped"
NOT_TRANSLATED = "not translated"
DUPLICATE = "duplicate"
INSTALLER_OPTION = "installer option"
STATUSES = (
    KEPT,
    RENAMED,
    REWRITTEN,
    DROPPED_ENTRY,
    NOT_TRANSLATED,
    DUPLICATE,
    INSTALLER_OPTION,
)


class EnvironmentFileError(ValueError):
    """An environment file that cannot be read or is not a conda environment."""


class Untranslatable(ValueError):
    """A conda version spec with no PEP 440 equivalent."""


@dataclass(frozen=True)
class MatchSpec:
    """The parts of a conda package spec (``conda-forge::numpy=1.26=py311_0``)."""

    name: str
    version: str = ""
    build: str = ""
    channel: str = ""


@dataclass(frozen=True)
class Entry:
    """One entry of the environment file and what became of it."""

    text: str
    section: str
    status: str
    requirement: str = ""
    reason: str = ""


@dataclass
class Conversion:
    """Everything an environment file turned into."""

    source: str
    name: str = ""
    channels: list[str] = field(default_factory=list)
    python: str = ""
    builds_left_out: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    @property
    def requirements(self) -> list[str]:
        """The PEP 508 requirements, in the order of the file."""
        return [
            entry.requirement
            for entry in self.entries
            if entry.requirement and entry.status != DUPLICATE
        ]

    def having(self, *statuses: str) -> list[Entry]:
        return [entry for entry in self.entries if entry.status in statuses]

    def counts(self) -> list[tuple[str, int]]:
        """How many entries have each status, for the statuses that occur."""
        counted = [(status, len(self.having(status))) for status in STATUSES]
        return [(status, count) for status, count in counted if count]


@dataclass
class Merge:
    """A project's requirements after an import, and how they changed."""

    dependencies: list[str]
    added: list[str] = field(default_factory=list)
    replaced: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


# ------------------------------------------------------------ reading the file


def read_environment(path: str | Path) -> dict[str, Any]:
    """The parsed environment file; an error naming the file (and line) if bad."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise EnvironmentFileError(
            f"{path}: not a text file ({error.reason})"
        ) from None
    except OSError as error:
        raise EnvironmentFileError(
            f"cannot read {path}: {error.strerror or error}"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(error, "problem", None) or str(error)
        raise EnvironmentFileError(f"{where}: invalid YAML: {problem}") from None
    if data is None:
        raise EnvironmentFileError(f"{path} is empty")
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        raise EnvironmentFileError(
            f"{path} is not a conda environment file (no 'dependencies' list)"
        )
    return data


def convert_file(path: str | Path) -> Conversion:
    """Read and convert ``path``; ``-r`` files of its pip section are read too."""
    path = Path(path)
    return convert(read_environment(path), source=str(path), base=path.parent)


# ------------------------------------------------------------ conda specs

_SPEC = re.compile(
    r"\s*(?:(?P<channel>[^\s:]+)::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.+-]*)(?P<rest>.*)",
    re.DOTALL,
)
_BRACKETS = re.compile(r"\[(?P<body>[^\]]*)\]\s*$")
_BRACKET_ITEM = re.compile(r"""(\w+)\s*=\s*(?:'([^']*)'|"([^"]*)"|([^,\s]+))""")
_TRAILING_BUILD = re.compile(r"(.*[^=<>!~,|])=([^=<>!~,|]+)")


def parse_match_spec(text: str) -> MatchSpec:
    """Split a conda package spec into name, version spec, build and channel."""
    match = _SPEC.fullmatch(text)
    if not match:
        raise ValueError(f"not a conda package spec: {text!r}")
    rest = match["rest"].strip()

    brackets: dict[str, str] = {}
    found = _BRACKETS.search(rest)
    if found:
        for key, *values in _BRACKET_ITEM.findall(found["body"]):
            brackets[key] = next((v for v in values if v), "")
        rest = rest[: found.start()].strip()

    rest = re.sub(r"\s*([,|])\s*", r"\1", rest)
    rest = re.sub(r"([<>=!~])\s+", r"\1", rest)
    if " " in rest:
        version, _, build = rest.partition(" ")
        build = build.strip().lstrip("=")
        if " " in build:
            raise ValueError(f"not a conda package spec: {text!r}")
    elif trailing := _TRAILING_BUILD.fullmatch(rest):
        version, build = trailing.groups()
    else:
        version, build = rest, ""
    return MatchSpec(
        name=match["name"],
        version=brackets.get("version", version),
        build=brackets.get("build", build),
        channel=match["channel"] or "",
    )


# PEP 440's version grammar (public and local parts), case-insensitive.
_PEP440 = re.compile(
    r"v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*"
    r"(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?"
    r"(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?"
    r"(?:[-_.]?dev[-_.]?[0-9]*)?"
    r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?",
    re.IGNORECASE,
)
_OPERATOR = re.compile(r"(==|!=|>=|<=|~=|>|<|=)?(.*)")


def pep440_specifier(version: str, build: str = "") -> str:
    """The PEP 440 specifier meaning what conda's version spec means.

    conda's ``=1.5`` is ``1.5.*`` (unless a build string pins it exactly),
    a bare ``1.5`` and ``==1.5`` are exact, ``1.5.*`` is a prefix, and a
    comma joins conditions as in PEP 440. conda's ``|`` (either) has no
    PEP 440 equivalent.
    """
    version = version.strip()
    if version in {"", "*", "=*"}:
        return ""
    if "|" in version:
        raise Untranslatable(f"'{version.lstrip('=')}' allows one version or another")
    parts = version.split(",")
    if build and len(parts) == 1 and re.match(r"=[^=]", parts[0]):
        parts = ["=" + parts[0]]
    return ",".join(_pep440_part(part, version) for part in parts)


def _pep440_part(part: str, whole: str) -> str:
    operator, text = _OPERATOR.fullmatch(part).groups()  # type: ignore[union-attr]
    prefix = text.endswith("*") or operator == "="
    release = text.rstrip("*").rstrip(".")
    operator = "==" if operator in (None, "=") else operator
    if not _PEP440.fullmatch(release):
        raise Untranslatable(f"'{whole}' is not a PEP 440 version")
    if not prefix or operator not in {"==", "!="}:
        return f"{operator}{release}"
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)*", release):
        # PEP 440 prefixes are release numbers only; a conda prefix such as
        # 1.4.1.post1* matches that one release in practice.
        return f"{operator}{release}"
    return f"{operator}{release}.*"


_PYTHON_BUILD = re.compile(r"py(\d|h|_|$)|cp\d|pypy", re.IGNORECASE)
_PYTHON_MINOR = re.compile(r"(?:^|,)\s*(?:==?|>=?|~=)?\s*(\d+\.\d+)")


def python_minor(version: str) -> str:
    """The oldest ``X.Y`` a conda version spec of ``python`` allows, if it says."""
    found = _PYTHON_MINOR.search(version)
    return found.group(1) if found else ""


def drop_reason(name: str, build: str = "") -> str:
    """Why conda package ``name`` has no PyPI requirement ("" when it has one)."""
    key = name.lower()
    for reason, names in DROPPED.items():
        if key in names:
            return reason
    if key in PYTHON_EXCEPTIONS or key in PYPI_NAMES:
        return ""
    for pattern, reason in DROPPED_PATTERNS:
        if pattern.match(key):
            return reason
    if build and not _PYTHON_BUILD.search(build):
        return f"not a Python package: its build '{build}' is not built for Python"
    return ""


# ------------------------------------------------------------ conversion


def convert(
    environment: Mapping[str, Any],
    source: str = "environment.yml",
    base: Path | None = None,
) -> Conversion:
    """Convert a parsed environment file; ``base`` is where ``-r`` files live."""
    conversion = Conversion(source=source, name=str(environment.get("name") or ""))
    conversion.channels = [str(c) for c in environment.get("channels") or []]

    for item in environment.get("dependencies") or []:
        if isinstance(item, str):
            entry, minor, build = _conda_entry(item)
            conversion.entries.append(entry)
            conversion.python = conversion.python or minor
            if build:
                conversion.builds_left_out.append(build)
        elif isinstance(item, dict) and list(item) == ["pip"]:
            lines = item["pip"] or []
            if isinstance(lines, list):
                conversion.entries += _pip_entries(lines, base, "pip", set())
            else:
                conversion.entries.append(
                    Entry(f"pip: {lines}", "pip", NOT_TRANSLATED, "", "not a list")
                )
        else:
            conversion.entries.append(
                Entry(_one_line(item), "conda", NOT_TRANSLATED, "", "not a package")
            )

    conversion.entries += _other_keys(environment)
    conversion.entries = _mark_duplicates(conversion.entries)
    return conversion


def _conda_entry(text: str) -> tuple[Entry, str, str]:
    """The entry for ``text``, the Python minor it sets, and its build string."""
    try:
        spec = parse_match_spec(text)
    except ValueError as error:
        return Entry(text, "conda", NOT_TRANSLATED, "", str(error)), "", ""

    if spec.name.lower() == "python":
        minor = python_minor(spec.version)
        reason = "the interpreter itself: it sets the project's Python"
        return Entry(text, "conda", DROPPED_ENTRY, "", reason), minor, spec.build

    reason = drop_reason(spec.name, spec.build)
    if reason:
        return Entry(text, "conda", DROPPED_ENTRY, "", reason), "", spec.build

    name, status, reason = spec.name, KEPT, ""
    renamed = PYPI_NAMES.get(spec.name.lower())
    if renamed:
        name, reason = renamed
        status = RENAMED
    try:
        specifier = pep440_specifier(spec.version, spec.build)
    except Untranslatable as error:
        why = f"{error}; kept without a version"
        reason = f"{reason}; {why}" if reason else why
        return Entry(text, "conda", NOT_TRANSLATED, name, reason), "", spec.build
    return Entry(text, "conda", status, name + specifier, reason), "", spec.build


_PIP_OPTION = re.compile(r"(-[a-zA-Z]|--[a-z-]+)(?:[=\s]\s*(.*))?")
_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_VCS = re.compile(r"(git|hg|svn|bzr)\+\S+")
_INDEX_ADVICE = (
    "give it to the installer: PIP_INDEX_URL or pip.conf for pip, "
    "[[tool.uv.index]] in pyproject.toml for uv"
)


def _pip_entries(
    lines: Iterable[Any], base: Path | None, section: str, seen: set[Path]
) -> list[Entry]:
    entries: list[Entry] = []
    for raw in lines:
        text = str(raw).strip()
        if not text or text.startswith("#"):
            continue
        option = _PIP_OPTION.fullmatch(text)
        if option and option[1] not in {"-e", "--editable"}:
            entries += _pip_option(text, option[1], option[2] or "", base, seen)
        elif option:
            entries.append(_editable(text, section, option[2] or ""))
        else:
            entries.append(_pip_requirement(text, section))
    return entries


def _pip_option(
    text: str, flag: str, value: str, base: Path | None, seen: set[Path]
) -> list[Entry]:
    shown = redact(text)
    if flag in {"-r", "--requirement"}:
        return _included(shown, value, base, seen)
    if flag in {"-i", "--index-url"}:
        reason = f"the package index: {_INDEX_ADVICE}"
    elif flag == "--extra-index-url":
        reason = f"an extra package index: {_INDEX_ADVICE}"
    elif flag in {"-c", "--constraint"}:
        reason = "a constraints file: pass it when installing (pip install -c)"
    else:
        reason = "a pip option, not a requirement: give it to the installer"
    return [Entry(shown, "pip", INSTALLER_OPTION, "", reason)]


def _included(
    shown: str, value: str, base: Path | None, seen: set[Path]
) -> list[Entry]:
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    if path.resolve() in seen:
        return [Entry(shown, "pip", DUPLICATE, "", f"{value} was already read")]
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        detail = getattr(error, "strerror", None) or str(error)
        reason = f"cannot read {path} ({detail}): add its requirements by hand"
        return [Entry(shown, "pip", NOT_TRANSLATED, "", reason)]

    seen = seen | {path.resolve()}
    included = _pip_entries(
        (line.split(" #", 1)[0] for line in lines), path.parent, f"pip: {value}", seen
    )
    count = sum(1 for entry in included if entry.requirement)
    reason = f"a requirements file: its {count} requirement(s) are listed below"
    return [Entry(shown, "pip", INSTALLER_OPTION, "", reason), *included]


def _editable(text: str, section: str, target: str) -> Entry:
    shown = redact(text)
    if target in {".", "./"}:
        reason = "the old project itself: the new project installs itself (-e .)"
        return Entry(shown, section, DROPPED_ENTRY, "", reason)
    entry = _pip_requirement(target, section)
    if not entry.requirement:
        return Entry(shown, section, NOT_TRANSLATED, "", entry.reason)
    reason = "installed as a regular dependency: dependencies cannot be editable"
    return Entry(shown, section, REWRITTEN, entry.requirement, reason)


def _pip_requirement(text: str, section: str) -> Entry:
    shown = redact(text)
    if _VCS.match(text) or re.match(r"[a-z]+://", text):
        egg = re.search(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)", text)
        if not egg:
            reason = "a URL without #egg=name: add it as 'name @ URL' by hand"
            return Entry(shown, section, NOT_TRANSLATED, "", reason)
        url = re.sub(r"[#&]egg=[^&]*", "", text)
        reason = "written as a PEP 508 direct reference"
        return Entry(shown, section, REWRITTEN, f"{egg[1]} @ {url}", reason)
    if text.startswith((".", "/", "~")) or re.match(r"[A-Za-z]:[\\/]", text):
        reason = "a local folder or file: add it as 'name @ file:///...' if needed"
        return Entry(shown, section, NOT_TRANSLATED, "", reason)
    if not _REQUIREMENT_NAME.match(text):
        return Entry(shown, section, NOT_TRANSLATED, "", "not a requirement")
    if "--hash" in text:
        requirement = re.sub(r"\s*--hash[=\s]\S+", "", text).strip()
        reason = "hashes dropped: they belong in a lock file, not in pyproject.toml"
        return Entry(shown, section, REWRITTEN, requirement, reason)
    return Entry(shown, section, KEPT, text)


def _other_keys(environment: Mapping[str, Any]) -> list[Entry]:
    entries = []
    prefix = environment.get("prefix")
    if prefix:
        reason = "where the old environment lived on the machine that exported it"
        entries.append(Entry(f"prefix: {prefix}", "file", DROPPED_ENTRY, "", reason))
    variables = environment.get("variables") or {}
    if isinstance(variables, dict):
        for key, value in variables.items():
            reason = "set on conda activate: put it in config/ or the shell"
            text = f"variables: {key}={value}"
            entries.append(Entry(text, "file", NOT_TRANSLATED, "", reason))
    for key in environment:
        if key not in {"name", "channels", "dependencies", "prefix", "variables"}:
            text = f"{key}: {_one_line(environment[key])}"
            entries.append(Entry(text, "file", NOT_TRANSLATED, "", "unknown key"))
    return entries


def _mark_duplicates(entries: list[Entry]) -> list[Entry]:
    """One requirement per project: a pip entry wins (pip installed last),
    else the first conda entry."""
    groups: dict[str, list[int]] = {}
    for index, entry in enumerate(entries):
        if entry.requirement:
            groups.setdefault(requirement_name(entry.requirement), []).append(index)

    result = list(entries)
    for indices in groups.values():
        from_pip = [i for i in indices if entries[i].section != "conda"]
        winner = from_pip[-1] if from_pip else indices[0]
        for loser in indices:
            if loser != winner:
                old = entries[loser]
                reason = f"same project as '{entries[winner].text}', which is kept"
                result[loser] = Entry(old.text, old.section, DUPLICATE, "", reason)
    return result


def _one_line(value: Any) -> str:
    # A bare scalar is dumped as a document ending in "...": drop that end.
    dumped = yaml.safe_dump(value, default_flow_style=True, width=10_000)
    return " ".join(dumped.removesuffix("...\n").split())


def redact(text: str) -> str:
    """``text`` with any password or token in a URL replaced by ``***``."""
    return re.sub(r"(://)[^/@\s]+@", r"\1***@", text)


def requirement_name(requirement: str) -> str:
    """The PEP 503 normal form of a requirement's project name."""
    found = _REQUIREMENT_NAME.match(requirement)
    name = found.group(1) if found else requirement
    return re.sub(r"[-_.]+", "-", name).lower()


# ------------------------------------------------------------ the project


def merge_requirements(existing: Sequence[str], imported: Sequence[str]) -> Merge:
    """``existing`` with ``imported`` added; for a project in both, imported wins."""
    merge = Merge(dependencies=list(existing))
    position = {requirement_name(r): i for i, r in enumerate(merge.dependencies)}
    for requirement in imported:
        name = requirement_name(requirement)
        if name not in position:
            position[name] = len(merge.dependencies)
            merge.dependencies.append(requirement)
            merge.added.append(requirement)
            continue
        before = merge.dependencies[position[name]]
        if before == requirement:
            merge.unchanged.append(requirement)
        else:
            merge.dependencies[position[name]] = requirement
            merge.replaced.append((before, requirement))
    return merge


def _tomlkit() -> ModuleType:
    try:
        import tomlkit
    except ImportError:
        raise RuntimeError(
            "editing pyproject.toml needs tomlkit (the dev extra): "
            "pip install -e '.[dev]'"
        ) from None
    return tomlkit


def requires_python(path: Path) -> str:
    """The ``requires-python`` of the pyproject.toml at ``path`` ("" if none)."""
    document = _tomlkit().parse(path.read_text(encoding="utf-8"))
    return str(document.get("project", {}).get("requires-python", ""))


def update_pyproject(
    path: Path, requirements: Sequence[str], write: bool = True
) -> Merge:
    """Merge ``requirements`` into ``[project] dependencies`` of ``path``.

    Edits with tomlkit, so comments, order and layout elsewhere stay as they
    were; the write is atomic.
    """
    tomlkit = _tomlkit()
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    project = document.get("project")
    if project is None:
        raise ValueError(f"{path} has no [project] table")
    if "dependencies" in project.get("dynamic", []):
        raise ValueError(f"{path} declares its dependencies as dynamic")
    if "dependencies" not in project:
        project["dependencies"] = tomlkit.array()
    dependencies = project["dependencies"]

    merge = merge_requirements([str(item) for item in dependencies], requirements)
    for before, after in merge.replaced:
        index = [str(item) for item in dependencies].index(before)
        dependencies[index] = after
    for requirement in merge.added:
        dependencies.append(requirement)
    if "\n" not in dependencies.as_string():
        # A one-line array grows into one requirement per line; a multi-line
        # one keeps its own indentation, which tomlkit follows when appending.
        dependencies.multiline(True)
    if write:
        atomic_write(path, tomlkit.dumps(document))
    return merge


# ------------------------------------------------------------ MIGRATION.md

_INTRO = """\
# Migration notes

What changed when this project's environment moved from conda to PyPI.
Each import adds a section below. Review the renamed, rewritten, dropped and
untranslated entries: everything else was carried over with its conda
version converted to PEP 440.
"""


def _cell(text: str) -> str:
    """``text`` as one Markdown table cell: one line, no stray column bar."""
    text = " ".join(text.split())
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`" if text else ""


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def migration_report(conversion: Conversion, merge: Merge | None = None) -> str:
    """The ``MIGRATION.md`` section of one import, in Markdown."""
    title = Path(conversion.source).name
    if conversion.name:
        title += f" (environment `{conversion.name}`)"
    lines = [f"## {title}", "", f"Imported from `{conversion.source}`."]
    if conversion.channels:
        channels = ", ".join(f"`{c}`" for c in conversion.channels)
        lines.append(f"Its channels ({channels}) are no longer used: packages now")
        lines.append("come from PyPI.")
    if conversion.builds_left_out:
        count, example = len(conversion.builds_left_out), conversion.builds_left_out[0]
        lines += [
            f"The build strings of {count} entries (such as `{example}`) pin",
            "conda's own binaries and were left out.",
        ]
    if conversion.python:
        lines.append(f"The environment asked for Python {conversion.python}.")
    counts = ", ".join(f"{status}: {count}" for status, count in conversion.counts())
    lines += ["", f"Entries: {counts}."]

    if merge is not None:
        lines += ["", "### pyproject.toml", ""]
        lines.append(
            f"{len(merge.added)} requirement(s) added, {len(merge.replaced)} "
            f"replaced, {len(merge.unchanged)} already there."
        )
        if merge.replaced:
            lines.append("")
            rows = ((_cell(b), _cell(a)) for b, a in merge.replaced)
            lines += _table(("Before", "After"), rows)

    sections = (
        ("Renamed", (RENAMED,), ("Entry", "Requirement", "Why")),
        ("Rewritten", (REWRITTEN,), ("Entry", "Requirement", "Why")),
        ("Not translated", (NOT_TRANSLATED,), ("Entry", "Requirement", "Why")),
        ("Dropped", (DROPPED_ENTRY,), ("Entry", "Why")),
        ("Installer options", (INSTALLER_OPTION,), ("Entry", "What to do")),
        ("Duplicates", (DUPLICATE,), ("Entry", "Why")),
        ("Kept", (KEPT,), ("Entry", "Requirement")),
    )
    for heading, statuses, header in sections:
        entries = conversion.having(*statuses)
        if not entries:
            continue
        lines += ["", f"### {heading} ({len(entries)})", ""]
        rows = []
        for entry in entries:
            row = [_cell(entry.text)]
            if "Requirement" in header:
                row.append(_cell(entry.requirement) or "nothing")
            if len(header) > len(row):
                row.append(entry.reason.replace("|", "\\|"))
            rows.append(row)
        lines += _table(header, rows)
    return "\n".join(lines) + "\n"


def write_migration(root: Path, section: str) -> Path:
    """Add ``section`` to ``root/MIGRATION.md``, creating the file if needed."""
    path = root / MIGRATION_FILE
    try:
        current = path.read_text(encoding="utf-8").rstrip("\n")
    except FileNotFoundError:
        current = _INTRO.rstrip("\n")
    atomic_write(path, f"{current}\n\n{section}")
    log.info("wrote %s", path)
    return path
