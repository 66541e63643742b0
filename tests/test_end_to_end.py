"""Slow: real copies with real tasks, real venvs and real installs.

Each test runs copier with its tasks, as a user does, then runs the
generated project's own test suite inside the venv the tasks built.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import TEAM, tomllib

pytestmark = [pytest.mark.slow, pytest.mark.network]

MANIFEST_FIELDS = {
    "schema_version",
    "id",
    "created_at",
    "project",
    "python",
    "platform",
    "environment",
    "dependencies_installed",
    "lock",
    "distributions",
}


def newest_manifest(project: Path) -> dict:
    found = sorted((project / "deployments").glob("manifest-*.json"))
    assert found, "the bootstrap writes a manifest under deployments/"
    return json.loads(found[-1].read_text())


def run_in(project: Path, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(project / ".venv/bin/python"), *command],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


def assert_bootstrapped(project: Path, manager: str) -> dict:
    assert (project / ".venv/bin/python").exists()
    assert (project / "requirements.lock").is_file()
    manifest = newest_manifest(project)
    assert set(manifest) == MANIFEST_FIELDS
    assert manifest["environment"]["manager"] == manager
    assert manifest["environment"]["status"] == "ready"
    assert manifest["dependencies_installed"] is True
    assert manifest["project"]["name"] == "churn-radar"
    assert manifest["python"]["implementation"] == "CPython"
    assert "/tmp" not in json.dumps(manifest), "manifests carry no temporary paths"

    locked = {
        re.sub(r"[-_.]+", "-", line.split("==")[0]).lower(): line.split("==")[1]
        for line in (project / "requirements.lock").read_text().splitlines()
        if "==" in line
    }
    assert {"pyyaml", "psutil", "pytest"} <= set(locked)
    for name, version in locked.items():
        assert manifest["distributions"][name] == version, name
    assert "churn-radar" not in locked, "the editable project is not pinned"

    tests = run_in(project, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert tests.returncode == 0, tests.stdout + tests.stderr
    return manifest


def test_uv_path_builds_a_project_whose_tests_pass(copier, tmp_path, capfd):
    """Also with a package name that is not the slug of the project name:
    imports, entry point, coverage and packaging all use the package."""
    project = copier.copy(
        tmp_path / "churn-radar", env_manager="uv", package_name="radar"
    ).path
    printed = capfd.readouterr().out

    assert_bootstrapped(project, "uv")
    assert "Project ready in churn-radar/" in printed
    assert "source .venv/bin/activate" in printed
    printed_by = {}
    for command in ("manifest --check", "doctor", "config --sources", "models list"):
        result = run_in(project, "-m", "radar", *command.split())
        assert result.returncode == 0, (command, result.stdout + result.stderr)
        printed_by[command] = result.stdout
    assert printed_by["doctor"].endswith("\nhealthy\n")
    pip = run_in(project, "-m", "pip", "--version")
    assert pip.returncode == 0, "a uv-built .venv has pip for later installs"
    assert printed_by["models list"].startswith("no models in ")

    for option in ("--help", "--version"):
        script = subprocess.run(
            [str(project / ".venv/bin/churn-radar"), option],
            capture_output=True,
            text=True,
            check=False,
        )
        assert script.returncode == 0, script.stderr
        printed_by[option] = script.stdout
    assert printed_by["--help"].startswith("usage: churn-radar ")
    assert "doctor" in printed_by["--help"]
    assert printed_by["--version"] == "churn-radar 0.1.0\n"


def test_pip_path_builds_a_project_whose_tests_pass(copier, tmp_path, capfd):
    project = copier.copy(
        tmp_path / "churn-radar", env_manager="pip", packages=["numpy"]
    ).path

    manifest = assert_bootstrapped(project, "pip")
    assert "pip" in manifest["distributions"]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert TEAM["team_package_specs"]["numpy"] in pyproject["project"]["dependencies"]
    assert "Project ready" in capfd.readouterr().out


def test_env_manager_none_renders_and_builds_nothing(copier, tmp_path, capfd):
    project = copier.copy(tmp_path / "churn-radar", env_manager="none").path
    printed = capfd.readouterr().out

    assert not (project / ".venv").exists()
    assert not (project / "requirements.lock").exists()
    manifest = newest_manifest(project)
    assert manifest["environment"]["status"] == "skipped"
    assert manifest["dependencies_installed"] is False
    assert "No virtual environment was built." in printed
    assert ".venv/bin/python -m churn_radar lock" in printed


def test_jupyterlab_registers_a_kernel_that_runs_the_example_notebook(
    copier, tmp_path, capfd
):
    jupyter_data = tmp_path / "jupyter"
    copier.setenv("JUPYTER_DATA_DIR", str(jupyter_data))
    project = copier.copy(
        tmp_path / "churn-radar", env_manager="uv", packages=["jupyterlab"]
    ).path
    printed = capfd.readouterr().out

    spec = json.loads((jupyter_data / "kernels/churn-radar/kernel.json").read_text())
    assert Path(spec["argv"][0]) == project / ".venv/bin/python"
    assert "jupyter kernelspec uninstall churn-radar" in printed

    executed = run_in(
        project,
        "-c",
        "import nbformat, nbclient, sys\n"
        "nb = nbformat.read('notebooks/01-example.ipynb', as_version=4)\n"
        "client = nbclient.NotebookClient(nb, timeout=120, kernel_name='churn-radar')\n"
        "client.execute()\n"
        "print(nb.cells[2].outputs[0].text)",
    )
    assert executed.returncode == 0, executed.stderr
    assert "held-out accuracy" in executed.stdout

    tests = run_in(project, "-m", "pytest", "-q", "-rs", "tests/test_notebooks.py")
    assert tests.returncode == 0 and "1 passed" in tests.stdout, tests.stdout

    removed = subprocess.run(
        [
            str(project / ".venv/bin/jupyter"),
            "kernelspec",
            "uninstall",
            "-y",
            "churn-radar",
        ],
        capture_output=True,
        text=True,
        env={**os.environ},
        check=False,
    )
    assert removed.returncode == 0, removed.stderr
    assert not (jupyter_data / "kernels/churn-radar").exists()
