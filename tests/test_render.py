"""What a render produces, before any task runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, TEAM, render_project, tomllib
from helpers import files, parse_all, walk

OFFERED = yaml.safe_load((ROOT / "team.yml").read_text())["team_python_versions"][
    "default"
]
EXPRESSION = re.compile(r"\$\{\{.*?\}\}")

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
        {"packages": [], "author_email": "", "python_version": OFFERED[-1]},
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


def test_answers_file_records_source_commit_and_every_answer(render, copier):
    """``copier update`` needs the source, the commit and every answer."""
    project = render()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    asked = [
        name
        for name, spec in copier.worker().template.questions_data.items()
        if spec.get("when", True) is not False
    ]

    assert {"_src_path", "_commit"} <= set(answers)
    assert asked and set(asked) <= set(answers)
    assert "`.copier-answers.yml`" in (project / "README.md").read_text()


@pytest.mark.parametrize("version", OFFERED)
def test_python_versions_come_from_one_list_and_stay_strings(render, version):
    """requires-python, classifiers, CI matrix, ruff target and the locked CI
    job agree for every offered version, and "3.10" never becomes 3.1."""
    project = render(python_version=version)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    expected = OFFERED[OFFERED.index(version) :]

    assert pyproject["project"]["requires-python"] == f">={version}"
    classifiers = [
        c.rsplit(" ", 1)[1]
        for c in pyproject["project"]["classifiers"]
        if c.startswith("Programming Language :: Python :: 3.")
    ]
    assert classifiers == expected
    assert workflow["jobs"]["test"]["strategy"]["matrix"]["python-version"] == expected
    setup = [
        step["with"]["python-version"]
        for step in workflow["jobs"]["locked"]["steps"]
        if "setup-python" in step.get("uses", "")
    ]
    assert setup == [version]
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + version.replace(
        ".", ""
    )

    numbers = [float(v) for v in OFFERED]
    for name, data in parse_all(project).items():
        floats = [x for x in walk(data) if isinstance(x, float)]
        assert not set(floats) & set(numbers), f"{name}: a version became a number"


def test_github_expressions_survive_rendering_literally(render):
    """Every ${{ ... }} written in a template workflow comes out unchanged."""
    project = render()
    sources = sorted((ROOT / "template/.github/workflows").glob("*"))
    assert sources

    for source in sources:
        written = EXPRESSION.findall(source.read_text())
        rendered = project / ".github/workflows" / source.name.removesuffix(".jinja")
        assert written and sorted(EXPRESSION.findall(rendered.read_text())) == sorted(
            written
        ), source.name
    assert "${{ matrix.python-version }}" in rendered.read_text()


def test_questions_skipped_by_when_get_values_of_their_declared_type(copier):
    """A skipped question hands the templates a typed value: a skipped
    boolean is False (never the truthy string "False"), a list is a list."""
    questions = copier.worker().template.questions_data
    context = copier.context()
    kinds = {"str": str, "bool": bool, "int": int, "float": float}
    skipped = [name for name, spec in questions.items() if spec.get("when") is False]

    assert skipped
    for name in skipped:
        kind = questions[name].get("type", "str")
        value = context[name]
        if kind in kinds:
            assert type(value) is kinds[kind], name
        else:
            assert not isinstance(value, str), name


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
    specs = TEAM["team_package_specs"]
    assert dependencies[3:5] == [specs["matplotlib"], specs["polars"]]
    assert dependencies[:3] == ["pyyaml>=6.0", "psutil>=5.9", "packaging>=23"]


def git(*arguments: str, cwd: Path) -> str:
    """Run git with a fixed identity and no user or system configuration."""
    result = subprocess.run(
        [
            "git",
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.org",
            *arguments,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_SYSTEM": os.devnull,
        },
    )
    return result.stdout


OUTPUTS = [
    "data/raw/customers.csv",
    "data/processed/features.parquet",
    "models/model.pkl",
    "models/trained/model.joblib",
    "reports/figures/churn.png",
    "deployments/manifest-20260101T000000Z-abc.json",
    "experiments/runs.sqlite",
    "logs/metrics.jsonl",
]


def test_skeleton_folders_survive_a_clone_while_data_and_models_stay_out(
    render, tmp_path
):
    """After git add -A, commit and clone, the data/ and models/ folders are
    there, the data, model and output files are not, and the package's own
    data/ subpackage is."""
    project = render()
    for name in OUTPUTS:
        (project / name).write_bytes(b"not for git\n")
    git("init", "-q", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "Start", cwd=project)
    git("clone", "-q", str(project), str(tmp_path / "clone"), cwd=tmp_path)
    clone = tmp_path / "clone"

    skeleton = {
        Path(name).parent for name in files(project) if name.endswith(".gitkeep")
    }
    assert {Path("data/raw"), Path("models/trained")} <= skeleton
    for folder in sorted(skeleton):
        assert (clone / folder).is_dir(), folder
    for name in OUTPUTS:
        assert not (clone / name).exists(), name
    assert (clone / "src/churn_radar/data/make_dataset.py").is_file()


def line_ending_bound(name: str, text: bytes) -> bool:
    """Shell scripts and Makefiles break on CRLF endings."""
    base = name.rsplit("/", 1)[-1].removesuffix(".jinja")
    return base == "Makefile" or base.endswith(".sh") or text.startswith(b"#!")


def test_scripts_and_makefiles_keep_lf_endings_in_the_template_and_the_project(
    render,
):
    """Shell scripts and Makefiles have LF endings, and .gitattributes keeps
    them LF on every checkout, in this repository and in a generated project."""
    project = render()
    git("init", "-q", cwd=project)
    tracked = git("ls-files", cwd=ROOT).splitlines()

    for root, names in ((ROOT, tracked), (project, sorted(files(project)))):
        bound = [n for n in names if line_ending_bound(n, (root / n).read_bytes())]
        assert any(n.endswith("Makefile") for n in bound), root
        for name in bound:
            assert b"\r" not in (root / name).read_bytes(), name
            attributes = git("check-attr", "text", "eol", "--", name, cwd=root)
            assert f"{name}: eol: lf" in attributes, attributes
            assert f"{name}: text: unset" not in attributes, attributes


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


def test_litter_in_the_template_source_never_reaches_a_project(
    copier_template, tmp_path
):
    """Bytecode and editor files left in template/ by running its code are
    not rendered: with _subdirectory copier excludes nothing by default."""
    source = tmp_path / "template-copy"
    shutil.copytree(copier_template, source, ignore=shutil.ignore_patterns(".git"))
    package = source / "template/src/{{package_name}}"
    (package / "__pycache__").mkdir()
    (package / "__pycache__/manifest.cpython-311.pyc").write_bytes(b"\x00")
    (package / "stray.pyc").write_bytes(b"\x00")
    (source / "template/.DS_Store").write_bytes(b"\x00")

    project = render_project(source, tmp_path / "project")

    litter = [
        n for n in files(project) if "pycache" in n or n.endswith((".pyc", "Store"))
    ]
    assert litter == []


def test_pre_commit_and_the_dev_extra_pin_the_same_ruff(render):
    """A hook older or newer than the project's ruff flags code CI accepts."""
    project = render()
    hooks = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    dev = tomllib.loads((project / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["dev"]

    (ruff_hook,) = [r for r in hooks["repos"] if r["repo"].endswith("ruff-pre-commit")]
    (ruff_pin,) = [r for r in dev if r.startswith("ruff")]
    assert ruff_pin == f"ruff=={ruff_hook['rev'].removeprefix('v')}"
