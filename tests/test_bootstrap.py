"""The bootstrap's decisions, one function at a time, on fake machines."""

from __future__ import annotations

import ast
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import bootstrap
from bootstrap import Outcome, Python
from bootstrap import parse_version as parse
from conftest import ROOT

CURRENT = Python(sys.executable, sys.version_info[:2])
# The versions the template offers, as the task receives them (--supported).
OFFERED = ["3.10", "3.11", "3.12", "3.13", "3.14"]


def fake_python(folder: Path, name: str, version: str) -> Path:
    """An executable on PATH that claims to be Python ``version``."""
    major, minor = version.split(".")
    script = folder / name
    script.write_text(f"#!/bin/sh\necho {major} {minor}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


@pytest.fixture
def fake_path(tmp_path, monkeypatch):
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


@pytest.mark.parametrize(
    ("requested", "uv", "expected"),
    [
        ("auto", "/bin/uv", ("uv", "")),
        ("auto", None, ("pip", "uv not found: using venv + pip")),
        ("uv", "/bin/uv", ("uv", "")),
        (
            "uv",
            None,
            ("pip", "uv was requested but is not on PATH: using venv + pip instead"),
        ),
        ("pip", "/bin/uv", ("pip", "")),
        ("none", None, ("none", "")),
    ],
)
def test_choose_manager(requested, uv, expected):
    assert bootstrap.choose_manager(requested, uv) == expected


def test_candidates_per_os():
    assert bootstrap.candidates("3.12", "posix") == [["python3.12"]]
    assert bootstrap.candidates("3.12", "nt") == [["py", "-3.12"], ["python3.12"]]


def test_running_interpreter_is_used_when_it_matches(fake_path):
    found, note = bootstrap.find_python(CURRENT.minor, OFFERED, CURRENT)
    assert (found, note) == (CURRENT, "")


@pytest.mark.skipif(os.name == "nt", reason="fake interpreters are shell scripts")
def test_requested_python_is_found_on_path(fake_path):
    fake = fake_python(fake_path, "python3.13", "3.13")
    current = Python("/nowhere/python", (3, 11))

    found, note = bootstrap.find_python("3.13", OFFERED, current)

    assert found == Python(str(fake), (3, 13))
    assert note == ""


@pytest.mark.skipif(os.name == "nt", reason="fake interpreters are shell scripts")
def test_a_wrong_interpreter_under_the_right_name_is_never_used(fake_path):
    fake_python(fake_path, "python3.13", "3.9")
    fake_python(fake_path, "python", "2.7")
    current = Python("/nowhere/python", (3, 11))

    assert bootstrap.find_python("3.13", OFFERED, current) == (None, "")


@pytest.mark.skipif(os.name == "nt", reason="fake interpreters are shell scripts")
def test_oldest_newer_python_is_used_and_said(fake_path):
    fake_python(fake_path, "python3.14", "3.14")
    fake_python(fake_path, "python3.12", "3.12")
    current = Python("/nowhere/python", (3, 11))

    found, note = bootstrap.find_python("3.10", OFFERED, current)

    assert found is not None and found.minor == "3.11"
    found, note = bootstrap.find_python("3.12", OFFERED, Python("/x", (3, 10)))
    assert found is not None and found.minor == "3.12" and note == ""
    found, note = bootstrap.find_python("3.13", OFFERED, Python("/x", (3, 10)))
    assert found is not None and found.minor == "3.14"
    assert note.startswith("Python 3.13 not found: using Python 3.14 instead;")


def python_without_ensurepip(folder: Path, name: str, version: str) -> Path:
    """A Python ``version`` as Debian ships it without python3-venv: it
    answers, but cannot import ensurepip. Anything else run with it leaves
    a mark."""
    major, minor = version.split(".")
    script = folder / name
    script.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        f"  *version_info*) echo {major} {minor} ;;\n"
        '  *ensurepip*) echo "No module named ensurepip" >&2; exit 1 ;;\n'
        f'  *) touch "{script}.was-run"; exit 1 ;;\n'
        "esac\n"
    )
    script.chmod(0o755)
    return script


@pytest.mark.skipif(os.name == "nt", reason="fake interpreters are shell scripts")
def test_python_without_ensurepip_is_detected(tmp_path):
    crippled = python_without_ensurepip(tmp_path, "python3", CURRENT.minor)

    assert bootstrap.has_ensurepip(CURRENT)
    assert not bootstrap.has_ensurepip(Python(str(crippled), CURRENT.version))
    assert not bootstrap.has_ensurepip(Python(str(tmp_path / "missing"), (3, 12)))


