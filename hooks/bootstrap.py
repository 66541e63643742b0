"""Bootstrap a freshly copied project: venv, install, lock, manifest.

Copier runs this once, after the first copy, with its own interpreter and
the new project as working directory. Every decision lives in a small
function below; ``main`` wires them together and prints a summary.

The script exits 0 even when a step fails. Copier deletes a new project
when a task fails, and a failed install must never cost anyone their files:
instead the summary says what failed and the command that finishes the job.
Only a broken invocation (bad arguments) exits non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

MANAGERS = ("auto", "uv", "pip", "none")


@dataclass
class Python:
    """An interpreter found on this machine."""

    path: str
    version: tuple[int, int]

    @property
    def minor(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


@dataclass
class Outcome:
    """What the bootstrap did, for the summary and the manifest."""

    manager: str
    python: Python | None = None
    status: str = "ready"
    notes: list[str] = field(default_factory=list)
    failure: str = ""
    finish: list[list[str]] = field(default_factory=list)

    def fail(self, status: str, failure: str, finish: list[list[str]]) -> Outcome:
        self.status, self.failure, self.finish = status, failure, finish
        return self


def parse_version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def load_project_module(root: Path, package: str, module: str) -> ModuleType:
    """Import ``<package>.<module>`` from the project's own ``src/`` folder.

    The toolkit modules the tasks use need only the standard library (and
    PyYAML, which copier brings), so this works with copier's interpreter
    before anything is installed. No bytecode is written: copier's Python
    may not be the project's.
    """
    sys.dont_write_bytecode = True
    source = str(root / "src")
    sys.path.insert(0, source)
    try:
        return importlib.import_module(f"{package}.{module}")
    finally:
        sys.path.remove(source)


def find_uv() -> str | None:
    """The uv executable on PATH, or the one installed beside copier."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin
    except ImportError:
        return None
    try:
        return find_uv_bin()
    except FileNotFoundError:
        return None


def choose_manager(requested: str, uv: str | None) -> tuple[str, str]:
    """The manager to use for ``requested``, and a note when it had to change."""
    if requested == "auto":
        return ("uv", "") if uv else ("pip", "uv not found: using venv + pip")
    if requested == "uv" and not uv:
        return "pip", "uv was requested but is not on PATH: using venv + pip instead"
    return requested, ""


