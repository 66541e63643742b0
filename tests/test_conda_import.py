"""The conda import of the generated package, on real environment-file shapes.

The fixtures under fixtures/conda/ mimic what people bring: full
``conda env export`` output (Linux and Windows, with and without build
strings), ``--from-history`` output, and a hand-written file with a pip
section, requirements files and package indexes.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.metadata
import importlib.util
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TOOLKIT = ROOT / "template" / "src" / "{{package_name}}"
FIXTURES = Path(__file__).parent / "fixtures" / "conda"


def _load_toolkit():
    """The generated package's modules, imported from the template's source."""
    if "toolkit" not in sys.modules:
        spec = importlib.machinery.ModuleSpec("toolkit", None, is_package=True)
        package = importlib.util.module_from_spec(spec)
        package.__path__ = [str(TOOLKIT)]
        sys.modules["toolkit"] = package
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        return (
            importlib.import_module("toolkit.conda_import"),
            importlib.import_module("toolkit.conda_names"),
        )
    finally:
        sys.dont_write_bytecode = writes_bytecode


ci, names = _load_toolkit()
ALL_FIXTURES = sorted(FIXTURES.glob("*.yml"))


def convert(name: str):
    return ci.convert_file(FIXTURES / name)


def by_text(conversion) -> dict[str, object]:
    return {entry.text: entry for entry in conversion.entries}


# ------------------------------------------------------------ conda specs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("numpy", ("numpy", "", "", "")),
        ("numpy=1.26", ("numpy", "=1.26", "", "")),
        ("numpy=1.26.4=py311h64a7726_0", ("numpy", "=1.26.4", "py311h64a7726_0", "")),
        ("numpy==1.26.4=py311_0", ("numpy", "==1.26.4", "py311_0", "")),
        ("numpy 1.26.4 py311_0", ("numpy", "1.26.4", "py311_0", "")),
        ("numpy >=1.0 , < 2.0 py34_0", ("numpy", ">=1.0,<2.0", "py34_0", "")),
        ("numpy>=2,<3", ("numpy", ">=2,<3", "", "")),
        ("scipy 1.11.*", ("scipy", "1.11.*", "", "")),
        ("conda-forge::polars=0.20", ("polars", "=0.20", "", "conda-forge")),
        ("pytorch::pytorch", ("pytorch", "", "", "pytorch")),
        ("blas=*=openblas", ("blas", "=*", "openblas", "")),
        ("lightgbm[version='>=4.0']", ("lightgbm", ">=4.0", "", "")),
        ("sqlalchemy=2.0|2.1", ("sqlalchemy", "=2.0|2.1", "", "")),
    ],
)
def test_match_specs_are_split_like_conda_does(text, expected):
    spec = ci.parse_match_spec(text)
    assert (spec.name, spec.version, spec.build, spec.channel) == expected


@pytest.mark.parametrize(
    ("version", "build", "expected"),
    [
        ("", "", ""),
        ("*", "", ""),
        ("=1.5", "", "==1.5.*"),
        ("=1.5", "py311_0", "==1.5"),
        ("==1.5", "py311_0", "==1.5"),
        ("==1.5", "", "==1.5"),
        ("1.5", "", "==1.5"),
        ("1.5.*", "", "==1.5.*"),
        ("1.5*", "", "==1.5.*"),
        ("=1.5.*", "", "==1.5.*"),
        (">=2,<3", "", ">=2,<3"),
        (">=1.2.*", "", ">=1.2"),
        ("!=1.5.*", "", "!=1.5.*"),
        ("~=1.5", "", "~=1.5"),
        ("<2.0a1", "", "<2.0a1"),
        ("=1.4.1.post1", "", "==1.4.1.post1"),
        ("=2024.2.1", "", "==2024.2.1.*"),
    ],
)
def test_conda_versions_become_pep440(version, build, expected):
    assert ci.pep440_specifier(version, build) == expected


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("1.2|1.3", "'1.2|1.3' allows one version or another"),
        ("=2.0|2.1", "'2.0|2.1' allows one version or another"),
        ("=9e", "'=9e' is not a PEP 440 version"),
        (">=1,", "is not a PEP 440 version"),
    ],
)
def test_versions_without_a_pep440_equivalent_are_refused(version, message):
    with pytest.raises(ci.Untranslatable, match=re.escape(message)):
        ci.pep440_specifier(version)


@pytest.mark.parametrize(
    ("version", "minor"),
    [
        ("=3.11.8", "3.11"),
        ("=3.10", "3.10"),
        ("3.12.*", "3.12"),
        (">=3.10,<3.13", "3.10"),
        ("<3.13,>=3.11", "3.11"),
        ("==3.9.18", "3.9"),
        ("<3.12", ""),
        ("", ""),
    ],
)
def test_python_minor_is_the_oldest_allowed(version, minor):
    assert ci.python_minor(version) == minor


# ------------------------------------------------------------ every table entry


@pytest.mark.parametrize(("conda", "pypi"), sorted(names.PYPI_NAMES.items()))
def test_every_renamed_package_converts_to_its_pypi_name(conda, pypi):
    pypi_name, why = pypi
    entry = ci.convert({"dependencies": [f"{conda}=1.2.3=py311h1a2b3c4_0"]}).entries[0]

    assert entry.status == ci.RENAMED
    assert entry.requirement == f"{pypi_name}==1.2.3"
    assert entry.reason == why
    assert ci.requirement_name(pypi_name) != ci.requirement_name(conda)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", pypi_name), "PEP 503 normal form"


def test_renames_agree_with_grayskull():
    """grayskull (conda's PyPI-to-conda-forge recipe generator) ships a
    mapping of PyPI names to conda-forge names; where it names one of ours,
    it names the same PyPI project."""
    config = importlib.metadata.distribution("grayskull").locate_file(
        "grayskull/strategy/config.yaml"
    )
    mapping = yaml.safe_load(Path(config).read_text())
    pypi_for: dict[str, set[str]] = {}
    for pypi, details in mapping.items():
        conda = (details or {}).get("conda_forge")
        if conda:
            pypi_for.setdefault(ci.requirement_name(conda), set()).add(pypi)

    shared = [c for c in names.PYPI_NAMES if ci.requirement_name(c) in pypi_for]
    assert len(shared) >= 20, "grayskull covers most of the table"
    for conda in shared:
        ours = names.PYPI_NAMES[conda][0]
        theirs = {ci.requirement_name(p) for p in pypi_for[ci.requirement_name(conda)]}
        assert ours in theirs, conda


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (name, reason)
        for reason, group in sorted(names.DROPPED.items())
        for name in sorted(group)
    ],
)
def test_every_listed_conda_only_package_is_dropped_with_its_reason(name, reason):
    entry = ci.convert({"dependencies": [f"{name}=1.0"]}).entries[0]
    assert (entry.status, entry.requirement, entry.reason) == ("dropped", "", reason)


FAMILY_EXAMPLES = [
    ("__glibc", "virtual package"),
    ("_libgcc_mutex", "conda-internal"),
    ("_openmp_mutex", "conda-internal"),
    ("r", "an R package"),
    ("r-base", "an R package"),
    ("gcc_linux-64", "platform-specific"),
    ("sysroot_linux-64", "platform-specific"),
    ("clangxx_osx-arm64", "platform-specific"),
    ("gxx_impl_linux-64", "platform-specific"),
    ("gfortran-13", "compiler toolchain"),
    ("libgcc", "compiled library"),
    ("libgcc-ng", "compiled library"),
    ("libopenblas", "compiled library"),
    ("arrow-cpp", "C++ library"),
    ("cuda-nvcc", "CUDA toolkit"),
    ("aws-c-common", "AWS SDK"),
    ("aws-checksums", "AWS SDK"),
    ("xorg-libx11", "fonts or X11"),
    ("font-ttf-ubuntu", "fonts or X11"),
    ("fonts-conda-ecosystem", "fonts or X11"),
    ("m2w64-gcc-libs", "MSYS2"),
    ("msys2-conda-epoch", "MSYS2"),
]


@pytest.mark.parametrize(("name", "fragment"), FAMILY_EXAMPLES)
def test_every_pattern_drops_its_family(name, fragment):
    assert fragment in ci.drop_reason(name)


@pytest.mark.parametrize("pattern", [p.pattern for p, _ in names.DROPPED_PATTERNS])
def test_every_pattern_is_exercised_above(pattern):
    assert any(re.match(pattern, name) for name, _ in FAMILY_EXAMPLES), pattern


@pytest.mark.parametrize("name", sorted(names.PYTHON_EXCEPTIONS))
def test_python_projects_that_look_like_a_dropped_family_are_kept(name):
    entry = ci.convert({"dependencies": [f"{name}=1.0=py311h1a2b3c4_0"]}).entries[0]
    assert (entry.status, entry.requirement) == ("kept", f"{name}==1.0")


@pytest.mark.parametrize(
    "name",
    ["python-dateutil", "python-dotenv", "python-json-logger", "typing_extensions"],
)
def test_python_prefixed_pypi_names_are_not_renamed(name):
    entry = ci.convert({"dependencies": [name]}).entries[0]
    assert (entry.status, entry.requirement) == ("kept", name)


@pytest.mark.parametrize(
    ("build", "dropped"),
    [
        ("h7f98852_4", True),
        ("hd590300_1", True),
        ("cpu_0", True),
        ("0", True),
        ("py311h64a7726_0", False),
        ("pyhd8ed1ab_0", False),
        ("py_0", False),
        ("py3.11_cuda12.1_cudnn8.9.2_0", False),
        ("cuda120_py311h1a2b3c4_300", False),
        ("pypy39_pp73", False),
    ],
)
def test_build_strings_tell_python_packages_from_the_rest(build, dropped):
    assert bool(ci.drop_reason("somepackage", build)) is dropped


# ------------------------------------------------------------ real shapes


def test_large_data_science_export():
    conversion = convert("export-data-science.yml")
    entries = by_text(conversion)
    requirements = conversion.requirements

    assert conversion.name == "churn-analysis"
    assert conversion.channels == ["conda-forge", "defaults"]
    assert conversion.python == "3.11"
    assert len(conversion.entries) == 209 + 5 + 1, "conda, pip, and the prefix"
    assert 120 < len(requirements) < 150
    assert all("==" in r for r in requirements), "an export pins everything"
    assert len({ci.requirement_name(r) for r in requirements}) == len(requirements)

    for name in ("numpy", "pandas", "scikit-learn", "jupyterlab", "pyarrow"):
        assert any(ci.requirement_name(r) == name for r in requirements), name
    assert "scikit-learn==1.4.1.post1" in requirements
    for renamed, requirement in [
        ("brotli-python=1.1.0", "brotli==1.1.0"),
        ("dask-core=2024.2.1", "dask==2024.2.1"),
        ("python-tzdata=2024.1", "tzdata==2024.1"),
        ("python-fastjsonschema=2.19.1", "fastjsonschema==2.19.1"),
        ("nbconvert-core=7.16.1", "nbconvert==7.16.1"),
    ]:
        entry = next(e for t, e in entries.items() if t.startswith(renamed + "="))
        assert (entry.status, entry.requirement) == ("renamed", requirement)

    dropped = {t.split("=")[0] for t, e in entries.items() if e.status == "dropped"}
    assert {"python", "pip", "openssl", "_libgcc_mutex", "libgcc-ng", "blas"} <= dropped
    assert "not built for Python" in entries["gsl=2.7=he838d99_0"].reason
    assert not any(r.startswith(("lib", "openssl")) for r in requirements)
    assert entries["tzdata=2024a=h0542fff_1"].status == "dropped", "the system's"

    duplicates = {
        t.split("=")[0] for t, e in entries.items() if e.status == "duplicate"
    }
    assert duplicates == {
        "matplotlib-base",
        "seaborn-base",
        "py-xgboost",
        "xgboost",
        "typing_extensions",
    }
    assert "xgboost==2.0.3" in requirements, "the pip entry wins"
    for line in ("category-encoders==2.6.3", "kaleido==0.2.1", "shap==0.45.0"):
        assert entries[line].status == "kept" and line in requirements


def test_export_without_builds_keeps_the_same_projects_with_fuzzy_versions():
    with_builds = convert("export-data-science.yml").requirements
    without = convert("export-no-builds.yml").requirements

    # Without its build string, a C library that no list names looks like
    # any other package: it is kept, and pip will say it does not exist.
    assert [ci.requirement_name(r) for r in without if r != "gsl==2.7.*"] == [
        ci.requirement_name(r) for r in with_builds
    ]
    assert "numpy==1.26.4.*" in without and "numpy==1.26.4" in with_builds


def test_windows_export_from_the_defaults_channel():
    conversion = convert("export-windows.yml")
    entries = by_text(conversion)

    assert conversion.python == "3.12"
    assert conversion.requirements == [
        "bottleneck==1.3.7",
        "et_xmlfile==1.1.0",
        "numexpr==2.8.7",
        "numpy==1.26.4",
        "openpyxl==3.0.10",
        "pandas==2.2.1",
        "python-dateutil==2.8.2",
        "tzdata==2023.3",
        "pytz==2023.3.post1",
        "six==1.16.0",
    ]
    assert entries["numpy-base=1.26.4=py312h4dde369_0"].status == "duplicate"
    for mkl in ("mkl=2023.1.0=h6b88ed4_46358", "mkl_fft=1.3.8=py312h2bbff1b_0"):
        assert "OpenBLAS" in entries[mkl].reason
    assert entries["vs2015_runtime=14.27.29016=h5e58377_2"].status == "dropped"


def test_from_history_export_keeps_requested_specs():
    conversion = convert("from-history.yml")

    assert conversion.python == "3.10"
    assert conversion.requirements == [
        "torch==2.1.*",
        "torchvision",
        "numpy>=1.24,<2",
        "opencv-python",
        "matplotlib",
        "scikit-image",
        "jupyterlab",
        "ipykernel",
    ]
    assert {e.text for e in conversion.having("dropped")} == {
        "python=3.10",
        "pytorch-cuda=12.1",
        "cudatoolkit",
        "pip",
    }


def test_handwritten_file_with_pip_section_indexes_and_requirement_files():
    conversion = convert("handwritten.yml")
    entries = by_text(conversion)

    assert conversion.python == "3.11"
    assert conversion.requirements == [
        "numpy==1.26.*",
        "pandas==2.2.1",
        "scipy>=1.11",
        "statsmodels==0.14.*",
        "tables",
        "msgpack>=1.0",
        "graphviz",
        "xgboost==2.0.*",
        "lightgbm>=4.0",
        "sqlalchemy",
        "sktime==0.26.0",
        "holidays>=0.40",
        "prophet==1.1.5",
        "tscv @ git+https://github.com/example/tscv.git@v0.3",
    ]
    assert entries["graphviz"].status == "dropped", "the program, not the binding"
    assert entries["python-graphviz"].status == "renamed"
    assert entries["sqlalchemy=2.0|2.1"].status == "not translated"
    assert "kept without a version" in entries["sqlalchemy=2.0|2.1"].reason

    index = entries["--index-url https://***@pypi.example.org/simple"]
    assert index.status == "installer option" and "PIP_INDEX_URL" in index.reason
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in entries
    assert "2 requirement(s)" in entries["-r requirements-extra.txt"].reason
    assert entries["-c constraints.txt"].status == "installer option"
    assert entries["-r missing-requirements.txt"].status == "not translated"
    assert entries["-e ../shared-utils"].status == "not translated"
    assert entries["-e ."].status == "dropped"
    assert entries["--pre"].status == "installer option"
    assert entries["variables: MPLBACKEND=Agg"].status == "not translated"


@pytest.mark.parametrize("fixture", ALL_FIXTURES, ids=lambda p: p.name)
def test_nothing_is_silently_lost(fixture):
    """Every dependency of the file has an entry, and the report shows them all."""
    data = yaml.safe_load(fixture.read_text())
    conversion = ci.convert_file(fixture)
    texts = [e.text for e in conversion.entries]
    report = ci.migration_report(conversion)

    for item in data["dependencies"]:
        lines = item["pip"] if isinstance(item, dict) else [item]
        for line in lines:
            assert ci.redact(line) in texts, line
    for entry in conversion.entries:
        assert entry.text.replace("|", "\\|") in report, entry.text
        assert entry.status in {"kept", "duplicate"} or entry.reason, entry
    assert "s3cret" not in report


# ------------------------------------------------------------ bad files


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"name: x\ndependencies:\n  - numpy\n - bad: [\n",
            r"bad\.yml:4: invalid YAML",
        ),
        (b"", r"bad\.yml is empty"),
        (b"- numpy\n- pandas\n", r"bad\.yml is not a conda environment file"),
        (b"name: x\nchannels: [defaults]\n", r"no 'dependencies' list"),
        (b"dependencies: numpy\n", r"no 'dependencies' list"),
        (b"\xff\xfe\x00binary", r"bad\.yml: not a text file"),
    ],
)
def test_bad_files_are_refused_with_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad.yml"
    path.write_bytes(content)
    with pytest.raises(ci.EnvironmentFileError, match=message):
        ci.convert_file(path)


def test_missing_file_is_refused_naming_it(tmp_path):
    with pytest.raises(ci.EnvironmentFileError, match=r"cannot read .*nowhere\.yml"):
        ci.convert_file(tmp_path / "nowhere.yml")


def test_odd_entries_are_reported_not_fatal():
    conversion = ci.convert(
        {"dependencies": [3.8, {"conda": ["x"]}, {"pip": "requests"}, "numpy"]}
    )
    statuses = [e.status for e in conversion.entries]
    assert statuses == ["not translated"] * 3 + ["kept"]
    assert conversion.requirements == ["numpy"]


def test_odd_entries_stay_on_one_line_of_the_report():
    conversion = ci.convert({"dependencies": [42, None, "numpy"]})
    report = ci.migration_report(conversion)

    rows = [line for line in report.splitlines() if line.startswith("| `")]
    assert any(row.startswith("| `42`") for row in rows), report
    assert "..." not in report


# ------------------------------------------------------------ the project side


def test_merge_replaces_by_project_and_appends_the_rest():
    merge = ci.merge_requirements(
        ["pyyaml>=6.0", "psutil>=5.9", "NumPy>=1.26"],
        ["numpy==1.26.4", "pandas==2.2.1", "PyYAML>=6.0", "psutil>=5.9"],
    )
    assert merge.dependencies == [
        "PyYAML>=6.0",
        "psutil>=5.9",
        "numpy==1.26.4",
        "pandas==2.2.1",
    ]
    assert merge.added == ["pandas==2.2.1"]
    assert merge.replaced == [
        ("NumPy>=1.26", "numpy==1.26.4"),
        ("pyyaml>=6.0", "PyYAML>=6.0"),
    ]
    assert merge.unchanged == ["psutil>=5.9"]


PYPROJECT = """\
[build-system]
requires = ["hatchling"]

[project]
name = "demo"  # keep
version = "1.0"
dependencies = [
  "pyyaml>=6.0",  # the toolkit reads YAML
  # data
  "numpy>=1.26",
]

[tool.ruff]
line-length = 88
"""


def test_update_pyproject_changes_only_the_dependencies(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT)

    merge = ci.update_pyproject(path, ["numpy==1.26.4", "pandas==2.2.1"])

    assert merge.replaced == [("numpy>=1.26", "numpy==1.26.4")]
    assert path.read_text() == PYPROJECT.replace(
        '  "numpy>=1.26",\n', '  "numpy==1.26.4",\n  "pandas==2.2.1",\n'
    )


def test_update_pyproject_dry_run_writes_nothing(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT)
    merge = ci.update_pyproject(path, ["pandas==2.2.1"], write=False)

    assert merge.added == ["pandas==2.2.1"]
    assert path.read_text() == PYPROJECT


def test_a_one_line_array_grows_one_requirement_per_line(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "demo"\ndependencies = ["numpy"]\n')

    ci.update_pyproject(path, ["pandas==2.2.1"])

    text = path.read_text()
    assert '\n    "numpy",\n    "pandas==2.2.1",\n]' in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[tool.x]\na = 1\n", "has no \\[project\\] table"),
        ('[project]\nname = "d"\ndynamic = ["dependencies"]\n', "as dynamic"),
    ],
)
def test_update_pyproject_refuses_what_it_cannot_edit(tmp_path, content, message):
    path = tmp_path / "pyproject.toml"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        ci.update_pyproject(path, ["numpy"])
    assert path.read_text() == content


def test_migration_file_is_created_then_appended(tmp_path):
    first = ci.migration_report(convert("from-history.yml"))
    second = ci.migration_report(convert("export-windows.yml"))

    ci.write_migration(tmp_path, first)
    ci.write_migration(tmp_path, second)

    text = (tmp_path / "MIGRATION.md").read_text()
    assert text.startswith("# Migration notes\n")
    assert text.index("## from-history.yml") < text.index("## export-windows.yml")
    assert first in text and second in text


def test_report_tables_escape_pipes_and_name_the_reasons():
    report = ci.migration_report(convert("handwritten.yml"))

    assert "| `sqlalchemy=2.0\\|2.1` | `sqlalchemy` |" in report
    assert "### Renamed (4)" in report
    assert "the interpreter itself" in report
    assert "Imported from `" in report and "`conda-forge`" in report
