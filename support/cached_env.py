"""Heavy test-only tools live in virtual environments built once and reused.

MLflow, for one, installs about 850 MB: the tests and the benchmarks build
one environment per set of requirements, Python minor and platform under
``~/.cache/purepy/`` (or ``$XDG_CACHE_HOME/purepy``), and rebuild it only
when it no longer works.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sysconfig
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "purepy"


def python_output(python: Path, code: str) -> str:
    result = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{python} -c {code!r} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def purelib(python: Path) -> Path:
    return Path(
        python_output(python, "import sysconfig; print(sysconfig.get_path('purelib'))")
    )


@contextmanager
def exclusive(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock``: one build at a time across processes."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached_environment(
    name: str,
    requirements: list[str],
    python: Path,
    probe: str,
    probe_env: Mapping[str, str] | None = None,
) -> Path:
    """A venv called ``name-py<minor>-<hash>`` with ``requirements``, built once.

    ``probe`` is code the environment's interpreter must run without error;
    when it fails (a half-finished build, a removed base interpreter), the
    environment is built again from scratch.
    """
    version = python_output(python, "import sys; print(sys.version.split()[0])")
    minor = ".".join(version.split(".")[:2])
    identity = {
        "requirements": sorted(requirements),
        "python": minor,
        "platform": sysconfig.get_platform(),
    }
    key = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    venv = cache_root() / f"{name}-py{minor}-{key[:12]}"
    env_python = venv / "bin" / "python"
    marker = venv / "purepy-environment.json"
    environment = {**os.environ, **(probe_env or {})}

    with exclusive(venv.with_name(venv.name + ".lock")):
        if marker.is_file() and env_python.exists():
            check = subprocess.run(
                [str(env_python), "-c", probe],
                env=environment,
                capture_output=True,
                check=False,
            )
            if check.returncode == 0:
                return venv
        shutil.rmtree(venv, ignore_errors=True)

        from uv import find_uv_bin

        uv = find_uv_bin()
        subprocess.run(
            [uv, "venv", "-q", "--python", str(python), str(venv)], check=True
        )
        subprocess.run(
            [uv, "pip", "install", "-q", "--python", str(env_python), *requirements],
            check=True,
        )
        subprocess.run([str(env_python), "-c", probe], env=environment, check=True)
        # Written last: its presence means the build above finished.
        marker.write_text(json.dumps({**identity, "built": time.time()}, indent=2))
    return venv
