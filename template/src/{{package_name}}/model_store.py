"""Versioned model artifacts, each with the metadata needed to trust it later.

``models/trained/<name>/<version>/`` holds the serialised model and
``metadata.json``: the artifact's sha256 and size, when and with which
Python, platform and package versions it was saved, and the metrics and
params given. Versions are 1, 2, 3, ... per name; ``latest`` is the highest.

Loading recomputes the sha256 and refuses a mismatch before a single byte
is deserialised. The checksum catches corruption and swapped files; it is
no defence against someone who can rewrite ``metadata.json`` too. Pickle and
joblib files run code when loaded: load only models you trust, or save with
``format="skops"`` (when skops is installed), which refuses unknown types.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import platform
import re
import shutil
import sys
import sysconfig
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path
from typing import Any, NamedTuple

from .atomic import atomic_path, atomic_write
from .config import load_config
from .manifest import file_sha256, normalize_name
from .paths import project_root

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
METADATA_FILE = "metadata.json"
DEFAULT_MODEL_PATH = "models/trained"
ARTIFACTS = {"joblib": "model.joblib", "pickle": "model.pkl", "skops": "model.skops"}
# Libraries whose version decides whether a saved model loads and behaves
# the same; the distribution of the model's own class is added to these.
RELEVANT_PACKAGES = ("numpy", "scipy", "scikit-learn", "pandas", "polars")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_VERSION = re.compile(r"[1-9][0-9]*")


class ModelIntegrityError(ValueError):
    """A model artifact that does not match its recorded sha256 or size."""


class Verification(NamedTuple):
    """Outcome of checking one saved version: ``problem`` is None when sound."""

    name: str
    version: int
    problem: str | None


def check_name(name: str) -> str:
    """``name`` when it is a safe folder name for a model, else ValueError."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"invalid model name {name!r}: use up to 100 letters, digits, '.', '_'"
            " or '-', starting with a letter or digit"
        )
    return name


def store_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Folder holding the models: ``root``, else the config's ``model_path``."""
    if root is not None:
        return Path(root)
    project = project_root()
    return project / load_config(root=project).get("model_path", DEFAULT_MODEL_PATH)


def list_models(*, root: str | os.PathLike[str] | None = None) -> dict[str, list[int]]:
    """Every model name in the store with its versions, oldest first."""
    folder = store_root(root)
    if not folder.is_dir():
        return {}
    names = sorted(
        p.name for p in folder.iterdir() if p.is_dir() and _NAME.fullmatch(p.name)
    )
    return {name: found for name in names if (found := versions(name, root=folder))}


def versions(name: str, *, root: str | os.PathLike[str] | None = None) -> list[int]:
    """Saved versions of model ``name``, oldest first (empty when none)."""
    folder = store_root(root) / check_name(name)
    if not folder.is_dir():
        return []
    return sorted(
        int(p.name)
        for p in folder.iterdir()
        if _VERSION.fullmatch(p.name) and p.is_dir()
    )


def resolve_version(
    name: str,
    version: int | str = "latest",
    *,
    root: str | os.PathLike[str] | None = None,
) -> int:
    """The version number ``version`` ("latest", 3 or "3") stands for."""
    store = store_root(root)
    saved = versions(name, root=store)
    if not saved:
        raise FileNotFoundError(f"no model named {name!r} in {store}")
    if version == "latest":
        return saved[-1]
    text = str(version)
    number = int(text) if _VERSION.fullmatch(text) else None
    if number not in saved:
        listed = ", ".join(map(str, saved))
        raise FileNotFoundError(f"model {name!r} has no version {text} (has {listed})")
    return number


