"""Slow: the generated project's MLflow tests, against a real MLflow server.

MLflow and its dependencies weigh about 850 MB, so they are installed once
into a cached environment under ``~/.cache/purepy/`` (``$XDG_CACHE_HOME``
when set), named after the ``mlflow`` extra's requirements, the Python
version and the platform. Later runs reuse it; one that no longer imports
MLflow is rebuilt. A lock file keeps two test runs from building it at once.

One bootstrapped project sees the cached environment through a ``.pth``
file in its ``.venv``: site-packages of the venv come first on ``sys.path``
and the cached environment is appended after them, so the project's own
locked packages always win and the cached one only adds what the project
lacks (MLflow, Flask, SQLAlchemy, ...). Nothing is installed into the
project's venv and the cached environment is never modified by a test, so
neither can be left half-changed. The generated tests then start
``mlflow server`` with the project's own interpreter.
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.etree import ElementTree

import pytest
import tomllib
import yaml
from copier import run_copy

pytestmark = pytest.mark.slow

ANSWERS = yaml.safe_load((Path(__file__).parent / "answers.yml").read_text())
# MLflow reports usage unless told not to; nothing here may leave the machine.
QUIET_MLFLOW = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


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
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached_environment(requirements: list[str], python: Path, probe: str) -> Path:
    """A venv with ``requirements`` for the Python of ``python``, built once.

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
    venv = cache_root() / f"mlflow-py{minor}-{key[:12]}"
    env_python = venv / "bin" / "python"
    marker = venv / "purepy-environment.json"

    with exclusive(venv.with_name(venv.name + ".lock")):
        if marker.is_file() and env_python.exists():
            check = subprocess.run(
                [str(env_python), "-c", probe],
                env={**os.environ, **QUIET_MLFLOW},
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
        subprocess.run(
            [str(env_python), "-c", probe],
            env={**os.environ, **QUIET_MLFLOW},
            check=True,
        )
        # Written last: its presence means the build above finished.
        marker.write_text(json.dumps({**identity, "built": time.time()}, indent=2))
    return venv


@pytest.fixture(scope="module")
def project(copier_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    destination = tmp_path_factory.mktemp("mlflow") / "churn-radar"
    run_copy(
        str(copier_template),
        destination,
        data={**ANSWERS, "env_manager": "uv"},
        defaults=True,
        unsafe=True,
        quiet=True,
    )
    assert (destination / ".venv/bin/python").exists(), "the bootstrap built .venv"
    return destination


@pytest.fixture(scope="module")
def mlflow_in_project(project: Path) -> Iterator[Path]:
    """The project's venv python, with the cached MLflow environment behind it."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    requirements = pyproject["project"]["optional-dependencies"]["mlflow"]
    python = project / ".venv" / "bin" / "python"
    cached = cached_environment(
        requirements, python, probe="import mlflow.server, mlflow.tracking"
    )

    link = purelib(python) / "cached-mlflow.pth"
    link.write_text(f"{purelib(cached / 'bin' / 'python')}\n")
    yield python
    link.unlink()


def test_the_project_sees_mlflow_but_keeps_its_own_packages(mlflow_in_project):
    located = json.loads(
        python_output(
            mlflow_in_project,
            "import json, mlflow, yaml, churn_radar.tracking as t; "
            "print(json.dumps([mlflow.__file__, yaml.__file__, t.__file__]))",
        )
    )
    mlflow_file, yaml_file, tracking_file = map(Path, located)
    venv = mlflow_in_project.parents[1]

    assert cache_root() in mlflow_file.parents
    assert venv in yaml_file.parents, "the project's own pyyaml comes first"
    assert tracking_file.parent.name == "churn_radar"


def test_generated_mlflow_tests_pass_against_a_real_server(
    project, mlflow_in_project, tmp_path
):
    report = tmp_path / "mlflow-tests.xml"
    result = subprocess.run(
        [
            str(mlflow_in_project),
            "-m",
            "pytest",
            "-m",
            "mlflow",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
        ],
        cwd=project,
        env={**os.environ, **QUIET_MLFLOW},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output

    suite = ElementTree.parse(report).getroot().find("testsuite")
    ran = int(suite.get("tests"))
    not_passed = [int(suite.get(n)) for n in ("skipped", "failures", "errors")]
    assert ran >= 2 and not_passed == [0, 0, 0], output
