"""The bootstrap's decisions, one function at a time, on fake machines."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import bootstrap
import pytest
from bootstrap import Outcome, Python

CURRENT = Python(sys.executable, sys.version_info[:2])
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
    assert note == "Python 3.13 not found: using Python 3.14 instead"


@pytest.mark.skipif(os.name == "nt", reason="fake interpreters are shell scripts")
def test_python_without_ensurepip_is_detected(tmp_path):
    crippled = tmp_path / "python3"
    crippled.write_text(
        "#!/bin/sh\n"
        'case "$*" in *ensurepip*) echo "No module named ensurepip" >&2; exit 1;; esac\n'
        f'exec "{sys.executable}" "$@"\n'
    )
    crippled.chmod(0o755)

    assert bootstrap.has_ensurepip(CURRENT)
    assert not bootstrap.has_ensurepip(Python(str(crippled), CURRENT.version))


def test_venv_commands_never_use_a_shell_and_pass_the_index():
    python = Python("/opt/python3.12", (3, 12))
    venv, venv_python = Path(".venv"), Path(".venv/bin/python")

    create, install = bootstrap.venv_commands(
        "uv", python, venv, venv_python, "/bin/uv", "https://pypi.example/simple"
    )
    assert create[:4] == ["/bin/uv", "venv", "--python", "/opt/python3.12"]
    assert "--no-python-downloads" in create
    assert install[-2:] == ["-e", ".[dev]"]
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

    assert "Bootstrap stopped: installing the project failed." in text
    assert "Your files are all in churn-radar/" in text
    assert "  a 'b c'\n  d" in text


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
