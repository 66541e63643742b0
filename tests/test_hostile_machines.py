"""Real copies, tasks included, on machines that get in the way.

No network (the package index is a closed port on 127.0.0.1, every cache
fresh and empty), user files already in the destination, no uv or
pre-commit on PATH, a wrong ``python`` first on PATH. The copy always
succeeds, loses nothing, and says what is left to do. Building a venv
takes seconds, so the installs here fail fast on purpose: the successful
installs are in test_end_to_end.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from plumbum import local

from conftest import ROOT, render_project
from helpers import files


@pytest.fixture
def closed_index() -> Iterator[str]:
    """The URL of a package index on a port of 127.0.0.1 that refuses."""
    with socket.socket() as held:  # bound, never listening: connections refused
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}/simple"


@pytest.fixture
def machine(monkeypatch):
    """Set environment variables for this test and for copier's tasks."""

    def _set(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
            monkeypatch.setitem(local.env, name, value)

    return _set


@pytest.fixture
def offline(machine, closed_index, tmp_path) -> str:
    """No package index: pip and uv both point at the closed port."""
    machine(
        PIP_INDEX_URL=closed_index,
        PIP_NO_CACHE_DIR="1",
        PIP_RETRIES="0",
        UV_DEFAULT_INDEX=closed_index,
        UV_CACHE_DIR=str(tmp_path / "empty-uv-cache"),
        UV_HTTP_RETRIES="0",
    )
    return closed_index


def newest_manifest(project: Path) -> dict:
    found = sorted((project / "deployments").glob("manifest-*.json"))
    assert found, "the bootstrap records what it did in a manifest"
    return json.loads(found[-1].read_text())


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mtime of every file under ``root``."""
    return {
        name: (
            hashlib.sha256((root / name).read_bytes()).hexdigest(),
            (root / name).stat().st_mtime_ns,
        )
        for name in files(root)
    }


@pytest.mark.parametrize(
    ("manager", "extra"),
    [
        ("uv", {}),
        ("uv", {"UV_OFFLINE": "1"}),
        pytest.param("pip", {}, marks=pytest.mark.slow),
    ],
    ids=["uv", "uv-offline", "pip"],
)
def test_without_network_the_copy_succeeds_keeps_every_file_and_says_how_to_finish(
    copier_template, plain_template, tmp_path, capfd, offline, machine, manager, extra
):
    machine(**extra)
    project = tmp_path / "churn-radar"
    render_project(copier_template, project, tasks=True, env_manager=manager)
    printed = capfd.readouterr().out

    rendered = render_project(plain_template, tmp_path / "render-only")
    assert files(rendered) <= files(project)
    manifest = newest_manifest(project)
    assert manifest["dependencies_installed"] is False
    assert manifest["environment"]["status"] == "not-installed"
    assert manifest["environment"]["manager"] == manager
    assert "Bootstrap stopped: installing the project failed" in printed
    assert "Your files are all in churn-radar/. To finish, run there:" in printed
    assert ".venv/bin/python -m churn_radar lock" in printed
    assert "-e '.[dev]'" in printed
    assert not (project / "requirements.lock").exists()


def test_user_files_in_the_destination_survive_a_failing_bootstrap(
    copier_template, tmp_path, offline
):
    """Nothing already in the destination is removed or changed."""
    project = tmp_path / "churn-radar"
    user_files = {
        "notes.md": "my notes\n",
        "data/raw/customers.csv": "id,churned\n1,0\n",
        "requirements.lock": "numpy==1.26.4\n",
        "deployments/manifest-20200101T000000Z-000000000000.json": "{}\n",
        "scratch/analysis.py": "print('mine')\n",
    }
    for name, text in user_files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    before = snapshot(project)

    render_project(copier_template, project, tasks=True, env_manager="uv")

    after = snapshot(project)
    assert {name: after[name] for name in before} == before
    assert newest_manifest(project)["environment"]["status"] == "not-installed"


def test_an_existing_venv_is_left_untouched(copier_template, tmp_path, capfd):
    project = tmp_path / "churn-radar"
    (project / ".venv").mkdir(parents=True)
    (project / ".venv/pyvenv.cfg").write_text("home = /somewhere/else\n")
    before = snapshot(project / ".venv")

    render_project(copier_template, project, tasks=True, env_manager="uv")

    assert snapshot(project / ".venv") == before
    assert "churn-radar/.venv already existed and was left untouched" in (
        capfd.readouterr().out
    )


def fake_command(folder: Path, name: str) -> Path:
    """An executable that leaves a mark when run, and fails."""
    path = folder / name
    path.write_text(f'#!/bin/sh\ntouch "{folder}/{name}.was-run"\nexit 1\n')
    path.chmod(0o755)
    return path


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="fake commands are shell scripts")
def test_without_uv_or_pre_commit_on_path_the_pip_path_is_taken_without_abort(
    plain_template, tmp_path, offline, machine
):
    """copier's interpreter has no uv module and PATH has no uv, no
    pre-commit and no Python: the bootstrap warns, builds the venv with
    venv + pip, and exits 0."""
    project = render_project(plain_template, tmp_path / "churn-radar")
    bare = tmp_path / "bare-bin"
    bare.mkdir()
    machine(PATH=str(bare))

    result = subprocess.run(
        [
            sys.executable,
            "-S",  # no site-packages: the uv package beside copier is gone too
            str(ROOT / "hooks/bootstrap.py"),
            "--env-manager=auto",
            f"--python={sys.version_info[0]}.{sys.version_info[1]}",
            "--package=churn_radar",
        ],
        cwd=project,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert "note: uv not found: using venv + pip" in result.stdout
    assert (project / ".venv/bin/python").exists()
    environment = newest_manifest(project)["environment"]
    assert (environment["manager"], environment["status"]) == ("pip", "not-installed")


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="fake commands are shell scripts")
def test_a_wrong_python_first_on_path_is_never_used(
    copier_template, tmp_path, offline, machine
):
    """Fake python, python3 and pip first on PATH are never run; the venv is
    built by the interpreter that runs copier."""
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    for name in ("python", "python3", "pip", "pip3"):
        fake_command(fakes, name)
    machine(PATH=f"{fakes}{os.pathsep}{os.environ['PATH']}")
    project = tmp_path / "churn-radar"

    render_project(copier_template, project, tasks=True, env_manager="pip")

    assert list(fakes.glob("*.was-run")) == []
    probe = subprocess.run(
        [str(project / ".venv/bin/python"), "-c", "import sys; print(sys.base_prefix)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(probe.stdout.strip()).resolve() == Path(sys.base_prefix).resolve()
    assert newest_manifest(project)["environment"]["status"] == "not-installed"
