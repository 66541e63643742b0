"""Outside judges: tools nobody here wrote decide whether the output is right.

actionlint reads the workflows, validate-pyproject the pyproject.toml (with
the schemas of the tools it configures), ruff the code with the project's own
settings, and hatchling builds the package metadata. Each answer combination
below is rendered once; together they cover every offered Python, license and
data library, the longest names allowed, and hostile text.
"""

from __future__ import annotations

import email.parser
import email.utils
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, render_project

BIN = Path(sys.executable).parent
TEAM = yaml.safe_load((ROOT / "team.yml").read_text())
OFFERED = TEAM["team_python_versions"]["default"]
PACKAGES = list(TEAM["team_package_specs"]["default"])
LICENSES = ["MIT", "Apache-2.0", "BSD-3-Clause", "GPL-3.0-or-later", "Proprietary"]
LONGEST = 40

VARIANTS = [
    {"packages": []},
    {"packages": PACKAGES, "author_email": ""},
    {
        "project_name": "Churn Radar",
        "project_slug": "s" * LONGEST,
        "package_name": "p" * LONGEST,
    },
    {
        "project_slug": "churn.radar",
        "package_name": "radar",
        "author_name": 'Doe, Jane "JD" O\'Neil 🙂',
        "description": 'Flags "at-risk" accounts: weekly\tretrain\nMore: here',
    },
    {"project_name": "3.10", "author_name": "no", "description": "on"},
]
# Each offered Python, license and variant is in at least one combination.
COMBINATIONS = [
    {
        "python_version": OFFERED[i % len(OFFERED)],
        "license": LICENSES[i % len(LICENSES)],
        **VARIANTS[i % len(VARIANTS)],
    }
    for i in range(max(len(OFFERED), len(LICENSES), len(VARIANTS)))
]


@pytest.fixture(scope="module")
def projects(plain_template, tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("judged")
    return [
        render_project(plain_template, root / f"p{i}", **answers)
        for i, answers in enumerate(COMBINATIONS)
    ]


def judge(*command: str, cwd: Path = ROOT) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"{cwd}\n{result.stdout}{result.stderr}"


def test_actionlint_passes_on_every_rendered_workflow_and_the_templates_own(
    projects,
):
    workflows = [ROOT / ".github/workflows/ci.yml"] + [
        path
        for project in projects
        for path in sorted((project / ".github/workflows").glob("*.y*ml"))
    ]
    assert len(workflows) > len(projects)
    judge(str(BIN / "actionlint"), "-no-color", *map(str, workflows))


def test_validate_pyproject_passes_on_every_rendered_pyproject(projects):
    judge(
        str(BIN / "validate-pyproject"),
        *(str(project / "pyproject.toml") for project in projects),
    )


def test_ruff_check_and_format_pass_on_every_rendered_project(projects):
    """With the project's own settings, as its CI and pre-commit run them."""
    for project in projects:
        judge(str(BIN / "ruff"), "check", "--no-cache", ".", cwd=project)
        judge(str(BIN / "ruff"), "format", "--check", "--no-cache", ".", cwd=project)


def test_hatchling_builds_metadata_that_holds_the_answers(projects, tmp_path):
    """The build backend accepts every rendered project, and the names,
    summary and author in the package metadata are the answers."""
    for i, project in enumerate(projects):
        out = tmp_path / str(i)
        out.mkdir()
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from hatchling.build import "
                "prepare_metadata_for_build_wheel as build; print(build(sys.argv[1]))",
                str(out),
            ],
            cwd=project,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        text = (out / result.stdout.strip() / "METADATA").read_text("utf-8")
        metadata = email.parser.HeaderParser().parsestr(text)
        full = yaml.safe_load((project / ".copier-answers.yml").read_text())

        assert metadata["Name"] == full["project_slug"]
        summary = (full["description"].splitlines() or [""])[0].strip()
        assert metadata["Summary"] == summary
        if full["author_email"]:
            name, address = email.utils.parseaddr(metadata["Author-email"])
            assert (name, address) == (full["author_name"], full["author_email"])
        else:
            assert metadata["Author"] == full["author_name"]
