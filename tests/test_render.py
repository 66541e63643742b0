"""What a render produces, before any task runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import tomllib

EXPECTED_FILES = {
    ".copier-answers.yml",
    ".gitattributes",
    ".github/workflows/ci.yml",
    ".gitignore",
    ".pre-commit-config.yaml",
    "LICENSE",
    "Makefile",
    "README.md",
    "config/base.yaml",
    "config/development.yaml",
    "config/production.yaml",
    "config/testing.yaml",
    "data/external/.gitkeep",
    "data/interim/.gitkeep",
    "data/processed/.gitkeep",
    "data/raw/.gitkeep",
    "deployments/.gitkeep",
    "experiments/.gitkeep",
    "logs/.gitkeep",
    "models/evaluations/.gitkeep",
    "models/trained/.gitkeep",
    "notebooks/.gitkeep",
    "pyproject.toml",
    "reports/figures/.gitkeep",
    "src/churn_radar/__init__.py",
    "src/churn_radar/__main__.py",
    "src/churn_radar/atomic.py",
    "src/churn_radar/cli.py",
    "src/churn_radar/config.py",
    "src/churn_radar/conda_import.py",
    "src/churn_radar/conda_names.py",
    "src/churn_radar/data/__init__.py",
    "src/churn_radar/data/make_dataset.py",
    "src/churn_radar/doctor.py",
    "src/churn_radar/features/__init__.py",
    "src/churn_radar/features/build_features.py",
    "src/churn_radar/manifest.py",
    "src/churn_radar/model_store.py",
    "src/churn_radar/models/__init__.py",
    "src/churn_radar/models/train_model.py",
    "src/churn_radar/monitoring.py",
    "src/churn_radar/paths.py",
    "src/churn_radar/tracking.py",
    "src/churn_radar/visualization/__init__.py",
    "src/churn_radar/visualization/plots.py",
    "tests/conftest.py",
    "tests/test_cli.py",
    "tests/test_config.py",
    "tests/test_doctor.py",
    "tests/test_conda_import.py",
    "tests/test_example.py",
    "tests/test_manifest.py",
    "tests/test_model_store.py",
    "tests/test_monitoring.py",
    "tests/test_notebooks.py",
    "tests/test_package.py",
    "tests/test_tracking.py",
}


def files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def parse_all(root: Path) -> dict[str, object]:
    """Every TOML, YAML and JSON file of a project, parsed."""
    parsed: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        if ".venv" in path.parts or not path.is_file():
            continue
        name = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            parsed[name] = tomllib.loads(text)
        elif path.suffix in {".yml", ".yaml"}:
            parsed[name] = yaml.safe_load(text)
        elif path.suffix in {".json", ".ipynb"}:
            parsed[name] = json.loads(text)
    return parsed


def test_default_render_has_exactly_the_expected_files(render):
    assert files(render()) == EXPECTED_FILES


def test_no_jinja_survives_rendering(render):
    project = render()
    for name in sorted(files(project)):
        text = (project / name).read_text(encoding="utf-8")
        assert "{{" not in text.replace("${{", ""), name
        assert "{%" not in text and "{#" not in text, name
        assert ".jinja" not in name


def test_every_data_file_parses(render):
    parsed = parse_all(render())
    assert {"pyproject.toml", "config/base.yaml", ".copier-answers.yml"} <= set(parsed)


@pytest.mark.parametrize(
    "answers",
    [
        {},
        {"packages": ["jupyterlab"], "license": "GPL-3.0-or-later"},
        {"packages": [], "author_email": "", "python_version": "3.14"},
    ],
    ids=["defaults", "jupyterlab", "minimal"],
)
def test_generated_files_look_hand_written(render, answers):
    project = render(**answers)
    for name in sorted(files(project)):
        text = (project / name).read_text(encoding="utf-8")
        if not text:
            continue
        assert text.endswith("\n") and not text.endswith("\n\n"), name
        most_blank_lines = 2 if name.endswith(".py") else 1
        assert "\n" * (most_blank_lines + 2) not in text, name
        assert not any(line != line.rstrip() for line in text.splitlines()), name


@pytest.mark.parametrize(
    ("name", "slug", "package"),
    [
        ("Churn Radar", "churn-radar", "churn_radar"),
        ("churn-radar", "churn-radar", "churn_radar"),
        ("churn.radar", "churn-radar", "churn_radar"),
        ("ChurnRadar", "churnradar", "churnradar"),
        ("2churn", "2churn", "pkg_2churn"),
        ("Email", "email", "email_pkg"),
    ],
)
def test_names_derived_from_the_project_name(render, name, slug, package):
    project = render(project_name=name)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())

    assert (answers["project_slug"], answers["package_name"]) == (slug, package)
    assert (project / "src" / package / "__init__.py").is_file()


def test_answers_file_records_source_commit_and_every_answer(render):
    answers = yaml.safe_load((render() / ".copier-answers.yml").read_text())

    assert {"_src_path", "_commit"} <= set(answers)
    for question in (
        "project_name",
        "project_slug",
        "package_name",
        "description",
        "author_name",
        "author_email",
        "copyright_year",
        "license",
        "python_version",
        "env_manager",
        "packages",
    ):
        assert question in answers, question


HOSTILE = {
    "project_name": "Churn model: weekly retrain",
    "description": (
        "Flags \"at-risk\" accounts\tfor O'Brien's team 🚀\nSecond line: yes"
    ),
    "author_name": 'Zoë O\'Neil "zed" \t🙂',
}


def test_hostile_answers_round_trip_through_data_files(render):
    project = render(**HOSTILE)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    base = yaml.safe_load((project / "config/base.yaml").read_text())
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())

    assert base["project_name"] == HOSTILE["project_name"]
    assert pyproject["project"]["authors"][0]["name"] == HOSTILE["author_name"]
    assert pyproject["project"]["description"] == HOSTILE["description"].splitlines()[0]
    for key, value in HOSTILE.items():
        assert answers[key] == value, key
    assert HOSTILE["description"] in (project / "README.md").read_text()


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"package_name": "Churn-Radar"}, "'Churn-Radar' is not an importable"),
        ({"package_name": "class"}, "'class' is a Python keyword; try 'class_pkg'"),
        ({"package_name": "json"}, "'json' would shadow the standard-library"),
        ({"project_slug": "Churn Radar"}, "'Churn Radar' is not a valid distribution"),
        ({"author_email": "ada at example"}, "'ada at example' is not an e-mail"),
        ({"project_name": "🚀🚀"}, "needs at least one ASCII letter or digit"),
        ({"author_name": "Ada\nLovelace"}, "author name must be a single line"),
        ({"description": "bell\x07"}, "description contains a control"),
        ({"copyright_year": "last year"}, "'last year' is not a year"),
    ],
)
def test_bad_answers_are_refused_with_a_message_naming_them(render, answers, message):
    with pytest.raises(ValueError, match=message):
        render(**answers)


def test_near_standard_library_name_is_accepted(render):
    assert (render(package_name="email_pipeline") / "src/email_pipeline").is_dir()


@pytest.mark.parametrize("version", ["3.10", "3.12", "3.14"])
def test_python_version_agrees_everywhere(render, version):
    project = render(python_version=version)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    offered = ["3.10", "3.11", "3.12", "3.13", "3.14"]
    expected = offered[offered.index(version) :]

    assert pyproject["project"]["requires-python"] == f">={version}"
    classifiers = [
        c.rsplit(" ", 1)[1]
        for c in pyproject["project"]["classifiers"]
        if c.startswith("Programming Language :: Python :: 3.")
    ]
    assert classifiers == expected
    assert workflow["jobs"]["test"]["strategy"]["matrix"]["python-version"] == expected


def test_github_expressions_survive_literally(render):
    text = (render() / ".github/workflows/ci.yml").read_text()
    assert "${{ matrix.python-version }}" in text


@pytest.mark.parametrize(
    ("license_id", "phrase"),
    [
        ("MIT", "Permission is hereby granted"),
        ("Apache-2.0", "Apache License"),
        ("BSD-3-Clause", "Redistribution and use in source and binary forms"),
        ("GPL-3.0-or-later", "GNU GENERAL PUBLIC LICENSE"),
        ("Proprietary", "All rights reserved"),
    ],
)
def test_license_text_matches_the_choice(render, license_id, phrase):
    project = render(license=license_id)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())

    assert phrase in (project / "LICENSE").read_text()
    assert re.search(
        r"Copyright \(c\) 2026,? Ada O'Neil", (project / "LICENSE").read_text()
    )
    expected = "LicenseRef-Proprietary" if license_id == "Proprietary" else license_id
    assert pyproject["project"]["license"] == expected


def test_chosen_packages_become_dependencies_in_offered_order(render):
    project = render(packages=["polars", "matplotlib"])
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    assert dependencies == [
        "pyyaml>=6.0",
        "psutil>=5.9",
        "packaging>=23",
        "matplotlib>=3.8",
        "polars>=1.0",
    ]


def test_gitignore_hides_data_but_not_the_package_data_folder(render, tmp_path):
    import subprocess

    project = render()
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    (project / "data/raw/customers.csv").write_text("a,b\n1,2\n")
    (project / "models/model.pkl").write_bytes(b"\x80")

    def ignored(path: str) -> bool:
        result = subprocess.run(["git", "check-ignore", "-q", path], cwd=project)
        return result.returncode == 0

    assert ignored("data/raw/customers.csv")
    assert ignored("models/model.pkl")
    assert not ignored("data/raw/.gitkeep")
    assert not ignored("src/churn_radar/data/make_dataset.py")
    assert not ignored("requirements.lock")


def test_jupyterlab_brings_a_kernel_and_an_example_notebook(render, tmp_path):
    project = render(packages=["numpy", "jupyterlab"])
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    notebook = json.loads((project / "notebooks/01-example.ipynb").read_text())

    assert {"jupyterlab>=4.2", "ipykernel>=6.29"} <= set(
        pyproject["project"]["dependencies"]
    )
    assert notebook["metadata"]["kernelspec"]["name"] == "churn-radar"
    assert "from churn_radar.data.make_dataset import" in "".join(
        notebook["cells"][1]["source"]
    )
    assert all(not cell.get("outputs") for cell in notebook["cells"])
    without_lab = render(tmp_path / "without-lab", packages=["numpy"])
    assert not (without_lab / "notebooks/01-example.ipynb").exists()


@pytest.mark.parametrize(
    "package", ["churn_radar", "customer_lifetime_value_forecasting_v2"]
)
def test_generated_python_passes_its_own_lint_and_format_checks(render, package):
    project = render(package_name=package)

    for check in (["check"], ["format", "--check", "--diff"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *check, "."],
            cwd=project,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
