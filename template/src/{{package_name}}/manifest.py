"""Deployment manifests: a JSON record of exactly what an environment holds.

A manifest names the project, the Python and platform of its virtual
environment, every distribution installed there (as the environment itself
reports them), and the sha256 of the lock. Its ``id`` is a hash of what
defines the environment, so two identical environments share an id whenever
and wherever they were built.

This module and what it imports use the standard library only: the
template's bootstrap imports it from ``src/`` with the interpreter that runs
copier, before the project is even installed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .atomic import atomic_write

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
VENV_DIR = ".venv"
LOCK_FILE = "requirements.lock"
MANIFEST_DIR = "deployments"


def venv_python(venv: Path, os_name: str = os.name) -> Path:
    """Path of the interpreter inside ``venv`` on the OS named like ``os.name``."""
    if os_name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def normalize_name(name: str) -> str:
    """Distribution name in PEP 503 normal form (``Foo_Bar`` -> ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[str, str]:
    """Pinned ``name==version`` lines of a lock file, by normalised name."""
    pins: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, separator, version = line.partition("==")
        if not separator:
            raise ValueError(f"{path}:{number}: not a pinned requirement: {raw!r}")
        version = version.split(";", 1)[0].strip()
        pins[normalize_name(name.split("[", 1)[0].strip())] = version
    return dict(sorted(pins.items()))


def detect_manager(venv: Path) -> str:
    """``uv`` when uv built ``venv`` (it signs pyvenv.cfg), else ``pip``."""
    config = venv / "pyvenv.cfg"
    if config.is_file() and re.search(r"(?m)^uv\s*=", config.read_text("utf-8")):
        return "uv"
    return "pip"


def install_command(root: Path) -> str:
    """The command, run in ``root``, that installs the project with its dev
    extras into ``.venv`` with the installer that built it."""
    python = venv_python(Path(VENV_DIR))
    if detect_manager(Path(root) / VENV_DIR) == "uv":
        return f'uv pip install --python {python} -e ".[dev]"'
    return f'{python} -m pip install -e ".[dev]"'


def freeze_command(venv: Path, manager: str, uv: str | None = None) -> list[str]:
    """The command that prints ``name==version`` for everything in ``venv``:
    uv's freeze for a venv uv built, when ``uv`` is given; else pip's."""
    python = str(venv_python(venv))
    if manager == "uv" and uv:
        return [uv, "pip", "freeze", "--python", python, "--exclude-editable"]
    return [
        python,
        "-m",
        "pip",
        "--disable-pip-version-check",
        "freeze",
        "--exclude-editable",
    ]


def write_lock(root: Path, manager: str, uv: str | None = None) -> Path:
    """Pin everything installed in the project's venv to ``requirements.lock``.

    The pins are the installer's own freeze output; the file is replaced only
    once the freeze succeeded, so a failure leaves the previous lock intact.
    """
    root = Path(root)
    command = freeze_command(root / VENV_DIR, manager, uv)
    by_pip = command[0] != uv
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        if by_pip and "No module named pip" in result.stderr:
            raise RuntimeError(_no_freezer(manager))
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"could not freeze {VENV_DIR}: {detail}")

    tool = "pip freeze" if by_pip else "uv pip freeze"
    header = (
        f"# Exact versions installed in {VENV_DIR}, as reported by `{tool}`.\n"
        "# Rebuild the environment: pip install -r requirements.lock"
        " && pip install --no-deps -e .\n"
    )
    return atomic_write(root / LOCK_FILE, header + result.stdout)


def _no_freezer(manager: str) -> str:
    """Why nothing can list what the venv holds, and what to do, in one line."""
    remedy = f"add pip with {venv_python(Path(VENV_DIR))} -m ensurepip"
    if manager == "uv":
        return (
            f"uv built {VENV_DIR} without pip and uv is not on PATH:"
            f" put uv on PATH, or {remedy}"
        )
    return f"{VENV_DIR} has no pip to list what it holds: {remedy}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def project_metadata(root: Path) -> dict[str, str]:
    """Name, version and requires-python from ``pyproject.toml``."""
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: read the lines the template writes.
        found = dict(
            re.findall(r'(?m)^(name|version|requires-python) = "([^"]*)"', text)
        )
    else:
        found = tomllib.loads(text).get("project", {})
    return {
        "name": found.get("name", root.name),
        "version": found.get("version", "0"),
        "requires_python": found.get("requires-python", ""),
    }