@pytest.fixture
def project(render):
    """A rendered project, its package forgotten again after the test."""
    yield render()
    for name in [m for m in sys.modules if m.split(".")[0] == "churn_radar"]:
        del sys.modules[name]


def test_venv_interpreter_path_is_computed_per_os(project):
    """Windows venvs keep Python in Scripts\\python.exe, others in bin/python."""
    manifest = bootstrap.load_project_module(project, "churn_radar", "manifest")

    nt = manifest.venv_python(Path(".venv"), "nt")
    posix = manifest.venv_python(Path(".venv"), "posix")
    assert (nt.as_posix(), posix.as_posix()) == (
        ".venv/Scripts/python.exe",
        ".venv/bin/python",
    )


def test_task_scripts_never_rely_on_a_shell():
    """Tasks are argument lists run by copier's own interpreter, and the hook
    starts every process from a list, never through a shell."""
    tasks = yaml.safe_load((ROOT / "copier.yml").read_text().split("\n---")[0])
    for task in tasks["_tasks"]:
        assert isinstance(task["command"], list)
        assert task["command"][0] == "{{ _copier_python }}"

    for path in sorted((ROOT / "hooks").glob("*.py")):
        tree = ast.parse(path.read_text())
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
        names = {ast.unparse(call.func) for call in calls}
        assert not names & {"os.system", "os.popen", "subprocess.getoutput"}, path
        for call in calls:
            if ast.unparse(call.func).startswith("subprocess."):
                keywords = {k.arg: ast.unparse(k.value) for k in call.keywords}
                assert keywords.get("shell", "False") == "False", ast.unparse(call)
                assert not isinstance(call.args[0], ast.Constant), ast.unparse(call)


def test_venv_commands_never_use_a_shell_and_pass_the_index():
    python = Python("/opt/python3.12", (3, 12))
    venv, venv_python = Path(".venv"), Path(".venv/bin/python")

    create, install = bootstrap.venv_commands(
        "uv", python, venv, venv_python, "/bin/uv", "https://pypi.example/simple"
    )
    assert create[:4] == ["/bin/uv", "venv", "--python", "/opt/python3.12"]
    assert "--no-python-downloads" in create
    assert install[-3:] == ["-e", ".[dev]", "pip"]
    assert install[install.index("--index-url") + 1] == "https://pypi.example/simple"

    create, install = bootstrap.venv_commands("pip", python, venv, venv_python, None)
    assert create == ["/opt/python3.12", "-m", "venv", ".venv"]
    assert install[:4] == [".venv/bin/python", "-m", "pip", "install"]
    assert "--index-url" not in install


def test_summary_of_a_ready_project_shows_both_activations():
    outcome = Outcome("uv", python=Python("/p", (3, 12)))
    text = bootstrap.summary(outcome, Path("/work/churn-radar"), "churn_radar", "posix")

    assert "Python 3.12 in .venv (built with uv)" in text
    assert "source .venv/bin/activate" in text
    assert r".venv\Scripts\activate" in text
    assert ".venv/bin/python -m pytest" in text

    windows = bootstrap.summary(outcome, Path("/w/churn-radar"), "churn_radar", "nt")
    assert r".venv\Scripts\python -m pytest" in windows


def test_summary_of_a_failure_gives_the_commands_that_finish():
    outcome = Outcome("pip").fail(
        "not-installed", "installing the project failed", [["a", "b c"], ["d"]]
    )
    text = bootstrap.summary(outcome, Path("/w/churn-radar"), "churn_radar", "posix")

    assert "Bootstrap stopped: installing the project failed (the output" in text
    assert "Your files are all in churn-radar/" in text
    assert "  a 'b c'\n  d" in text


def test_passwords_in_urls_are_masked_wherever_a_command_is_printed():
    command = [
        "uv",
        "pip",
        "install",
        "--index-url",
        "https://alice:s3cret@pypi.example/simple",
        "-e",
        ".[dev]",
    ]

    for os_name in ("posix", "nt"):
        line = bootstrap.quote(command, os_name)
        assert "s3cret" not in line
        assert "https://alice:***@pypi.example/simple" in line