def model_info(
    name: str,
    version: int | str = "latest",
    *,
    root: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Metadata of one saved version, with its ``version`` and ``path``."""
    store = store_root(root)
    number = resolve_version(name, version, root=store)
    folder = store / name / str(number)
    return {**_read_metadata(folder), "version": number, "path": str(folder)}


def save_model(
    model: Any,
    name: str,
    *,
    metrics: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    format: str | None = None,
    root: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Save ``model`` as the next version of ``name`` and return its record.

    ``format`` is ``joblib`` (the default when installed), ``pickle`` (the
    default otherwise) or ``skops``. ``metrics`` and ``params`` must be JSON
    values with finite numbers. The version folder appears complete or not at
    all (a failed save leaves no file or folder behind), and concurrent saves
    of one name get distinct versions.
    """
    check_name(name)
    format = format or _default_format()
    if format not in ARTIFACTS:
        raise ValueError(
            f"unknown model format {format!r} (use {', '.join(ARTIFACTS)})"
        )
    recorded = {
        "metrics": _json_ready("metrics", metrics),
        "params": _json_ready("params", params),
    }

    store = store_root(root)
    created = _make_folders(store)
    # Staged beside the models, not inside its model's folder: a failed save
    # must not leave that folder behind, empty, as a model without versions.
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=store))
    try:
        # mkdtemp makes the folder private; a saved version is as shared as
        # the store it lands in.
        staging.chmod(store.stat().st_mode & 0o777)

        artifact = staging / ARTIFACTS[format]
        with atomic_path(artifact) as temporary:
            _serialise(model, format, temporary)
        metadata = {
            "schema_version": SCHEMA_VERSION,
            "name": name,
            "format": format,
            "artifact": artifact.name,
            "sha256": file_sha256(artifact),
            "size": artifact.stat().st_size,
            "created_at": _utc_now(),
            "model_type": f"{type(model).__module__}.{type(model).__qualname__}",
            "python": {
                "version": platform.python_version(),
                "implementation": platform.python_implementation(),
            },
            "platform": {
                "system": platform.system(),
                "machine": platform.machine(),
                "tag": sysconfig.get_platform(),
            },
            "packages": _package_versions(model, format),
            "project": _project(),
            **recorded,
        }
        text = json.dumps(
            metadata, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False
        )
        atomic_write(staging / METADATA_FILE, text + "\n")
        number = _claim_version(staging, store / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for made in reversed(created):
            try:
                made.rmdir()
            except OSError:  # another save is using it
                break
        raise

    folder = store / name
    log.info("saved model %s version %s (%s bytes)", name, number, metadata["size"])
    return {**metadata, "version": number, "path": str(folder / str(number))}


def load_model(
    name: str,
    version: int | str = "latest",
    *,
    root: str | os.PathLike[str] | None = None,
    trusted: Sequence[str] | None = None,
) -> Any:
    """Load a saved model after checking its sha256 and size.

    ``trusted`` lists the extra types a skops artifact may contain; other
    formats ignore it.
    """
    store = store_root(root)
    number = resolve_version(name, version, root=store)
    folder = store / name / str(number)
    metadata = _read_metadata(folder)

    # Hash exactly the bytes that get deserialised, so the file cannot change
    # between the check and the load.
    artifact = folder / metadata["artifact"]
    try:
        data = artifact.read_bytes()
    except FileNotFoundError:
        raise ModelIntegrityError(
            f"{name} version {number}: {artifact.name} is missing"
        ) from None
    problem = _integrity_problem(metadata, hashlib.sha256(data).hexdigest(), len(data))
    if problem:
        raise ModelIntegrityError(
            f"{name} version {number}: {problem}; refusing to load it"
        )

    _warn_about_package_changes(name, number, metadata.get("packages") or {})
    return _deserialise(data, metadata["format"], trusted)


def verify(
    name: str | None = None, *, root: str | os.PathLike[str] | None = None
) -> list[Verification]:
    """Check every saved version (of ``name``, or of every model) against its
    metadata, without loading any of them."""
    store = store_root(root)
    if name is None:
        catalogue = list_models(root=store)
    else:
        found = versions(name, root=store)
        if not found:
            raise FileNotFoundError(f"no model named {name!r} in {store}")
        catalogue = {name: found}

    return [
        Verification(model, number, _folder_problem(store / model / str(number)))
        for model, numbers in catalogue.items()
        for number in numbers
    ]


def _folder_problem(folder: Path) -> str | None:
    try:
        metadata = _read_metadata(folder)
    except ValueError as error:
        return str(error)
    artifact = folder / metadata["artifact"]
    if not artifact.is_file():
        return f"{artifact.name} is missing"
    return _integrity_problem(metadata, file_sha256(artifact), artifact.stat().st_size)


def _integrity_problem(
    metadata: Mapping[str, Any], sha256: str, size: int
) -> str | None:
    if size != metadata["size"]:
        return (
            f"{metadata['artifact']} has {size} bytes, metadata says {metadata['size']}"
        )
    if sha256 != metadata["sha256"]:
        return f"sha256 of {metadata['artifact']} differs from {METADATA_FILE}"
    return None


def _read_metadata(folder: Path) -> dict[str, Any]:
    path = folder / METADATA_FILE
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelIntegrityError(f"{path}: missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelIntegrityError(f"{path}: not valid JSON ({error})") from None

    # The artifact's name comes from a file anyone may edit: accept only the
    # names this module writes, so it can never point outside the folder.
    if (
        not isinstance(metadata, dict)
        or metadata.get("format") not in ARTIFACTS
        or metadata.get("artifact") != ARTIFACTS[metadata["format"]]
        or not isinstance(metadata.get("sha256"), str)
        or not isinstance(metadata.get("size"), int)
    ):
        raise ModelIntegrityError(f"{path}: not a model record")
    return metadata


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; the ones made, outermost
    first."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()][::-1]
    folder.mkdir(parents=True, exist_ok=True)
    return missing


def _claim_version(staging: Path, folder: Path) -> int:
    """Rename ``staging`` to the next free version number of the model in
    ``folder`` and return it.

    Renaming a folder onto an existing, non-empty one fails, so two processes
    saving at once cannot both take the same number: the loser tries the
    next one.
    """
    folder.mkdir(exist_ok=True)
    number = 0
    while True:
        taken = versions(folder.name, root=folder.parent)
        number = max(number, *taken) + 1 if taken else number + 1
        target = folder / str(number)
        try:
            os.rename(staging, target)
        except OSError:
            if not target.exists():
                raise
            continue
        return number


def _default_format() -> str:
    try:
        import joblib  # noqa: F401
    except ImportError:
        return "pickle"
    return "joblib"


def _serialise(model: Any, format: str, path: Path) -> None:
    if format == "joblib":
        import joblib

        with path.open("wb") as handle:
            joblib.dump(model, handle)
    elif format == "skops":
        try:
            import skops.io
        except ImportError:
            raise ModuleNotFoundError(
                "format 'skops' needs skops: pip install skops"
            ) from None
        path.write_bytes(skops.io.dumps(model))
    else:
        import pickle

        path.write_bytes(pickle.dumps(model))


def _deserialise(data: bytes, format: str, trusted: Sequence[str] | None) -> Any:
    if format == "joblib":
        try:
            import joblib
        except ImportError:
            raise ModuleNotFoundError(
                "this model was saved with joblib, which is not installed"
            ) from None
        return joblib.load(io.BytesIO(data))
    if format == "skops":
        try:
            import skops.io
        except ImportError:
            raise ModuleNotFoundError(
                "this model was saved with skops, which is not installed"
            ) from None
        untrusted = sorted(
            set(skops.io.get_untrusted_types(data=data)) - set(trusted or ())
        )
        if untrusted:
            raise ValueError(
                f"the model holds types skops does not trust: {', '.join(untrusted)};"
                " review them and pass them as trusted=[...]"
            )
        return skops.io.loads(data, trusted=list(trusted or ()) or None)
    import pickle

    return pickle.loads(data)


def _json_ready(what: str, values: Mapping[str, Any] | None) -> dict[str, Any]:
    """``values`` as plain JSON types; numpy scalars and arrays become numbers
    and lists. NaN and infinity are refused: JSON has no such numbers."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ValueError(f"{what} must be a mapping, got {type(values).__name__}")

    def plain(value: Any) -> Any:
        for method in ("tolist", "item"):
            if callable(getattr(value, method, None)):
                return getattr(value, method)()
        raise TypeError(f"{type(value).__name__} is not JSON-serialisable")

    ready: dict[str, Any] = {}
    for key, value in values.items():
        try:
            converted = json.loads(json.dumps({key: value}, default=plain))
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{what} {key!r} cannot be stored as JSON: {error}"
            ) from None
        if not all(map(_finite, converted.values())):
            raise ValueError(
                f"{what} {key!r} must hold finite numbers: JSON has no NaN or infinity"
            )
        ready.update(converted)
    return ready


def _finite(value: Any) -> bool:
    """Whether every number in a JSON value is finite."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(map(_finite, value.values()))
    if isinstance(value, list):
        return all(map(_finite, value))
    return True


def _package_versions(model: Any, format: str) -> dict[str, str]:
    wanted = {normalize_name(name) for name in RELEVANT_PACKAGES}
    if format != "pickle":
        wanted.add(format)
    module = type(model).__module__.partition(".")[0]
    if module not in sys.stdlib_module_names:
        owners = packages_distributions().get(module, [])
        wanted.update(normalize_name(owner) for owner in owners)

    found = {}
    for name in sorted(wanted):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def _warn_about_package_changes(
    name: str, number: int, recorded: Mapping[str, str]
) -> None:
    for package, saved_with in sorted(recorded.items()):
        try:
            installed = version(package)
        except PackageNotFoundError:
            installed = "nothing"
        if installed != saved_with:
            log.warning(
                "model %s version %s was saved with %s %s; %s is installed",
                name,
                number,
                package,
                saved_with,
                installed,
            )


def _project() -> dict[str, str]:
    from . import DISTRIBUTION, __version__

    return {"name": DISTRIBUTION, "version": __version__}


def _utc_now() -> str:
    moment = datetime.now(timezone.utc).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")
