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

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from copier import run_copy

from conftest import tomllib
from support.cached_env import (
    cache_root,
    cached_environment,
    purelib,
    python_output,
)

pytestmark = pytest.mark.slow

ANSWERS = yaml.safe_load((Path(__file__).parent / "answers.yml").read_text())
# MLflow reports usage unless told not to; nothing here may leave the machine.
QUIET_MLFLOW = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


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
        "mlflow",
        requirements,
        python,
        probe="import mlflow.server, mlflow.tracking",
        probe_env=QUIET_MLFLOW,
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
