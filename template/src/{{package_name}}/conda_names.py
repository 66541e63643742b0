"""What conda packages are called on PyPI, and which ones have no PyPI side.

Two tables and a few rules, read by ``conda_import``:

- ``PYPI_NAMES``: conda packages published on PyPI under another name. Names
  that differ only in case, ``-``, ``_`` or ``.`` are not listed: PEP 503
  treats them as the same project. Names starting with ``python-`` are listed
  one by one, never by rule: ``python-dateutil`` and ``python-dotenv`` are
  the real PyPI names.
- ``DROPPED``: conda packages that have no place in a PyPI requirement list,
  each group with the reason a person reads in ``MIGRATION.md``.
- ``DROPPED_PATTERNS``: the same for whole families (``lib*``, ``r-*``, ...),
  with ``PYTHON_EXCEPTIONS`` for Python projects that merely look like them.

The template's tests check every entry, and check ``PYPI_NAMES`` against the
conda-forge names that grayskull (conda's own PyPI-to-conda recipe
generator) ships for the same projects.
"""

from __future__ import annotations

import re

# conda name -> (PyPI name, why they differ)
PYPI_NAMES: dict[str, tuple[str, str]] = {
    "pytorch": ("torch", "PyTorch is published on PyPI as torch"),
    "pytorch-cpu": ("torch", "conda-forge's CPU build of PyTorch; PyPI has torch"),
    "pytorch-gpu": ("torch", "conda-forge's CUDA build of PyTorch; PyPI has torch"),
    "pytorch_geometric": ("torch-geometric", "PyTorch Geometric on PyPI"),
    "pytorch_scatter": ("torch-scatter", "PyTorch Scatter on PyPI"),
    "pytorch_sparse": ("torch-sparse", "PyTorch Sparse on PyPI"),
    "pytorch_cluster": ("torch-cluster", "PyTorch Cluster on PyPI"),
    "tensorflow-base": ("tensorflow", "conda's TensorFlow library package"),
    "py-xgboost": ("xgboost", "conda's Python package of XGBoost"),
    "py-xgboost-cpu": ("xgboost", "conda's CPU build of XGBoost"),
    "py-xgboost-gpu": ("xgboost", "conda's CUDA build of XGBoost"),
    "matplotlib-base": ("matplotlib", "conda's Matplotlib without a GUI toolkit"),
    "numpy-base": ("numpy", "the defaults channel's NumPy library package"),
    "pytables": ("tables", "PyTables is published on PyPI as tables"),
    "py-opencv": ("opencv-python", "conda's Python bindings of OpenCV"),
    "opencv": ("opencv-python", "OpenCV's Python wheels are opencv-python"),
    "msgpack-python": ("msgpack", "MessagePack for Python on PyPI"),
    "python-graphviz": ("graphviz", "the Python interface to Graphviz"),
    "dask-core": ("dask", "conda's Dask without optional dependencies"),
    "seaborn-base": ("seaborn", "conda-forge's seaborn without optional extras"),
    "nbconvert-core": ("nbconvert", "conda-forge's nbconvert without pandoc"),
    "pyarrow-core": ("pyarrow", "conda-forge's minimal PyArrow build"),
    "qtconsole-base": ("qtconsole", "conda-forge's Qt console without Qt"),
    "pysoundfile": ("soundfile", "SoundFile on PyPI"),
    "python-duckdb": ("duckdb", "DuckDB's Python package on PyPI"),
    "python-kaleido": ("kaleido", "Plotly's static image export on PyPI"),
    "python-tzdata": ("tzdata", "the Python package of the time zone database"),
    "brotli-python": ("brotli", "Brotli's Python bindings on PyPI"),
    "pyqt": ("pyqt5", "conda's pyqt is Qt 5; PyPI has PyQt5 (and PyQt6)"),
    "python-lmdb": ("lmdb", "LMDB bindings on PyPI"),
    "python-xxhash": ("xxhash", "xxHash bindings on PyPI"),
    "python-flatbuffers": ("flatbuffers", "FlatBuffers for Python on PyPI"),
    "python-symengine": ("symengine", "SymEngine bindings on PyPI"),
    "python-sounddevice": ("sounddevice", "sounddevice on PyPI"),
    "python-confluent-kafka": ("confluent-kafka", "Confluent's Kafka client"),
    "python-kubernetes": ("kubernetes", "the Kubernetes client on PyPI"),
    "python-fastjsonschema": ("fastjsonschema", "fastjsonschema on PyPI"),
    "pvlib-python": ("pvlib", "pvlib on PyPI"),
    "h3-py": ("h3", "Uber's H3 bindings on PyPI"),
    "redis-py": ("redis", "the Redis client on PyPI"),
    "docker-py": ("docker", "the Docker SDK on PyPI"),
    "google-cloud-bigquery-core": ("google-cloud-bigquery", "BigQuery client"),
    "cython-blis": ("blis", "spaCy's BLIS bindings on PyPI"),
    "neo4j-python-driver": ("neo4j", "the Neo4j driver on PyPI"),
    "trino-python-client": ("trino", "the Trino client on PyPI"),
    "ortools-python": ("ortools", "Google OR-Tools on PyPI"),
    "cupy": (
        "cupy-cuda12x",
        "PyPI ships CuPy per CUDA version; cupy-cuda12x is for CUDA 12",
    ),
}

_LIBRARY = "a system library: PyPI wheels bundle the libraries they need"
_PROGRAM = (
    "a program, not a Python package: install it with the system's package "
    "manager if the project calls it"
)

