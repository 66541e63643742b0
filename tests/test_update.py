"""Living with the template: `copier update` across releases, and forks.

The replay tests build a throwaway git repository of the template with
several tagged releases, made from this working tree plus small scripted
changes, then copy a project from the oldest tag and update it tag by tag
the way a user would, with user edits in between.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from copier import run_copy, run_update

from conftest import ANSWERS, ROOT, TEMPLATE_PATHS, tomllib
from support.cached_env import cached_environment

GIT_IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@example.org"]
CONFLICT_MARKER = re.compile(r"^(<{7}|={7}|>{7})( |$)", re.MULTILINE)


def git(folder: Path, *arguments: str) -> str:
    result = subprocess.run(
        ["git", *GIT_IDENTITY, *arguments],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def release(template: Path, tag: str, change: Callable[[Path], None] | None = None):
    if change:
        change(template)
    git(template, "add", "-A")
    git(template, "commit", "-q", "--allow-empty", "-m", f"release {tag}")
    git(template, "tag", tag)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def v0_2_0(template: Path) -> None:
    """A template-owned file changes, a new file appears, a user-owned one changes."""
    with (template / "template/.gitignore").open("a") as handle:
        handle.write("\n# Spreadsheets exported by hand\n*.xlsx\n")
    (template / "template/CONTRIBUTING.md").write_text(
        "# Contributing\n\nRun the tests.\n"
    )
    with (template / "template/config/base.yaml.jinja").open("a") as handle:
        handle.write("\ncache_path: .cache\n")


def v0_3_0(template: Path) -> None:
    """A user-owned file moves; a migration carries projects along."""
    shutil.move(
        template / "template/config/production.yaml",
        template / "template/config/prod.yaml",
    )
    config = template / "copier.yml"
    edit(
        config,
        "  - config/production.yaml\n",
        "  - config/production.yaml\n  - config/prod.yaml\n",
    )
    edit(
        config,
        "_tasks:\n",
        (
            "_migrations:\n"
            "  - version: v0.3.0\n"
            "    when: \"{{ _stage == 'before' }}\"\n"
            "    command:\n"
            '      - "{{ _copier_python }}"\n'
            '      - "{{ _copier_conf.src_path }}/hooks/migrate.py"\n'
            "      - move\n"
            "      - config/production.yaml\n"
            "      - config/prod.yaml\n\n"
            "_tasks:\n"
        ),
    )


@pytest.fixture
def template_repo(tmp_path: Path) -> Path:
    template = tmp_path / "template-repo"
    template.mkdir()
    for name in TEMPLATE_PATHS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, template / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(source, template / name)
    git(template, "init", "-q", "-b", "main")
    release(template, "v0.1.0")
    release(template, "v0.2.0", v0_2_0)
    release(template, "v0.3.0", v0_3_0)
    return template


def fingerprint(paths: list[Path]) -> dict[str, tuple[int, str]]:
    """mtime and sha256 of each file: what an update must not touch."""
    return {
        str(path): (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in paths
    }


def commit_all(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", message)


def update(project: Path, tag: str, **data: object) -> None:
    run_update(
        project,
        vcs_ref=tag,
        data=data,
        defaults=True,
        overwrite=True,
        unsafe=True,
        quiet=True,
        conflict="inline",
    )


def leftovers(project: Path) -> list[str]:
    return [
        p.relative_to(project).as_posix()
        for p in project.rglob("*.rej")
        if ".venv" not in p.parts
    ]


@pytest.mark.slow
def test_updates_keep_user_edits_and_bring_template_changes(template_repo, tmp_path):
    project = tmp_path / "churn-radar"
    run_copy(
        str(template_repo),
        project,
        vcs_ref="v0.1.0",
        unsafe=True,
        defaults=True,
        data={**ANSWERS, "env_manager": "uv", "packages": []},
        quiet=True,
    )
    built = [
        project / ".venv/bin/python",
        project / ".venv/pyvenv.cfg",
        project / "requirements.lock",
        *sorted((project / "deployments").glob("manifest-*.json")),
    ]
    assert len(built) == 4, "the first copy bootstraps the project"
    before = fingerprint(built)
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "new project")

    base = project / "config/base.yaml"
    base.write_text(base.read_text() + "# tuned for the churn data\nmax_workers: 6\n")
    production = project / "config/production.yaml"
    production.write_text("log_level: WARNING\nmax_workers: 16\n")
    gitignore = project / ".gitignore"
    gitignore.write_text("scratch/\n" + gitignore.read_text())
    commit_all(project, "user edits")
    user_base = base.read_bytes()

    update(project, "v0.2.0")

    assert base.read_bytes() == user_base, "user-owned file stays byte-identical"
    assert "cache_path" not in base.read_text()
    assert (project / "CONTRIBUTING.md").read_text().startswith("# Contributing")
    merged = gitignore.read_text()
    assert merged.startswith("scratch/\n") and "*.xlsx" in merged
    assert leftovers(project) == []
    assert fingerprint(built) == before, "update never touches venv, lock, manifest"
    commit_all(project, "update to v0.2.0")

    update(project, "v0.3.0")

    assert not production.exists()
    assert (project / "config/prod.yaml").read_text() == (
        "log_level: WARNING\nmax_workers: 16\n"
    ), "the migration moved the user's file with its contents"
    assert base.read_bytes() == user_base
    for owned in ("config/base.yaml", "config/prod.yaml", "README.md"):
        text = (project / owned).read_text()
        assert not CONFLICT_MARKER.search(text), owned
    assert leftovers(project) == []
    assert fingerprint(built) == before
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.3.0"
    assert answers["_src_path"] == str(template_repo)


def committed_project(template_repo: Path, project: Path, ref: str) -> Path:
    """A project copied (without tasks) from release ``ref``, committed to git."""
    run_copy(
        str(template_repo),
        project,
        vcs_ref=ref,
        data=ANSWERS,
        defaults=True,
        unsafe=True,
        quiet=True,
        skip_tasks=True,
    )
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "new project")
    return project


def test_an_answer_changed_on_update_is_rendered(template_repo, tmp_path):
    project = committed_project(template_repo, tmp_path / "churn-radar", "v0.2.0")

    update(project, "v0.3.0", license="Apache-2.0")

    assert "Apache License" in (project / "LICENSE").read_text()
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "Apache-2.0"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["license"] == "Apache-2.0"


def test_a_downgrade_is_refused_and_changes_nothing(template_repo, tmp_path):
    project = committed_project(template_repo, tmp_path / "churn-radar", "v0.3.0")

    with pytest.raises(Exception, match="downgrad"):
        update(project, "v0.1.0")

    assert git(project, "status", "--porcelain") == ""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.3.0"


def test_migrate_refuses_paths_outside_the_project(tmp_path):
    sys.path.insert(0, str(ROOT / "hooks"))
    import migrate

    with pytest.raises(ValueError, match="not a path inside the project"):
        migrate.move(tmp_path, "../elsewhere.yaml", "config/x.yaml")
    (tmp_path / "a.yaml").write_text("a")
    (tmp_path / "b.yaml").write_text("b")
    assert migrate.move(tmp_path, "a.yaml", "b.yaml").startswith("warning: kept both")
    assert (tmp_path / "b.yaml").read_text() == "b"
    assert migrate.move(tmp_path, "gone.yaml", "x.yaml").startswith("nothing to move")


def test_a_fork_changes_defaults_by_editing_team_yml_alone(template_repo, tmp_path):
    team = yaml.safe_load((template_repo / "team.yml").read_text())
    team["team_organization"]["default"] = "Acme Data"
    team["team_license"]["default"] = "Apache-2.0"
    team["team_default_packages"]["default"] = ["polars"]
    team["team_extra_dependencies"]["default"] = ["acme-metrics>=2"]
    team["team_index_url"]["default"] = "https://pypi.acme.example/simple"
    team["team_ci_runner"]["default"] = "acme-linux-large"
    release(
        template_repo,
        "v0.4.0",
        lambda t: (t / "team.yml").write_text(yaml.safe_dump(team, sort_keys=False)),
    )
    changed = git(template_repo, "diff", "--name-only", "v0.3.0", "v0.4.0").split()
    assert changed == ["team.yml"]

    project = tmp_path / "acme-project"
    run_copy(
        str(template_repo),
        project,
        vcs_ref="v0.4.0",
        defaults=True,
        unsafe=True,
        quiet=True,
        skip_tasks=True,
        data={"project_name": "Acme Churn"},
    )

    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    assert pyproject["project"]["license"] == "Apache-2.0"
    assert pyproject["project"]["authors"] == [{"name": "Acme Data"}]
    assert pyproject["project"]["dependencies"][-2:] == [
        team["team_package_specs"]["default"]["polars"],
        "acme-metrics>=2",
    ]
    assert (
        pyproject["tool"]["uv"]["index"][0]["url"] == "https://pypi.acme.example/simple"
    )
    assert workflow["jobs"]["test"]["runs-on"] == "acme-linux-large"
    assert workflow["env"]["PIP_INDEX_URL"] == "https://pypi.acme.example/simple"
    assert "Acme Data" in (project / "LICENSE").read_text()

    clash = tmp_path / "acme-metrics"
    run_copy(
        str(template_repo),
        clash,
        vcs_ref="v0.4.0",
        defaults=True,
        unsafe=True,
        quiet=True,
        skip_tasks=True,
        data={"project_name": "Acme Metrics"},
    )
    answers = yaml.safe_load((clash / ".copier-answers.yml").read_text())
    assert answers["package_name"] == "acme_metrics_pkg", "a team extra is taken"
    assert answers["project_slug"] == "acme-metrics-project"


def cached_copier(version: str) -> Path:
    """copier ``version`` in a cached venv under ~/.cache/purepy."""
    venv = cached_environment(
        "copier",
        [f"copier=={version}"],
        Path(sys.executable),
        probe=f"from importlib.metadata import version; "
        f"assert version('copier') == {version!r}",
    )
    return venv / "bin" / "copier"


@pytest.mark.slow
def test_the_oldest_supported_copier_copies_and_updates(template_repo, tmp_path):
    settings = (ROOT / "copier.yml").read_text()
    oldest = re.search(r'^_min_copier_version: "(.+)"$', settings, re.MULTILINE)[1]
    copier = str(cached_copier(oldest))
    project = tmp_path / "churn-radar"

    subprocess.run(
        [
            copier,
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref",
            "v0.2.0",
            "--data",
            "project_name=Churn Radar",
            "--data",
            "env_manager=none",
            str(template_repo),
            str(project),
        ],
        check=True,
        capture_output=True,
    )
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "new project")
    subprocess.run(
        [copier, "update", "--trust", "--defaults", "--vcs-ref", "v0.3.0"],
        cwd=project,
        check=True,
        capture_output=True,
    )

    assert (project / "config/prod.yaml").is_file()
    assert not (project / "config/production.yaml").exists()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.3.0"