def test_an_existing_venv_is_left_alone_and_the_summary_says_how_to_finish(tmp_path):
    outcome = Outcome("pip")
    outcome.status = "kept"
    outcome.finish = [[".venv/bin/python", "-m", "pip", "install", "-e", ".[dev]"]]
    text = bootstrap.summary(outcome, tmp_path / "p", "p", "posix")

    assert "p/.venv already existed and was left untouched." in text
    assert "  .venv/bin/python -m pip install -e '.[dev]'" in text


def test_summary_on_windows_quotes_commands_for_windows():
    outcome = Outcome("pip").fail(
        "no-python", "no Python", [[r".venv\Scripts\python.exe", "-m", "pip", "a b"]]
    )
    text = bootstrap.summary(outcome, Path("/w/churn-radar"), "churn_radar", "nt")

    assert r'  .venv\Scripts\python.exe -m pip "a b"' in text
    assert "'" not in text


@pytest.mark.skipif(os.name == "nt", reason="fake interpreters are shell scripts")
def test_without_ensurepip_nothing_is_installed_and_the_remedy_is_one_line(
    project, fake_path
):
    """Debian without python3.X-venv: found before any venv is made."""
    other = next(v for v in OFFERED if v != CURRENT.minor)
    crippled = python_without_ensurepip(fake_path, f"python{other}", other)

    outcome = bootstrap.bootstrap(project, "pip", other, "churn_radar", OFFERED)
    text = bootstrap.summary(outcome, project, "churn_radar", "posix")

    assert outcome.status == "no-ensurepip"
    assert not (project / ".venv").exists()
    assert not Path(f"{crippled}.was-run").exists()
    remedy = f"sudo apt install python{other}-venv"
    assert any(
        remedy in line and "Bootstrap stopped" in line for line in text.split("\n")
    )


@pytest.mark.skipif(os.name == "nt", reason="fake interpreters are shell scripts")
def test_the_summary_says_which_python_was_used_instead_of_the_requested_one(
    project, fake_path
):
    newest = OFFERED[-1]
    between = [v for v in OFFERED[:-1] if parse(v) > CURRENT.version]
    if not between:
        pytest.skip("needs a Python older than the newest offered but one")
    python_without_ensurepip(fake_path, f"python{newest}", newest)

    outcome = bootstrap.bootstrap(project, "pip", between[0], "churn_radar", OFFERED)
    text = bootstrap.summary(outcome, project, "churn_radar", "posix")

    assert outcome.python is not None and outcome.python.minor == newest
    assert f"Python {between[0]} not found: using Python {newest} instead" in text


def test_render_only_copy_survives_a_manifest_that_cannot_be_written(project):
    (project / "deployments/.gitkeep").unlink()
    (project / "deployments").rmdir()
    (project / "deployments").write_text("a file where the folder should be\n")

    outcome = bootstrap.bootstrap(project, "none", "3.12", "churn_radar", OFFERED)

    assert outcome.status == "skipped"
    assert any("could not be written" in note for note in outcome.notes)
    assert outcome.finish


def test_an_unexpected_failure_still_exits_0_so_copier_keeps_the_project(
    project, monkeypatch, capsys
):
    """A crash would make copier delete the new project: report it instead."""
    (project / "src/churn_radar/manifest.py").write_text("raise RuntimeError('bug')\n")
    monkeypatch.chdir(project)

    code = bootstrap.main(["--python", "3.12", "--package", "churn_radar"])

    assert code == 0
    printed = capsys.readouterr().out
    assert "Bootstrap failed: RuntimeError: bug" in printed
    assert "Your files are all in churn-radar/" not in printed
    assert (project / "pyproject.toml").is_file()


@pytest.mark.parametrize(
    "argv",
    [
        ["--python", "3.12; rm -rf /", "--package", "x"],
        ["--python", "3.12", "--package", "x; touch pwned"],
        ["--python", "3.12", "--package", "x", "--env-manager", "conda"],
    ],
)
def test_bad_arguments_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as raised:
        bootstrap.parse_args(argv)
    assert raised.value.code == 2


@pytest.mark.slow
def test_team_index_is_pinned_for_later_pip_installs(tmp_path):
    venv = tmp_path / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bootstrap.pin_index(venv, "http://127.0.0.1:9/simple")

    # The tests disable pip configuration files; pip in the venv must read its own.
    environment = {k: v for k, v in os.environ.items() if k != "PIP_CONFIG_FILE"}
    listed = subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    assert "index-url='http://127.0.0.1:9/simple'" in listed.stdout