def interpreter_version(executable: str) -> tuple[int, int] | None:
    """(major, minor) of ``executable``, or None when it does not run as Python."""
    try:
        result = subprocess.run(
            [executable, "-I", "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = result.stdout.split()
    if result.returncode != 0 or len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def candidates(minor: str, os_name: str = os.name) -> list[list[str]]:
    """Commands that may start Python ``minor`` on this OS, most specific first."""
    if os_name == "nt":
        return [["py", f"-{minor}"], [f"python{minor}"]]
    return [[f"python{minor}"]]


def locate(minor: str, current: Python, os_name: str = os.name) -> Python | None:
    """An interpreter of version ``minor``: the running one when it matches,
    else the first matching candidate on PATH."""
    if current.minor == minor:
        return current

    for command in candidates(minor, os_name):
        executable = shutil.which(command[0])
        if executable is None:
            continue
        if len(command) > 1:  # the Windows launcher: ask it for the real path
            executable = _launcher_target(executable, command[1:])
            if executable is None:
                continue
        version = interpreter_version(executable)
        if version is not None and f"{version[0]}.{version[1]}" == minor:
            return Python(executable, version)
    return None


def _launcher_target(launcher: str, arguments: list[str]) -> str | None:
    try:
        result = subprocess.run(
            [launcher, *arguments, "-c", "import sys; print(sys.executable)"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def find_python(
    requested: str, supported: Sequence[str], current: Python, os_name: str = os.name
) -> tuple[Python | None, str]:
    """The requested Python, else the oldest installed one that satisfies
    ``>=requested``; with a note saying which was used and why."""
    found = locate(requested, current, os_name)
    if found:
        return found, ""

    newer = [v for v in supported if parse_version(v) > parse_version(requested)]
    for minor in newer:
        found = locate(minor, current, os_name)
        if found:
            return found, (
                f"Python {requested} not found: using Python {minor} instead; the "
                f"lock then pins packages for {minor}, while CI's locked job runs "
                f"{requested}: rebuild .venv on {requested} before relying on it"
            )
    return None, ""


def has_ensurepip(python: Python) -> bool:
    """True when ``python -m venv`` can seed pip (Debian needs python3-venv)."""
    try:
        result = subprocess.run(
            [python.path, "-I", "-c", "import ensurepip, venv"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def venv_commands(
    manager: str,
    python: Python,
    venv: Path,
    venv_python: Path,
    uv: str | None,
    index_url: str = "",
) -> list[list[str]]:
    """Create ``venv`` and install the project (editable, with dev extras)."""
    index = ["--index-url", index_url] if index_url else []
    if manager == "uv":
        assert uv is not None
        return [
            [uv, "venv", "--python", python.path, "--no-python-downloads", str(venv)],
            [
                uv,
                "pip",
                "install",
                "--python",
                str(venv_python),
                "--compile-bytecode",
                *index,
                "-e",
                ".[dev]",
                # pip too, so `python -m pip` and an activated `pip install`
                # work in .venv without uv on PATH.
                "pip",
            ],
        ]
    return [
        [python.path, "-m", "venv", str(venv)],
        [
            str(venv_python),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            *index,
            "-e",
            ".[dev]",
        ],
    ]


def kernel_command(venv_python: Path, kernel: str) -> list[str]:
    """Register ``venv_python`` as the Jupyter kernel ``kernel`` for this user."""
    return [
        str(venv_python),
        "-m",
        "ipykernel",
        "install",
        "--user",
        "--name",
        kernel,
        "--display-name",
        f"{kernel} (.venv)",
    ]


def register_kernel(venv_python: Path, kernel: str) -> str:
    """Register the kernel; a note saying how to remove it, or how to retry."""
    relative_python = Path(".venv") / venv_python.relative_to(venv_python.parents[1])
    if run(kernel_command(venv_python, kernel)) == 0:
        jupyter = relative_python.with_name("jupyter")
        return (
            f"Jupyter kernel '{kernel}' registered; remove it with: "
            f"{quote([str(jupyter), 'kernelspec', 'uninstall', kernel])}"
        )
    retry = kernel_command(relative_python, kernel)
    return f"Jupyter kernel not registered; to retry: {quote(retry)}"


def pin_index(venv: Path, index_url: str) -> Path:
    """Make every later ``pip install`` in ``venv`` use ``index_url``.

    pip reads ``<venv>/pip.conf`` as the environment's own configuration.
    """
    config = venv / ("pip.ini" if os.name == "nt" else "pip.conf")
    config.write_text(f"[global]\nindex-url = {index_url}\n", encoding="utf-8")
    return config


# user:password@ in a URL: shown as user:***@ wherever a command is printed.
CREDENTIALS = re.compile(r"(://[^/@:\s]+:)[^/@\s]+@")


def quote(command: Sequence[str], os_name: str = os.name) -> str:
    """``command`` as one line to paste into the shell of the OS, with any
    password in a URL masked."""
    if os_name == "nt":
        line = subprocess.list2cmdline(command)
    else:
        line = " ".join(shlex.quote(part) for part in command)
    return CREDENTIALS.sub(r"\1***@", line)


def run(command: Sequence[str]) -> int:
    """Run ``command`` with its output shown live; its exit code."""
    print(f"--> {quote(command)}", flush=True)
    try:
        return subprocess.run(command, check=False).returncode
    except OSError as error:
        print(f"    could not start: {error}", flush=True)
        return 127


def bootstrap(
    root: Path,
    requested_manager: str,
    requested_python: str,
    package: str,
    supported: Sequence[str],
    index_url: str = "",
    kernel: str = "",
) -> Outcome:
    """Build ``root/.venv``, install, lock and write the manifest."""
    manifest = load_project_module(root, package, "manifest")
    venv = root / manifest.VENV_DIR
    relative_venv = Path(manifest.VENV_DIR)
    relative_python = manifest.venv_python(relative_venv)
    lock_cmd = [str(relative_python), "-m", package, "lock"]
    manifest_cmd = [str(relative_python), "-m", package, "manifest"]

    uv = find_uv()
    manager, note = choose_manager(requested_manager, uv)
    outcome = Outcome(manager)
    if note:
        outcome.notes.append(note)

    if manager == "none":
        outcome.status = "skipped"
        outcome.notes.append("env_manager is 'none': no virtual environment was built")
        current_python = Python(sys.executable, sys.version_info[:2])
        outcome.finish = [
            *venv_commands(
                "uv" if uv else "pip",
                current_python,
                relative_venv,
                relative_python,
                uv or "uv",
                index_url,
            ),
            lock_cmd,
            manifest_cmd,
        ]
        return _record(manifest, root, outcome)

    if venv.exists():
        outcome.status = "kept"
        current = Python(sys.executable, sys.version_info[:2])
        install = venv_commands(
            manager, current, relative_venv, relative_python, uv, index_url
        )[1]
        outcome.finish = [install, lock_cmd, manifest_cmd]
        return outcome

    lock_existed = (root / manifest.LOCK_FILE).exists()
    current = Python(sys.executable, sys.version_info[:2])
    python, note = find_python(requested_python, supported, current)
    if note:
        outcome.notes.append(note)
    if python is None:
        wanted = Python(f"python{requested_python}", parse_version(requested_python))
        return _record(
            manifest,
            root,
            outcome.fail(
                "no-python",
                f"no Python {requested_python} or newer was found as "
                f"python{requested_python} on PATH; install it (or, if pyenv or "
                "another manager has it, make it reachable), then finish with the "
                "commands below",
                [
                    *venv_commands(
                        manager, wanted, relative_venv, relative_python, uv, index_url
                    ),
                    lock_cmd,
                    manifest_cmd,
                ],
            ),
        )
    outcome.python = python

    if manager == "pip" and not has_ensurepip(python):
        return _record(
            manifest,
            root,
            outcome.fail(
                "no-ensurepip",
                f"{python.path} cannot create a venv with pip (no ensurepip; on "
                f"Debian or Ubuntu: sudo apt install python{python.minor}-venv)",
                [
                    *venv_commands(
                        manager, python, relative_venv, relative_python, uv, index_url
                    ),
                    lock_cmd,
                    manifest_cmd,
                ],
            ),
        )

    create, install = venv_commands(
        manager, python, venv, manifest.venv_python(venv), uv, index_url
    )
    finish_install = venv_commands(
        manager, python, relative_venv, relative_python, uv, index_url
    )
    if run(create) != 0:
        return _record(
            manifest,
            root,
            outcome.fail(
                "no-venv",
                "creating the virtual environment failed",
                [*finish_install, lock_cmd, manifest_cmd],
            ),
        )
    if index_url:
        pin_index(venv, index_url)
    if run(install) != 0:
        return _record(
            manifest,
            root,
            outcome.fail(
                "not-installed",
                "installing the project failed",
                [finish_install[1], lock_cmd, manifest_cmd],
            ),
        )

    if lock_existed:
        outcome.notes.append(
            f"kept the {manifest.LOCK_FILE} that was already there; re-pin it from "
            f".venv with: {quote(lock_cmd)}"
        )
    else:
        try:
            manifest.write_lock(root, manager, uv)
        except (OSError, RuntimeError) as error:
            return _record(
                manifest,
                root,
                outcome.fail(
                    "not-locked",
                    f"writing {manifest.LOCK_FILE} failed: {error}",
                    [lock_cmd, manifest_cmd],
                ),
            )
    if kernel:
        outcome.notes.append(register_kernel(manifest.venv_python(venv), kernel))
    return _record(manifest, root, outcome)


def _write_manifest(manifest: ModuleType, root: Path, outcome: Outcome) -> Path:
    environment = {"manager": outcome.manager, "status": outcome.status}
    if outcome.failure:
        environment["detail"] = outcome.failure
    return manifest.write_manifest(
        root, manifest.build_manifest(root, environment=environment)
    )


def _record(manifest: ModuleType, root: Path, outcome: Outcome) -> Outcome:
    try:
        path = _write_manifest(manifest, root, outcome)
    except (OSError, RuntimeError, ValueError) as error:
        outcome.notes.append(f"the deployment manifest could not be written: {error}")
    else:
        outcome.notes.append(f"manifest written to {path.relative_to(root).as_posix()}")
    return outcome


def summary(outcome: Outcome, root: Path, package: str, os_name: str = os.name) -> str:
    """The few lines a person needs after the copy."""
    python = r".venv\Scripts\python" if os_name == "nt" else ".venv/bin/python"
    lines = [""]
    if outcome.status == "ready":
        version = outcome.python.minor if outcome.python else "?"
        lines += [
            f"Project ready in {root.name}/ with Python {version} in .venv "
            f"(built with {outcome.manager}).",
            f"  go there:                 cd {quote([str(root)], os_name)}",
            "  activate on Linux/macOS:  source .venv/bin/activate",
            r"  activate on Windows:      .venv\Scripts\activate",
            f"  run the tests:            {python} -m pytest",
            f"  see the toolkit:          {python} -m {package} --help",
        ]
        if not (root / ".git").exists():
            lines.append(
                "  put it in git:            git init && git add -A && "
                'git commit -m "Start from purepy"'
            )
    elif outcome.status == "kept":
        lines.append(f"{root.name}/.venv already existed and was left untouched.")
        lines.append(f"If it is not set up yet, run in {root.name}/:")
        lines += [f"  {quote(command, os_name)}" for command in outcome.finish]
    else:
        if outcome.failure:
            said = (
                " (the output above says why)"
                if outcome.status in {"no-venv", "not-installed"}
                else ""
            )
            lines.append(f"Bootstrap stopped: {outcome.failure}{said}.")
        else:
            lines.append("No virtual environment was built.")
        lines.append(f"Your files are all in {root.name}/. To finish, run there:")
        lines += [f"  {quote(command, os_name)}" for command in outcome.finish]
    lines += [f"  note: {note}" for note in outcome.notes]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-manager", choices=MANAGERS, default="auto")
    parser.add_argument("--python", required=True, help="requested minor, e.g. 3.12")
    parser.add_argument("--package", required=True, help="import name of the project")
    parser.add_argument(
        "--supported",
        default="3.10,3.11,3.12,3.13,3.14",
        help="comma-separated minors the template offers, oldest first",
    )
    parser.add_argument("--index-url", default="", help="package index for installs")
    parser.add_argument("--kernel", default="", help="Jupyter kernel name to register")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"3\.\d+", args.python):
        parser.error(f"--python must look like 3.12, got {args.python!r}")
    if not args.package.isidentifier():
        parser.error(f"--package must be an import name, got {args.package!r}")
    if args.kernel and not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", args.kernel):
        parser.error(f"--kernel must be a kernel name, got {args.kernel!r}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path.cwd()
    supported = [v for v in args.supported.split(",") if v]
    try:
        outcome = bootstrap(
            root,
            args.env_manager,
            args.python,
            args.package,
            supported,
            args.index_url,
            args.kernel,
        )
    except Exception as error:
        # Exiting non-zero would make copier delete the new project.
        print(
            f"\nBootstrap failed: {type(error).__name__}: {error}\n"
            f"Your files are all in {root.name}/; README.md says how to build "
            ".venv by hand.",
            flush=True,
        )
        return 0
    print(summary(outcome, root, args.package), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