# Reason -> conda names dropped for that reason.
DROPPED: dict[str, frozenset[str]] = {
    "conda itself or its plumbing: .venv brings its own pip": frozenset(
        {
            "pip",
            "conda",
            "conda-build",
            "conda-env",
            "conda-verify",
            "conda-libmamba-solver",
            "conda-package-handling",
            "conda-content-trust",
            "mamba",
            "micromamba",
            "menuinst",
            "anaconda",
            "anaconda-client",
            "anaconda-navigator",
            "anaconda-project",
            "navigator-updater",
            "nb_conda",
            "nb_conda_kernels",
            "python_abi",
            "pybind11-abi",
        }
    ),
    "a packaging tool that every virtual environment provides; add it back "
    "if the code imports it": frozenset({"setuptools", "wheel"}),
    "a compiler or build tool: PyPI wheels come prebuilt": frozenset(
        {
            "compilers",
            "c-compiler",
            "cxx-compiler",
            "fortran-compiler",
            "gcc",
            "gxx",
            "gfortran",
            "clang",
            "clangxx",
            "binutils",
            "make",
            "cmake",
            "ninja",
            "pkg-config",
            "autoconf",
            "automake",
            "m4",
            "swig",
            "patch",
        }
    ),
    "a math or threading library (BLAS, LAPACK, MKL, OpenMP, TBB): NumPy and "
    "SciPy wheels bundle OpenBLAS": frozenset(
        {
            "blas",
            "blas-devel",
            "openblas",
            "lapack",
            "nomkl",
            "mkl",
            "mkl-devel",
            "mkl-include",
            "mkl-service",
            "mkl_fft",
            "mkl_random",
            "intel-openmp",
            "llvm-openmp",
            "tbb",
            "tbb-devel",
        }
    ),
    "the CUDA toolkit: the PyPI wheels of PyTorch, TensorFlow and JAX bring "
    "the CUDA libraries they need": frozenset(
        {
            "cudatoolkit",
            "cudatoolkit-dev",
            "cudnn",
            "nccl",
            "cutensor",
            "magma",
            "pytorch-cuda",
            "pytorch-mutex",
            "cpuonly",
        }
    ),
    _PROGRAM: frozenset(
        {"git", "nodejs", "yarn", "openjdk", "pandoc", "graphviz", "ffmpeg"}
    ),
    _LIBRARY: frozenset(
        {
            "openssl",
            "ca-certificates",
            "tzdata",
            "ncurses",
            "readline",
            "tk",
            "xz",
            "zlib",
            "bzip2",
            "sqlite",
            "zstd",
            "lz4-c",
            "snappy",
            "yaml",
            "expat",
            "icu",
            "freetype",
            "fontconfig",
            "jpeg",
            "openjpeg",
            "lcms2",
            "lerc",
            "giflib",
            "zeromq",
            "krb5",
            "c-ares",
            "curl",
            "glib",
            "glib-tools",
            "gettext",
            "dbus",
            "pcre",
            "pcre2",
            "hdf5",
            "proj",
            "geos",
            "qt",
            "qt-main",
            "qt-webengine",
            "gstreamer",
            "gst-plugins-base",
            "cairo",
            "pango",
            "harfbuzz",
            "pixman",
            "fribidi",
            "graphite2",
            "gmp",
            "mpfr",
            "mpc",
            "pthread-stubs",
            "brotli",
            "brotli-bin",
            "orc",
            "re2",
            "gflags",
            "glog",
            "utf8proc",
            "unixodbc",
            "nspr",
            "nss",
            "vc",
            "vc14_runtime",
            "vs2015_runtime",
            "ucrt",
            "keyutils",
            "ucx",
            "rdma-core",
            "s2n",
            "nettle",
            "gnutls",
            "lame",
            "x264",
            "x265",
            "openh264",
            "aom",
            "dav1d",
            "svt-av1",
            "alsa-lib",
            "pulseaudio",
            "jasper",
            "nlohmann_json",
            "sleef",
        }
    ),
}

# (pattern, reason): families of conda names with no PyPI side.
DROPPED_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"__"), "a conda virtual package (a fact about the machine)"),
    (re.compile(r"_"), "conda-internal (a mutex or selector of conda builds)"),
    (re.compile(r"r$|r-"), "an R package: R is not part of a Python environment"),
    (
        re.compile(r".*_(linux|osx|win)-(64|32|aarch64|arm64|ppc64le)$"),
        "a platform-specific compiler or sysroot package",
    ),
    (re.compile(r"(gcc|gxx|gfortran|clang)[-_]"), "part of a compiler toolchain"),
    (
        re.compile(r"lib"),
        "a compiled library (conda's lib* packages): PyPI wheels bundle what they need",
    ),
    (
        re.compile(r".*-cpp$"),
        "a C++ library: PyPI wheels bundle the libraries they need",
    ),
    (re.compile(r"cuda-"), "part of the CUDA toolkit; PyPI wheels bring their own"),
    (
        re.compile(r"aws-c-|aws-checksums"),
        "a C library of the AWS SDK, bundled by the wheels that use it",
    ),
    (
        re.compile(r"xorg-|font-ttf-|fonts-"),
        "fonts or X11 libraries, provided by the system",
    ),
    (re.compile(r"m2w64-|msys2-"), "part of the Windows MSYS2 toolchain"),
)

# Python projects whose names match a pattern above.
PYTHON_EXCEPTIONS = frozenset(
    {
        "libcst",
        "librosa",
        "libpysal",
        "libarchive-c",
        "libsass",
        "libtmux",
        "cuda-python",
    }
)
