"""Answers that must never break a rendered file.

Names are checked when asked; free text (quotes, colons, tabs, emoji, YAML's
words for booleans, version-like strings) is escaped wherever it lands. The
round-trip tests compare a render with hostile answers against a render with
plain markers in their place, file by file, so they cover every file an
answer reaches, including files added to the template later.
"""

from __future__ import annotations

import keyword
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from validate_pyproject import api as validate_pyproject

from conftest import render_project, tomllib
from helpers import assert_same_project_but, files, parse_all

MARKERS = {
    "description": "Qzdescfirstqz\nQzdescrestqz",
    "project_name": "Qzprojectqz",
    "author_name": "Qzauthorqz",
}
# Derived names are pinned so that only the free text differs between renders.
PINNED = {"project_slug": "churn-radar", "package_name": "churn_radar"}
FREE_TEXT = list(MARKERS)


def substitutions(answers: dict[str, str]) -> list[tuple[str, str]]:
    """Marker -> answer, whole description first, then its summary line."""
    pairs = [(MARKERS[key], answers[key]) for key in FREE_TEXT]
    summary = (answers["description"].splitlines() or [""])[0].strip()
    return [*pairs, ("Qzdescfirstqz", summary)]


@pytest.fixture(scope="module")
def reference(plain_template, tmp_path_factory) -> Path:
    """The project rendered with marker answers, to compare others against."""
    destination = tmp_path_factory.mktemp("reference") / "project"
    return render_project(plain_template, destination, **PINNED, **MARKERS)


@pytest.fixture
def questions(copier) -> dict[str, dict[str, Any]]:
    return copier.worker().template.questions_data


@pytest.fixture
def evaluate(copier, questions):
    """Render a question's default or validator as copier does, in its Jinja."""
    environment = copier.worker().jinja_env
    team = {
        name: spec["default"]
        for name, spec in questions.items()
        if name.startswith("team_")
    }

    def _evaluate(question: str, part: str, **answers: Any) -> str:
        template = environment.from_string(questions[question][part])
        return template.render(**team, **answers).strip()

    return _evaluate


def validation_error(error: ValueError, question: str) -> str:
    """The message copier shows for ``question``, checked to be one of ours."""
    match = re.fullmatch(
        r"Validation error for question '(\w+)': (.+)", str(error), re.DOTALL
    )
    assert match, str(error)
    assert match[1] == question
    assert match[2].endswith("."), match[2]
    return match[2]


# ------------------------------------------------------------------ names


@pytest.mark.parametrize(
    ("name", "slug", "package"),
    [
        ("Churn Radar", "churn-radar", "churn_radar"),
        ("churn-radar", "churn-radar", "churn_radar"),
        ("churn.radar", "churn-radar", "churn_radar"),
        ("ChurnRadar", "churnradar", "churnradar"),
        ("2churn", "2churn", "pkg_2churn"),
        ("Email", "email", "email_pkg"),
        ("NumPy", "numpy-project", "numpy_pkg"),
        ("Über Straße Ølsen", "uber-strasse-olsen", "uber_strasse_olsen"),
    ],
)
def test_awkward_project_names_give_importable_default_names(
    render, name, slug, package
):
    project = render(project_name=name)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())

    assert (answers["project_slug"], answers["package_name"]) == (slug, package)
    assert (project / "src" / package / "__init__.py").is_file()


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.text(min_size=1, max_size=120))
def test_any_accepted_project_name_gives_default_names_that_pass_their_checks(
    evaluate, name
):
    """Defaults derived from any accepted project name are valid names, or,
    for a name with nothing a distribution name can use, the slug question
    asks for one."""
    if evaluate("project_name", "validator", project_name=name):
        return
    slug = evaluate("project_slug", "default", project_name=name)
    package = evaluate("package_name", "default", project_name=name)

    if not slug:
        message = evaluate("project_slug", "validator", project_slug=slug)
        assert message.startswith("The project name has no letters or digits")
        return
    assert evaluate("project_slug", "validator", project_slug=slug) == ""
    assert evaluate("package_name", "validator", package_name=package) == ""
    assert package.isidentifier() and not keyword.iskeyword(package)


@pytest.mark.parametrize(
    "package", ["Churn-Radar", "churn radar", "2churn", "churn.radar", "café"]
)
def test_an_invalid_package_name_is_refused_naming_it(render, package):
    with pytest.raises(ValueError) as raised:
        render(package_name=package)

    message = validation_error(raised.value, "package_name")
    assert message.startswith(f"'{package}' is not an importable package name")


@pytest.mark.parametrize("package", ["class", "email", "json", "types", "logging"])
def test_a_keyword_or_standard_library_package_name_is_refused_with_a_suggestion(
    render, package
):
    with pytest.raises(ValueError) as raised:
        render(package_name=package)

    message = validation_error(raised.value, "package_name")
    assert f"'{package}'" in message and f"try '{package}_pkg'" in message


