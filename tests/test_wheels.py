"""Every offered Python with every offered data library installs from wheels.

A project with all the data libraries, and its dev extra, is resolved with
uv for each offered Python on Linux, macOS and Windows, wheels only, from
metadata alone (nothing is downloaded whole). If a set of libraries resolves,
every subset does too, so this covers every answer to ``packages``. When it
fails, the library or the Python must leave team.yml until wheels exist.

The first resolution refreshes uv's cache of the index; the others run
against that cache and go back to the index only when they need more.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, render_project

pytestmark = [pytest.mark.network, pytest.mark.slow]

TEAM = yaml.safe_load((ROOT / "team.yml").read_text())
OFFERED = TEAM["team_python_versions"]["default"]
PACKAGES = list(TEAM["team_package_specs"]["default"])
PLATFORMS = ["x86_64-manylinux_2_28", "aarch64-apple-darwin", "x86_64-pc-windows-msvc"]


def resolve(project: Path, version: str, platform: str, *, offline: bool):
    command = [
        str(Path(sys.executable).parent / "uv"),
        "pip",
        "compile",
        "pyproject.toml",
        "--extra",
        "dev",
        "--only-binary",
        ":all:",
        "--python-version",
        version,
        "--python-platform",
        platform,
        "--no-header",
        "--quiet",
        "--output-file",
        os.devnull,
    ]
    if offline:
        command.append("--offline")
    return subprocess.run(command, cwd=project, capture_output=True, text=True)


def test_every_offered_python_and_library_resolves_to_wheels(plain_template, tmp_path):
    project = render_project(
        plain_template,
        tmp_path / "everything",
        python_version=OFFERED[0],
        packages=PACKAGES,
    )
    failures = []
    for number, (version, platform) in enumerate(
        (v, p) for v in OFFERED for p in PLATFORMS
    ):
        result = resolve(project, version, platform, offline=number > 0)
        if result.returncode != 0 and number > 0:
            result = resolve(project, version, platform, offline=False)
        if result.returncode != 0:
            failures.append(f"Python {version} on {platform}:\n{result.stderr}")

    assert not failures, "\n".join(failures)