# Run by the environment's own interpreter, isolated (-I) from the caller.
_PROBE = """
import json, platform, re, sys, sysconfig
from importlib.metadata import distributions

installed = {}
for distribution in distributions():
    name = distribution.metadata["Name"]
    if name:
        key = re.sub(r"[-_.]+", "-", name).lower()
        installed.setdefault(key, distribution.version)
json.dump({
    "python": {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
    },
    "platform": {
        "system": platform.system(),
        "machine": platform.machine(),
        "tag": sysconfig.get_platform(),
    },
    "distributions": dict(sorted(installed.items())),
}, sys.stdout)
"""


def probe_environment(python: Path) -> dict[str, Any]:
    """Ask ``python`` to describe itself and what is installed beside it."""
    result = subprocess.run(
        [str(python), "-I", "-c", _PROBE], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{python} could not describe itself: {detail}")
    return json.loads(result.stdout)


def manifest_id(identity: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of what defines an environment."""
    canonical = json.dumps(
        identity, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def build_manifest(
    root: Path,
    *,
    environment: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Manifest of the project at ``root`` and of its ``.venv`` as it is now.

    ``environment`` carries what the caller knows of how the venv was built
    (manager, status, detail); missing parts of the environment are recorded
    as such rather than guessed.
    """
    root = Path(root)
    environment = {"path": VENV_DIR, "status": "ready", **(environment or {})}
    python = venv_python(root / VENV_DIR)

    described: dict[str, Any] = {"python": None, "platform": None, "distributions": {}}
    if python.exists():
        try:
            described = probe_environment(python)
        except RuntimeError as error:
            log.warning("%s", error)
            environment.setdefault("detail", str(error))
            environment["status"] = "broken"
    elif environment["status"] == "ready":
        environment["status"] = "missing"

    lock_path = root / LOCK_FILE
    lock = None
    pins: dict[str, str] = {}
    if lock_path.is_file():
        pins = read_lock(lock_path)
        lock = {"path": LOCK_FILE, "sha256": file_sha256(lock_path)}

    project = project_metadata(root)
    identity = {
        "project": [project["name"], project["version"]],
        "python": described["python"],
        "platform": (described["platform"] or {}).get("tag"),
        "packages": pins or described["distributions"],
    }
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return {
        "schema_version": SCHEMA_VERSION,
        "id": manifest_id(identity),
        "created_at": moment.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "project": project,
        "python": described["python"],
        "platform": described["platform"],
        "environment": environment,
        "dependencies_installed": environment["status"] == "ready"
        and bool(described["distributions"]),
        "lock": lock,
        "distributions": described["distributions"],
    }


def write_manifest(root: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest`` under ``deployments/`` atomically and return its path."""
    stamp = re.sub(r"[-:]", "", manifest["created_at"])
    target = Path(root) / MANIFEST_DIR / f"manifest-{stamp}-{manifest['id'][:12]}.json"
    text = json.dumps(
        manifest, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False
    )
    return atomic_write(target, text + "\n")


def newest_manifest(root: Path) -> Path | None:
    """The most recent manifest under ``deployments/``, or None."""
    found = sorted((Path(root) / MANIFEST_DIR).glob("manifest-*.json"))
    return found[-1] if found else None


def drift(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """One line per difference between a recorded manifest and a fresh one."""
    findings = []
    for key in ("python", "platform"):
        if recorded.get(key) != current.get(key):
            findings.append(
                f"{key}: {recorded.get(key)} recorded, {current.get(key)} now"
            )

    old_lock, new_lock = recorded.get("lock"), current.get("lock")
    if old_lock != new_lock:
        if new_lock is None:
            findings.append(f"lock: {LOCK_FILE} recorded, now missing")
        elif old_lock is None:
            findings.append(f"lock: {LOCK_FILE} written since the manifest")
        else:
            findings.append(f"lock: {LOCK_FILE} changed since the manifest")

    before = recorded.get("distributions") or {}
    after = current.get("distributions") or {}
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if old is None:
            findings.append(f"{name}: {new} installed since the manifest")
        elif new is None:
            findings.append(f"{name}: {old} recorded, no longer installed")
        else:
            findings.append(f"{name}: {old} recorded, {new} installed")
    return findings