def test_every_standard_library_module_and_keyword_is_refused(evaluate):
    names = [
        name
        for name in sorted(set(sys.stdlib_module_names) | set(keyword.kwlist))
        if re.fullmatch(r"[a-z][a-z0-9_]*", name)
    ]
    accepted = [
        name
        for name in names
        if not evaluate("package_name", "validator", package_name=name)
    ]
    assert names and accepted == []


@pytest.mark.parametrize(
    "package",
    ["yaml", "psutil", "numpy", "pandas", "sklearn", "scipy", "matplotlib",
     "polars", "pytest", "ruff", "pre_commit", "mlflow", "code"],
)  # fmt: skip
def test_package_names_that_shadow_what_the_project_imports_are_refused(
    evaluate, package
):
    message = evaluate("package_name", "validator", package_name=package)
    assert message.startswith(f"'{package}' ") and f"try '{package}_pkg'" in message


@pytest.mark.parametrize("package", ["email_pipeline", "json_tools", "classy", "codes"])
def test_a_near_name_is_accepted(evaluate, package):
    assert evaluate("package_name", "validator", package_name=package) == ""


def test_near_standard_library_name_renders(render):
    assert (render(package_name="email_pipeline") / "src/email_pipeline").is_dir()


def test_a_distribution_named_after_a_requirement_is_refused(render, evaluate):
    """A project named like its own dependency could never be installed."""
    pyproject = tomllib.loads((render() / "pyproject.toml").read_text())["project"]
    requirements = pyproject["dependencies"] + [
        requirement
        for extra in pyproject["optional-dependencies"].values()
        for requirement in extra
    ]
    names = {re.match(r"[A-Za-z0-9._-]+", r)[0].lower() for r in requirements}

    for name in sorted(names):
        message = evaluate("project_slug", "validator", project_slug=name)
        assert "library the project depends on" in message, name
    with pytest.raises(ValueError, match="'numpy' is the name of a library"):
        render(project_slug="numpy", packages=["numpy"])


def test_names_too_long_for_the_generated_code_are_refused(evaluate):
    package, slug = "p" * 40, "s" * 40

    assert evaluate("package_name", "validator", package_name=package) == ""
    assert evaluate("project_slug", "validator", project_slug=slug) == ""
    assert "41 characters long" in evaluate(
        "package_name", "validator", package_name=package + "x"
    )
    assert "41 characters long" in evaluate(
        "project_slug", "validator", project_slug=slug + "x"
    )


def test_a_package_name_that_differs_from_the_slug_is_used_everywhere(render):
    project = render(project_name="Churn Radar", package_name="radar")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())

    assert pyproject["project"]["scripts"] == {"churn-radar": "radar.cli:main"}
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [
        "src/radar"
    ]
    assert pyproject["tool"]["coverage"]["run"]["source"] == ["radar"]
    assert pyproject["tool"]["ruff"]["lint"]["isort"]["known-first-party"] == ["radar"]
    assert (project / "src/radar/__init__.py").is_file()
    for name in sorted(files(project)):
        assert b"churn_radar" not in (project / name).read_bytes(), name


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"project_slug": "Churn Radar"}, "'Churn Radar' is not a valid distribution"),
        ({"author_email": "ada at example"}, "'ada at example' is not an e-mail"),
        ({"project_name": "   "}, "The project name cannot be empty"),
        ({"author_name": "Ada\nLovelace"}, "author name must be a single line"),
        ({"description": "bell\x07"}, "description contains a control"),
        ({"project_name": "line\u2028break"}, "project name contains a control"),
        ({"copyright_year": "last year"}, "'last year' is not a year"),
    ],
)
def test_bad_answers_are_refused_with_a_message_naming_them(render, answers, message):
    with pytest.raises(ValueError) as raised:
        render(**answers)
    assert message in validation_error(raised.value, next(iter(answers)))


def test_a_name_without_usable_letters_asks_for_the_names_it_cannot_give(render):
    with pytest.raises(ValueError) as raised:
        render(project_name="🚀🚀")
    message = validation_error(raised.value, "project_slug")
    assert "give project_slug (and package_name)" in message

    project = render(
        project_name="日本語", project_slug="nihongo", package_name="nihongo"
    )
    assert (project / "src/nihongo/__init__.py").is_file()


# ------------------------------------------------------------- free text

HOSTILE = [
    {
        "project_name": "Churn model: weekly retrain",
        "description": 'Flags "at-risk" accounts\tfor O\'Brien 🚀\nSecond line: yes',
        "author_name": 'Zoë O\'Neil "zed" \t🙂',
    },
    {"project_name": "no", "description": "on", "author_name": "*x"},
    {"project_name": "@team", "description": "# id", "author_name": "3.10"},
    {"project_name": "3.10", "description": "null\n- item", "author_name": "yes"},
    {
        "project_name": "{{ 7 * 7 }} ${{ secrets.SOME_TOKEN }}",
        "description": '{% raw %}\\ back\\slash \\n \'\' """',
        "author_name": "~ & | > ! % ` [a] {b: c}",
    },
]


