"""Creating a project from a conda environment file, as copier does it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

import import_conda
from conftest import TEAM, tomllib
from test_conda_import import FIXTURES, ci

OFFERED = TEAM["team_python_versions"]
# What every project depends on before any data library: the toolkit's
# requirements, then the team's extras.
TOOLKIT_REQUIREMENTS = [
    "pyyaml>=6.0",
    "psutil>=5.9",
    "packaging>=23",
    *TEAM["team_extra_dependencies"],
]
EXPORT = FIXTURES / "export-data-science.yml"


def dependencies(project: Path) -> list[str]:
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    return pyproject["project"]["dependencies"]


def answers(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


def offered_for(minor: str) -> str:
    """The python_version a file asking for ``minor`` should give."""
    wanted = tuple(int(part) for part in minor.split("."))
    newer = [v for v in OFFERED if tuple(int(p) for p in v.split(".")) >= wanted]
    return (newer or OFFERED[-1:])[0]


# ------------------------------------------------------------ questions


def test_render_takes_python_from_the_file_and_skips_packages(render):
    project = render(conda_environment=str(FIXTURES / "export-windows.yml"))
    recorded = answers(project)

    assert recorded["python_version"] == "3.12"
    assert "packages" not in recorded
    assert recorded["conda_environment"] == "", "read once, never on update"
    assert dependencies(project) == TOOLKIT_REQUIREMENTS
    assert not (project / "MIGRATION.md").exists(), "written by the task"


def test_an_explicit_python_version_wins_over_the_file(render):
    project = render(
        conda_environment=str(FIXTURES / "export-windows.yml"), python_version="3.13"
    )
    assert answers(project)["python_version"] == "3.13"


@pytest.mark.parametrize(
    "fixture", sorted(FIXTURES.glob("*.yml")), ids=lambda p: p.name
)
def test_python_version_default_agrees_with_the_conversion(render, fixture):
    project = render(conda_environment=str(fixture))
    minor = ci.convert_file(fixture).python

    assert answers(project)["python_version"] == offered_for(minor)


@pytest.mark.parametrize(
    ("python", "expected"),
    [
        ("python=3.8", OFFERED[0]),
        ("python=3.12.1=h1a2b3c4_0", "3.12"),
        ("python >=3.11,<3.13", "3.11"),
        ("conda-forge::python==3.13.0", "3.13"),
        ("python=3.16", OFFERED[-1]),
    ],
)
def test_python_versions_map_to_the_offered_ones(render, tmp_path, python, expected):
    environment = tmp_path / "environment.yml"
    environment.write_text(f"dependencies:\n  - {python}\n  - numpy\n")

    project = render(conda_environment=str(environment))

    assert answers(project)["python_version"] == expected
    assert ci.python_minor(ci.parse_match_spec(python).version) != ""


def test_a_file_without_python_keeps_the_usual_default(render, tmp_path):
    environment = tmp_path / "environment.yml"
    environment.write_text("dependencies:\n  - numpy\n")

    with_file = render(tmp_path / "a", conda_environment=str(environment))
    without = render(tmp_path / "b")

    assert answers(with_file)["python_version"] == answers(without)["python_version"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("environment.yml", None, "'environment.yml' is a relative path"),
        ("/abs/environment.txt", None, "is not a .yml or .yaml file"),
        ("missing.yml", None, "missing.yml does not exist"),
        (
            "broken.yml",
            b"name: x\ndependencies:\n  - numpy\n - bad: [\n",
            r'broken.yml", line 4',
        ),
        ("empty.yml", b"", "empty.yml is empty"),
        ("list.yml", b"- numpy\n", "list.yml is not a conda environment file"),
        ("nodeps.yml", b"name: x\n", "nodeps.yml is not a conda environment file"),
        ("binary.yml", b"name: x\n\x80\x81", r'binary.yml", position 8'),
    ],
)
@pytest.mark.filterwarnings("ignore:File not found")  # copier's note on missing.yml
def test_bad_environment_files_are_refused_at_question_time(
    render, tmp_path, name, content, message
):
    path = name if name.startswith(("environment", "/abs")) else str(tmp_path / name)
    if content is not None:
        Path(path).write_bytes(content)

    with pytest.raises(ValueError, match=message) as raised:
        render(conda_environment=path)
    assert "conda_environment" in str(raised.value)


def test_without_trust_copier_refuses_to_read_outside_the_project(
    copier_template, tmp_path
):
    from copier import run_copy

    from conftest import ANSWERS

    with pytest.raises(ValueError, match="--trust"):
        run_copy(
            str(copier_template),
            tmp_path / "project",
            data={**ANSWERS, "conda_environment": str(EXPORT)},
            defaults=True,
            skip_tasks=True,
            quiet=True,
        )


# ------------------------------------------------------------ the copy task


def test_copy_with_tasks_imports_the_environment(copier, tmp_path, capfd, render):
    project = copier.copy(
        tmp_path / "churn-radar", env_manager="none", conda_environment=str(EXPORT)
    ).path
    printed = capfd.readouterr().out
    conversion = ci.convert_file(EXPORT)

    expected = ci.merge_requirements(TOOLKIT_REQUIREMENTS, conversion.requirements)
    assert dependencies(project) == expected.dependencies
    assert "Imported export-data-science.yml:" in printed
    assert printed.index("Imported") < printed.index("No virtual environment")

    migration = (project / "MIGRATION.md").read_text()
    for entry in conversion.entries:
        assert entry.text.replace("|", "\\|") in migration, entry.text
    assert "pyyaml>=6.0" in migration and "pyyaml==6.0.1" in migration
    assert migration.endswith("\n") and not migration.endswith("\n\n")
    assert "\n\n\n" not in migration
    assert not any(line != line.rstrip() for line in migration.splitlines())

    plain = (render(tmp_path / "plain", conda_environment=str(EXPORT))).joinpath(
        "pyproject.toml"
    )
    assert _without_dependencies(project / "pyproject.toml") == _without_dependencies(
        plain
    ), "only the dependencies array changes"


def _without_dependencies(path: Path) -> str:
    text = path.read_text()
    start = text.index("dependencies = [\n")
    return text[:start] + text[text.index("]\n", start) :]


def test_the_task_changes_nothing_when_the_file_went_bad(
    render, tmp_path, capsys, monkeypatch
):
    project = render()
    before = (project / "pyproject.toml").read_text()
    broken = tmp_path / "environment.yml"
    broken.write_text("dependencies:\n  - numpy\n - x: [\n")

    monkeypatch.chdir(project)
    code = import_conda.main(["--package", "churn_radar", "--environment", str(broken)])

    printed = capsys.readouterr().out
    assert code == 0, "copier deletes a new project whose task fails"
    assert (
        "Conda import skipped:" in printed
        and "environment.yml:3: invalid YAML" in printed
    )
    assert "-m churn_radar import-conda" in printed
    assert (project / "pyproject.toml").read_text() == before
    assert not (project / "MIGRATION.md").exists()


def test_the_task_refuses_a_pyproject_it_did_not_render(render, capsys, monkeypatch):
    project = render()
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("dependencies = [", "deps = ["))
    before = pyproject.read_text()

    monkeypatch.chdir(project)
    import_conda.main(["--package", "churn_radar", "--environment", str(EXPORT)])

    assert "no dependencies array" in capsys.readouterr().out
    assert pyproject.read_text() == before


def test_rendered_dependencies_round_trip():
    text = 'x = 1\ndependencies = [\n  "a>=1",\n  "b @ https://x/y.whl",\n]\n'
    assert import_conda.read_dependencies(text) == ["a>=1", "b @ https://x/y.whl"]
    rewritten = import_conda.write_dependencies(text, ["c==1.*", 'd; os_name == "nt"'])
    assert tomllib.loads(rewritten)["dependencies"] == ["c==1.*", 'd; os_name == "nt"']
    assert rewritten.startswith("x = 1\n")


def test_update_never_looks_for_the_environment_file_again(copier, tmp_path):
    environment = tmp_path / "environment.yml"
    environment.write_text(EXPORT.read_text())
    project = copier.copy(
        tmp_path / "churn-radar",
        env_manager="none",
        conda_environment=str(environment),
    ).path
    imported = dependencies(project)
    _commit_all(project)
    environment.unlink()

    copier.update(project, env_manager="none")

    assert dependencies(project) == imported
    assert answers(project)["conda_environment"] == ""


def _commit_all(project: Path) -> None:
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "commit", "-qm", "Created from the template"],
    ):
        subprocess.run(command, cwd=project, check=True)


# ------------------------------------------------------------ for real


@pytest.mark.slow
def test_a_project_from_an_exported_environment_bootstraps_and_passes(copier, tmp_path):
    project = copier.copy(
        tmp_path / "churn-radar",
        env_manager="uv",
        conda_environment=str(FIXTURES / "bootstrap-small.yml"),
    ).path
    python = project / ".venv/bin/python"

    version = subprocess.run(
        [str(python), "-c", "import sys; print(*sys.version_info[:2], sep='.')"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "3.11"
    locked = (project / "requirements.lock").read_text().lower().splitlines()
    for pin in ("msgpack==1.0.7", "graphviz==0.20.1", "pyyaml==6.0.1", "tomli==2.0.1"):
        assert pin in locked, pin
    tests = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "## bootstrap-small.yml" in (project / "MIGRATION.md").read_text()