@pytest.mark.parametrize("answers", HOSTILE, ids=lambda a: a["project_name"])
def test_hostile_text_comes_back_exactly_from_every_file_it_reaches(
    plain_template, reference, tmp_path, answers
):
    project = render_project(plain_template, tmp_path / "project", **PINNED, **answers)

    assert_same_project_but(reference, project, substitutions(answers))
    base = yaml.safe_load((project / "config/base.yaml").read_text())
    assert base["project_name"] == answers["project_name"]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["authors"][0]["name"] == answers["author_name"]


def hostile_text() -> st.SearchStrategy[str]:
    """Any text, weighted towards what breaks YAML, TOML, JSON and shells."""
    printable = st.text(
        st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=6
    )
    syntax = st.sampled_from(list("\"'\\:#@*&!%{}[]|>-?,\t\n $`~🚀é\ufeff"))
    words = st.sampled_from(
        ["no", "on", "off", "yes", "null", "~", "3.10", "1e3", "0x1F", "- ", "? "]
    )
    controls = st.sampled_from(list("\x00\x1b\x7f\x85\r\u2028\ufffe"))
    # Mostly text an answer may hold; now and then a character it may not.
    piece = st.one_of(printable, printable, syntax, syntax, syntax, words, controls)
    return st.lists(piece, max_size=6).map("".join)


FUZZED = [
    # question, examples: free text renders more often, so costs more.
    ("project_name", 15),
    ("description", 15),
    ("author_name", 15),
    ("project_slug", 8),
    ("package_name", 8),
    ("author_email", 8),
    ("copyright_year", 6),
]
# Tried first for every question, whatever Hypothesis then generates.
KNOWN_BREAKERS = ['Say "hi"\\', "it's: no", "3.10", "# @team *x"]
PYPROJECT_VALIDATOR = validate_pyproject.Validator()


def assert_answer_landed(project: Path, question: str, text: str) -> None:
    """The names, e-mail and year are where they belong, exactly."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text("utf-8"))
    if question == "project_slug":
        assert pyproject["project"]["name"] == text
    elif question == "package_name":
        assert (project / "src" / text / "__init__.py").is_file()
    elif question == "author_email":
        assert pyproject["project"]["authors"][0].get("email", "") == text
    elif question == "copyright_year":
        assert f"Copyright (c) {text} " in (project / "LICENSE").read_text("utf-8")


@pytest.mark.parametrize(("question", "examples"), FUZZED, ids=[q for q, _ in FUZZED])
def test_generated_answers_are_refused_clearly_or_survive_every_file(
    plain_template, reference, question, examples
):
    """Any text for a free-text question: a clear refusal, or a project whose
    every TOML/YAML/JSON file parses, whose pyproject.toml is valid, and whose
    files hold the answer exactly."""

    @settings(
        max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck)
    )
    @given(text=hostile_text())
    def check(text: str) -> None:
        with tempfile.TemporaryDirectory() as folder:
            try:
                project = render_project(
                    plain_template,
                    Path(folder) / "project",
                    **{**PINNED, **MARKERS, question: text},
                )
            except ValueError as error:
                validation_error(error, question)
                return

            parsed = parse_all(project)
            assert parsed[".copier-answers.yml"][question] == text
            PYPROJECT_VALIDATOR(parsed["pyproject.toml"])
            for name in sorted(files(project)):
                if name.endswith(".py"):
                    compile((project / name).read_text("utf-8"), name, "exec")
            if question in MARKERS:
                pairs = [(MARKERS[question], text)]
                if question == "description":
                    summary = (text.splitlines() or [""])[0].strip()
                    pairs.append(("Qzdescfirstqz", summary))
                assert_same_project_but(reference, project, pairs)
            else:
                assert_answer_landed(project, question, text)

    for text in KNOWN_BREAKERS:
        check = example(text=text)(check)
    check()


@pytest.mark.parametrize(
    "name", ['x"; touch pwned; "', "$(touch pwned)", "`touch pwned`", "x; touch pwned"]
)
def test_no_answer_is_ever_run_as_a_command(copier, tmp_path, monkeypatch, name):
    """Shell syntax in answers reaches no shell, with the tasks running."""
    monkeypatch.chdir(tmp_path)
    project = copier.copy(
        tmp_path / "project",
        project_name=name,
        description=name,
        author_name=name,
        env_manager="none",
    ).path

    assert list(tmp_path.rglob("pwned")) == []
    base = yaml.safe_load((project / "config/base.yaml").read_text())
    assert base["project_name"] == name
