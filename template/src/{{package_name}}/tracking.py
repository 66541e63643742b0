"""Experiment tracking: each run's parameters, metrics, dataset and code version.

A :class:`Tracker` records runs in a store and finds them again. Two stores
share one API:

- :class:`SQLiteStore`, the default: one SQLite file in the project
  (``experiments/runs.sqlite``), no server. Many processes may log to it at
  once, and it stays fast with hundreds of thousands of runs.
- :class:`MLflowStore`: an MLflow tracking server shared by a team. It needs
  the project's ``mlflow`` extra, imported only when this store is used.

Names of params, metrics and tags follow MLflow's rules in both stores
(letters, digits and ``_ - . : /`` and spaces), so a project can move from one
store to the other without renaming anything.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import re
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
DEFAULT_PATH = Path("experiments") / "runs.sqlite"
BACKENDS = ("sqlite", "mlflow")
KEY_PATTERN = re.compile(r"[A-Za-z0-9_\-. :/]{1,250}")

# Tag keys the stores use for the run's own fields; user tags may not take them.
DATASET_TAG = "dataset"
GIT_DIRTY_TAG = "git.dirty"
MLFLOW_GIT_COMMIT_TAG = "mlflow.source.git.commit"

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_T = TypeVar("_T")


class _MessageKeyError(KeyError):
    # KeyError quotes its message; these are read by people, so print it plainly.
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UnknownRunError(_MessageKeyError):
    """No run with the given id in the store."""


class UnknownMetricError(_MessageKeyError):
    """No run (among those asked about) has the given metric."""


class SchemaError(RuntimeError):
    """The tracking database is not one this version of the package can use."""


@dataclass(frozen=True)
class Run:
    """One recorded run: what went in (params, dataset, code) and what came out."""

    id: str
    created_at: datetime
    params: dict[str, Any]
    metrics: dict[str, float]
    name: str | None = None
    dataset: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    git_commit: str | None = None
    git_dirty: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """The run as plain JSON-ready values (``created_at`` in ISO 8601, UTC)."""
        return {
            "id": self.id,
            "name": self.name,
            "created_at": _format_time(self.created_at),
            "dataset": self.dataset,
            "params": self.params,
            "metrics": self.metrics,
            "tags": self.tags,
            "git_commit": self.git_commit,
            "git_dirty": self.git_dirty,
        }


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Stands for a param or metric that one of two compared runs does not have."""


@dataclass(frozen=True)
class Difference:
    """One param or metric of two compared runs; ``MISSING`` where a run lacks it."""

    kind: str
    key: str
    first: Any
    second: Any

    @property
    def changed(self) -> bool:
        return self.first != self.second

    @property
    def delta(self) -> float | None:
        """``second - first`` for a metric both runs have, else None."""
        if self.kind != "metric" or MISSING in (self.first, self.second):
            return None
        return self.second - self.first


def compare(first: Run, second: Run) -> list[Difference]:
    """Every param, then every metric, of two runs, side by side, sorted by key."""
    rows = []
    for kind, left, right in (
        ("param", first.params, second.params),
        ("metric", first.metrics, second.metrics),
    ):
        for key in sorted(left.keys() | right.keys()):
            rows.append(
                Difference(kind, key, left.get(key, MISSING), right.get(key, MISSING))
            )
    return rows


@dataclass(frozen=True)
class Query:
    """Which runs to return: every given condition must hold."""

    name: str | None = None
    dataset: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    since: datetime | None = None
    limit: int | None = None
    oldest_first: bool = False


class Store(Protocol):
    """Where runs are kept; :class:`Tracker` validates everything it is given."""

    location: str

    def add(self, run: Run) -> str: ...

    def get(self, run_id: str) -> Run: ...

    def find(self, query: Query) -> list[Run]: ...

    def best(self, metric: str, higher_is_better: bool, query: Query) -> Run: ...

    def close(self) -> None: ...


def git_state(folder: str | os.PathLike[str]) -> tuple[str | None, bool | None]:
    """Commit checked out in ``folder`` and whether tracked files differ from it.

    ``(None, None)`` when ``folder`` is not in a git work tree or git is not
    installed; the commit is None in a repository with no commit yet.
    Untracked files do not make the tree dirty, as with ``git describe --dirty``.
    """
    command = ["git", "status", "--porcelain=v2", "--branch", "--untracked-files=no"]
    # Optional locks off: a status taken for a record must not block the user's
    # own git commands by refreshing the index.
    environment = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        result = subprocess.run(
            command,
            cwd=folder,
            env=environment,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        log.debug("no git information for %s: %s", folder, error)
        return None, None
    if result.returncode != 0:
        log.debug("no git information for %s: %s", folder, result.stderr.strip())
        return None, None

    commit = None
    dirty = False
    for line in result.stdout.splitlines():
        if line.startswith("# branch.oid "):
            oid = line.split()[2]
            commit = None if oid == "(initial)" else oid
        elif not line.startswith("#"):
            dirty = True
    return commit, dirty


class Tracker:
    """Logs runs to a store and finds them again.

    ``root`` is the folder whose git commit is recorded with each run (default:
    the working directory). It is asked once, by the first :meth:`log_run`, and
    kept for the life of the tracker: a long-lived tracker (a notebook) records
    the commit it started from.
    """

    def __init__(self, store: Store, *, root: str | os.PathLike[str] | None = None):
        self.store = store
        self.root = Path(root) if root is not None else Path.cwd()
        self._git: tuple[str | None, bool | None] | None = None

    @classmethod
    def from_settings(
        cls, tracking: Mapping[str, Any], root: str | os.PathLike[str]
    ) -> Tracker:
        """Tracker for the ``tracking`` section of the config.

        Keys: ``backend`` (``sqlite`` or ``mlflow``), ``uri`` (a file for sqlite,
        relative to ``root``; the server for mlflow) and ``experiment`` (mlflow).
        """
        root = Path(root)
        backend = tracking.get("backend", "sqlite")
        uri = tracking.get("uri")
        if uri is not None and not isinstance(uri, str):
            raise ValueError(f"tracking.uri must be text, not {uri!r}")

        if backend == "sqlite":
            path = Path(uri.removeprefix("sqlite:///")) if uri else DEFAULT_PATH
            return cls(
                SQLiteStore(path if path.is_absolute() else root / path), root=root
            )
        if backend == "mlflow":
            if not uri:
                raise ValueError(
                    "tracking.uri must name the MLflow server "
                    "(e.g. http://127.0.0.1:5000) when tracking.backend is mlflow"
                )
            experiment = tracking.get("experiment", "default")
            if not isinstance(experiment, str) or not experiment:
                raise ValueError(
                    f"tracking.experiment must be a non-empty name, not {experiment!r}"
                )
            return cls(MLflowStore(uri, experiment), root=root)
        raise ValueError(
            f"tracking.backend must be one of {', '.join(BACKENDS)}, not {backend!r}"
        )

    def log_run(
        self,
        params: Mapping[str, Any],
        metrics: Mapping[str, float],
        *,
        name: str | None = None,
        dataset: str | os.PathLike[str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Record one run and return its id.

        ``params`` hold any JSON values (numpy scalars are converted);
        ``metrics`` finite numbers; ``tags`` text. Bad input raises ValueError
        before anything is written.
        """
        if dataset is not None and not isinstance(dataset, str):
            dataset = os.fspath(dataset)
        checked = {
            "params": _checked_params(params),
            "metrics": _checked_metrics(metrics),
            "name": _checked_text("name", name),
            "dataset": _checked_text("dataset", dataset),
            "tags": _checked_tags(tags or {}),
        }
        commit, dirty = self.git()
        run = Run(
            id=uuid.uuid4().hex,
            created_at=_now(),
            git_commit=commit,
            git_dirty=dirty,
            **checked,
        )
        run_id = self.store.add(run)
        log.info("logged run %s to %s", run_id, self.store.location)
        return run_id

    def get(self, run_id: str) -> Run:
        """The run with this id; UnknownRunError (a KeyError) when there is none."""
        return self.store.get(run_id)

    def runs(
        self,
        *,
        name: str | None = None,
        dataset: str | None = None,
        tags: Mapping[str, str] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        oldest_first: bool = False,
    ) -> list[Run]:
        """Runs matching every given filter, newest first (or oldest first).

        ``since`` keeps runs created at or after it (a naive datetime is local
        time); ``limit`` caps how many are returned.
        """
        if limit is not None and (isinstance(limit, bool) or limit < 0):
            raise ValueError(f"limit must be a count of runs, not {limit!r}")
        query = Query(
            name=name,
            dataset=dataset,
            tags=_checked_tags(tags or {}, user=False),
            since=since,
            limit=limit,
            oldest_first=oldest_first,
        )
        return self.store.find(query)

    def best(
        self,
        metric: str,
        higher_is_better: bool = True,
        *,
        name: str | None = None,
        dataset: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Run:
        """The run with the highest (or lowest) ``metric`` among matching runs.

        Ties go to the earliest run. UnknownMetricError (a KeyError) when no
        matching run has the metric.
        """
        _check_key("metric", metric)
        query = Query(
            name=name, dataset=dataset, tags=_checked_tags(tags or {}, user=False)
        )
        return self.store.best(metric, higher_is_better, query)

    def compare(self, first_id: str, second_id: str) -> list[Difference]:
        """Params and metrics of two runs side by side (see :func:`compare`)."""
        return compare(self.get(first_id), self.get(second_id))

    def git(self) -> tuple[str | None, bool | None]:
        """Commit and dirty flag of ``root``, asked of git once per tracker."""
        if self._git is None:
            self._git = git_state(self.root)
        return self._git

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# ------------------------------------------------------------------ SQLite

# Each entry brings a database from the previous version to this one. Runs
# keep their params as JSON (they are read, not searched); metrics and tags
# get tables of their own so that best-run and tag queries use an index.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE runs (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            name TEXT,
            created_at TEXT NOT NULL,
            dataset TEXT,
            git_commit TEXT,
            git_dirty INTEGER,
            params TEXT NOT NULL
        )""",
        "CREATE INDEX runs_by_time ON runs (created_at)",
        "CREATE INDEX runs_by_name ON runs (name, created_at)",
        "CREATE INDEX runs_by_dataset ON runs (dataset, created_at)",
        """CREATE TABLE metrics (
            run INTEGER NOT NULL REFERENCES runs (seq),
            key TEXT NOT NULL,
            value REAL NOT NULL,
            PRIMARY KEY (run, key)
        ) WITHOUT ROWID""",
        "CREATE INDEX metrics_by_value ON metrics (key, value)",
        """CREATE TABLE tags (
            run INTEGER NOT NULL REFERENCES runs (seq),
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (run, key)
        ) WITHOUT ROWID""",
        "CREATE INDEX tags_by_value ON tags (key, value)",
    ),
}

_RUN_COLUMNS = "seq, id, name, created_at, dataset, git_commit, git_dirty, params"
# SQLITE_BUSY and SQLITE_LOCKED (sqlite3 names them from Python 3.11 on).
_BUSY_CODES = {5, 6}
# Parameters per statement when reading metrics and tags of many runs; the
# oldest SQLite builds still in use allow 999.
_CHUNK = 500
# Connections a forked child inherited. SQLite forbids using them in the
# child, closing included, so they are kept alive and never touched.
_INHERITED: list[sqlite3.Connection] = []


class SQLiteStore:
    """Runs in one SQLite file, safe for many processes writing at once.

    The file is in WAL mode, so readers never wait for writers. Each run is
    written in one short ``BEGIN IMMEDIATE`` transaction; a writer that finds
    the file locked waits up to ``timeout`` seconds (SQLite's busy timeout)
    and then retries the whole transaction with a growing, jittered delay.
    Reading a file that does not exist yet finds no runs and creates nothing.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, timeout: float = 30.0, retries: int = 8
    ):
        self.path = Path(path)
        self.location = str(self.path)
        self.timeout = timeout
        self.retries = retries
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0

    def add(self, run: Run) -> str:
        def write(connection: sqlite3.Connection) -> None:
            with _transaction(connection):
                seq = connection.execute(
                    "INSERT INTO runs (id, name, created_at, dataset, git_commit,"
                    " git_dirty, params) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        run.id,
                        run.name,
                        _format_time(run.created_at),
                        run.dataset,
                        run.git_commit,
                        None if run.git_dirty is None else int(run.git_dirty),
                        json.dumps(run.params, sort_keys=True, allow_nan=False),
                    ),
                ).lastrowid
                connection.executemany(
                    "INSERT INTO metrics (run, key, value) VALUES (?, ?, ?)",
                    [(seq, key, value) for key, value in run.metrics.items()],
                )
                connection.executemany(
                    "INSERT INTO tags (run, key, value) VALUES (?, ?, ?)",
                    [(seq, key, value) for key, value in run.tags.items()],
                )

        self._run(write, create=True)
        return run.id

    def get(self, run_id: str) -> Run:
        """The run with id ``run_id``, or the one run whose id starts with it
        (at least 6 characters, as the CLI prints 8)."""
        if re.fullmatch(r"[0-9a-f]{6,31}", run_id):
            # Ids are hex: every id with this prefix sorts in [prefix, prefix+"g").
            sql = f"SELECT {_RUN_COLUMNS} FROM runs WHERE id >= ? AND id < ? LIMIT 2"
            arguments: tuple[str, ...] = (run_id, run_id + "g")
        else:
            sql = f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?"
            arguments = (run_id,)
        rows = self._run(lambda connection: _read_runs(connection, sql, arguments))
        if not rows:
            raise UnknownRunError(f"no run {run_id!r} in {self.location}")
        if len(rows) > 1:
            raise UnknownRunError(
                f"{run_id!r} starts more than one run id in {self.location}; "
                "give more of it"
            )
        return rows[0]

    def find(self, query: Query) -> list[Run]:
        clauses, arguments = _conditions(query, "")
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        order = "ASC" if query.oldest_first else "DESC"
        sql = (
            f"SELECT {_RUN_COLUMNS} FROM runs{where}"
            f" ORDER BY created_at {order}, seq {order} LIMIT ?"
        )
        arguments.append(-1 if query.limit is None else query.limit)
        found = self._run(lambda connection: _read_runs(connection, sql, arguments))
        return found or []

    def best(self, metric: str, higher_is_better: bool, query: Query) -> Run:
        sql, arguments = best_run_sql(metric, higher_is_better, query)
        found = self._run(lambda connection: _read_runs(connection, sql, arguments))
        if found:
            return found[0]

        known = self._run(
            lambda connection: [
                key
                for (key,) in connection.execute(
                    "SELECT DISTINCT key FROM metrics ORDER BY key"
                )
            ]
        )
        logged = f"; metrics logged: {', '.join(known)}" if known else ""
        among = " matching the filters" if _has_filters(query) else ""
        raise UnknownMetricError(
            f"no run{among} in {self.location} has metric {metric!r}{logged}"
        )

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                if self._pid == os.getpid():
                    self._connection.close()
                else:
                    _INHERITED.append(self._connection)
            self._connection = None

    def _run(
        self, operation: Callable[[sqlite3.Connection], _T], *, create: bool = False
    ) -> _T | None:
        """``operation`` on the open database, retried while the file is busy;
        None without calling it when reading a file that does not exist."""
        attempt, delay = 1, 0.005
        with self._lock:
            while True:
                try:
                    connection = self._connect(create)
                    return None if connection is None else operation(connection)
                except sqlite3.OperationalError as error:
                    if not _is_busy(error):
                        raise
                    if attempt >= self.retries:
                        raise RuntimeError(
                            f"{self.location} stayed locked by other writers"
                            f" ({attempt} tries): {error}"
                        ) from error
                    log.debug("%s busy (try %d): %s", self.location, attempt, error)
                    time.sleep(delay * random.uniform(0.5, 1.5))
                    attempt, delay = attempt + 1, min(delay * 2, 1.0)

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        if self._connection is not None:
            if self._pid == os.getpid():
                return self._connection
            _INHERITED.append(self._connection)
            self._connection = None
        if not create and not self.path.exists():
            return None

        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path,
            timeout=self.timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            _prepare(connection, self.location)
        except BaseException:
            connection.close()
            raise
        self._connection, self._pid = connection, os.getpid()
        return connection


def best_run_sql(
    metric: str, higher_is_better: bool, query: Query
) -> tuple[str, tuple[Any, ...]]:
    """The SQLite query for the best run: it walks ``metrics_by_value`` in order."""
    clauses, arguments = _conditions(query, "r.")
    where = " AND ".join(["m.key = ?", *clauses])
    direction = "DESC" if higher_is_better else "ASC"
    columns = ", ".join(f"r.{column.strip()}" for column in _RUN_COLUMNS.split(","))
    sql = (
        f"SELECT {columns} FROM metrics AS m JOIN runs AS r ON r.seq = m.run"
        f" WHERE {where} ORDER BY m.value {direction}, m.run ASC LIMIT 1"
    )
    return sql, (metric, *arguments)


def _conditions(query: Query, prefix: str) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    arguments: list[Any] = []
    if query.name is not None:
        clauses.append(f"{prefix}name = ?")
        arguments.append(query.name)
    if query.dataset is not None:
        clauses.append(f"{prefix}dataset = ?")
        arguments.append(query.dataset)
    if query.since is not None:
        clauses.append(f"{prefix}created_at >= ?")
        arguments.append(_format_time(query.since))
    for key, value in query.tags.items():
        clauses.append(
            f"{prefix}seq IN (SELECT run FROM tags WHERE key = ? AND value = ?)"
        )
        arguments.extend((key, value))
    return clauses, arguments


def _has_filters(query: Query) -> bool:
    return bool(query.name or query.dataset or query.tags or query.since)


def _prepare(connection: sqlite3.Connection, location: str) -> None:
    """Check the schema version, create or migrate the schema, set pragmas."""
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as error:
        if _is_busy(error):
            raise
        raise SchemaError(f"{location} is not a tracking database: {error}") from error
    _check_version(version, location)

    # WAL is a property of the file: set once, it stays for every connection.
    connection.execute("PRAGMA journal_mode = WAL")
    # A run reported as logged survives a power cut: one fsync per run, which
    # costs far less than the training that produced it.
    connection.execute("PRAGMA synchronous = FULL")
    if version == SCHEMA_VERSION:
        return

    with _transaction(connection):
        # Another process may have created the schema while this one waited.
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        _check_version(version, location)
        if version == 0:
            foreign = connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' LIMIT 1"
            ).fetchone()
            if foreign is not None:
                raise SchemaError(
                    f"{location} holds other tables ({foreign[0]}) and no tracking"
                    " schema; point tracking.uri at a new file"
                )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _MIGRATIONS[target]:
                connection.execute(statement)
            log.info("%s: tracking schema now at version %d", location, target)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _check_version(version: int, location: str) -> None:
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"{location} has tracking schema version {version}, newer than the"
            f" {SCHEMA_VERSION} this package reads; upgrade the package to use it"
        )


@contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    # IMMEDIATE takes the write lock up front, where SQLite's busy handler
    # waits for it, instead of failing later on a lock upgrade.
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _is_busy(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    message = str(error)
    return "locked" in message or "busy" in message


def _read_runs(
    connection: sqlite3.Connection, sql: str, arguments: Sequence[Any]
) -> list[Run]:
    rows = connection.execute(sql, tuple(arguments)).fetchall()
    seqs = [row[0] for row in rows]
    metrics: dict[int, dict[str, float]] = {seq: {} for seq in seqs}
    tags: dict[int, dict[str, str]] = {seq: {} for seq in seqs}
    for start in range(0, len(seqs), _CHUNK):
        chunk = seqs[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        for table, into in (("metrics", metrics), ("tags", tags)):
            for seq, key, value in connection.execute(
                f"SELECT run, key, value FROM {table} WHERE run IN ({marks})"
                " ORDER BY run, key",
                chunk,
            ):
                into[seq][key] = value

    runs = []
    for seq, run_id, name, created_at, dataset, commit, dirty, params in rows:
        runs.append(
            Run(
                id=run_id,
                name=name,
                created_at=_parse_time(created_at),
                dataset=dataset,
                git_commit=commit,
                git_dirty=None if dirty is None else bool(dirty),
                params=json.loads(params),
                metrics=metrics[seq],
                tags=tags[seq],
            )
        )
    return runs


# ------------------------------------------------------------------ MLflow

# MLflow's limits on one log_batch call.
_MLFLOW_PARAMS_PER_BATCH = 100
_MLFLOW_METRICS_PER_BATCH = 1000


class MLflowStore:
    """Runs on an MLflow tracking server, in one experiment (created if needed).

    Params are sent as text (JSON for anything but a string) and decoded when
    read back. The dataset and git state travel as tags; the commit uses
    MLflow's own ``mlflow.source.git.commit``, so MLflow's UI shows it.
    """

    def __init__(self, uri: str, experiment: str = "default"):
        try:
            from mlflow.tracking import MlflowClient
        except ImportError as error:
            raise RuntimeError(
                "tracking.backend is mlflow but mlflow is not installed;"
                " install the project's extra: pip install -e '.[mlflow]'"
            ) from error
        # MLflow prints each finished run's URL to stdout; library code does
        # not print (the URL is logged instead). An explicit setting wins.
        os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
        self.uri = uri
        self.experiment = experiment
        self.location = f"{uri} (experiment {experiment!r})"
        self.client = MlflowClient(tracking_uri=uri)
        self._experiment_id: str | None = None

    def add(self, run: Run) -> str:
        from mlflow.entities import Metric, Param

        millis = _millis(run.created_at)
        tags = dict(run.tags)
        if run.dataset is not None:
            tags[DATASET_TAG] = run.dataset
        if run.git_commit is not None:
            tags[MLFLOW_GIT_COMMIT_TAG] = run.git_commit
        if run.git_dirty is not None:
            tags[GIT_DIRTY_TAG] = "true" if run.git_dirty else "false"
        params = [Param(key, _param_text(value)) for key, value in run.params.items()]
        metrics = [Metric(key, value, millis, 0) for key, value in run.metrics.items()]

        with self._errors():
            experiment_id = self._experiment(create=True)
            run_id = self.client.create_run(
                experiment_id, start_time=millis, tags=tags, run_name=run.name
            ).info.run_id
            try:
                for start in range(0, len(params), _MLFLOW_PARAMS_PER_BATCH):
                    chunk = params[start : start + _MLFLOW_PARAMS_PER_BATCH]
                    self.client.log_batch(run_id, params=chunk)
                for start in range(0, len(metrics), _MLFLOW_METRICS_PER_BATCH):
                    chunk = metrics[start : start + _MLFLOW_METRICS_PER_BATCH]
                    self.client.log_batch(run_id, metrics=chunk)
            except BaseException:
                # Leave a visible record of the half-logged run, not a "running" one.
                self.client.set_terminated(run_id, "FAILED")
                raise
            self.client.set_terminated(run_id, "FINISHED", end_time=millis)
        log.info(
            "MLflow run: %s/#/experiments/%s/runs/%s", self.uri, experiment_id, run_id
        )
        return run_id

    def get(self, run_id: str) -> Run:
        with self._errors(missing=run_id):
            return _from_mlflow(self.client.get_run(run_id))

    def find(self, query: Query) -> list[Run]:
        order = "ASC" if query.oldest_first else "DESC"
        return self._search(query, [f"attributes.start_time {order}"], query.limit)

    def best(self, metric: str, higher_is_better: bool, query: Query) -> Run:
        # MLflow sorts runs without the metric last, whatever the direction.
        order = [
            f"metrics.`{metric}` {'DESC' if higher_is_better else 'ASC'}",
            "attributes.start_time ASC",
        ]
        found = self._search(query, order, 1)
        if not found or metric not in found[0].metrics:
            among = " matching the filters" if _has_filters(query) else ""
            raise UnknownMetricError(
                f"no run{among} in {self.location} has metric {metric!r}"
            )
        return found[0]

    def close(self) -> None:
        """Nothing to release: the client holds no connection between calls."""

    def _search(
        self, query: Query, order_by: list[str], limit: int | None
    ) -> list[Run]:
        with self._errors():
            experiment_id = self._experiment(create=False)
            if experiment_id is None:
                return []
            found: list[Run] = []
            token = None
            while limit is None or len(found) < limit:
                wanted = 50_000 if limit is None else min(limit - len(found), 50_000)
                page = self.client.search_runs(
                    [experiment_id],
                    filter_string=_mlflow_filter(query),
                    max_results=wanted,
                    order_by=order_by,
                    page_token=token,
                )
                found.extend(_from_mlflow(run) for run in page)
                token = page.token
                if not token:
                    break
        return found

    def _experiment(self, *, create: bool) -> str | None:
        if self._experiment_id is None:
            experiment = self.client.get_experiment_by_name(self.experiment)
            if experiment is not None:
                self._experiment_id = experiment.experiment_id
            elif create:
                self._experiment_id = self._create_experiment()
        return self._experiment_id

    def _create_experiment(self) -> str:
        from mlflow.exceptions import MlflowException

        try:
            return self.client.create_experiment(self.experiment)
        except MlflowException as error:
            # Another process created it between our lookup and our create.
            if error.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            return self.client.get_experiment_by_name(self.experiment).experiment_id

    @contextmanager
    def _errors(self, missing: str | None = None) -> Iterator[None]:
        """MLflow's errors as one line naming the server; a missing run as
        UnknownRunError."""
        from mlflow.exceptions import MlflowException

        try:
            yield
        except MlflowException as error:
            if missing is not None and error.error_code == "RESOURCE_DOES_NOT_EXIST":
                raise UnknownRunError(
                    f"no run {missing!r} in {self.location}"
                ) from error
            first_line = str(error.message).strip().splitlines()[0]
            raise RuntimeError(f"MLflow at {self.uri}: {first_line}") from error


def _from_mlflow(found: Any) -> Run:
    tags = dict(found.data.tags)
    dirty = tags.get(GIT_DIRTY_TAG)
    return Run(
        id=found.info.run_id,
        name=found.info.run_name or None,
        created_at=datetime.fromtimestamp(found.info.start_time / 1000, timezone.utc),
        dataset=tags.get(DATASET_TAG),
        params={key: _param_value(text) for key, text in found.data.params.items()},
        metrics=dict(found.data.metrics),
        tags={
            key: value
            for key, value in sorted(tags.items())
            if not _is_reserved_tag(key)
        },
        git_commit=tags.get(MLFLOW_GIT_COMMIT_TAG),
        git_dirty=None if dirty is None else dirty == "true",
    )


def _mlflow_filter(query: Query) -> str:
    clauses = []
    if query.name is not None:
        clauses.append(f"attributes.run_name = {_quoted(query.name)}")
    if query.dataset is not None:
        clauses.append(f"tags.`{DATASET_TAG}` = {_quoted(query.dataset)}")
    if query.since is not None:
        clauses.append(f"attributes.start_time >= {_millis(query.since)}")
    for key, value in query.tags.items():
        clauses.append(f"tags.`{key}` = {_quoted(value)}")
    return " AND ".join(clauses)


def _quoted(value: str) -> str:
    for quote in ("'", '"'):
        if quote not in value:
            return f"{quote}{value}{quote}"
    raise ValueError(
        f"MLflow cannot search for a value with both quote kinds: {value!r}"
    )


def _param_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, allow_nan=False)


def _param_value(text: str) -> Any:
    # Params go to MLflow as text: JSON for everything but strings. A string
    # that happens to read as JSON (e.g. "1e-3") comes back as its JSON value.
    try:
        return json.loads(text)
    except ValueError:
        return text


def _millis(moment: datetime) -> int:
    return round(_utc(moment).timestamp() * 1000)


# -------------------------------------------------------------- validation


def _check_key(kind: str, key: object) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise ValueError(
            f"{kind} name {key!r} must be 1-250 letters, digits, spaces or _ - . : /"
        )
    return key


def _is_reserved_tag(key: str) -> bool:
    return key in (DATASET_TAG, GIT_DIRTY_TAG) or key.startswith("mlflow.")


def _plain(value: Any) -> Any:
    """JSON fallback for values json does not know: numpy scalars, arrays, paths."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _checked_params(params: Mapping[str, Any]) -> dict[str, Any]:
    checked = {}
    for key, value in params.items():
        _check_key("param", key)
        try:
            checked[key] = json.loads(
                json.dumps(value, default=_plain, allow_nan=False)
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"param {key!r} cannot be stored: {error}") from error
    return checked


def _checked_metrics(metrics: Mapping[str, float]) -> dict[str, float]:
    checked = {}
    for key, value in metrics.items():
        _check_key("metric", key)
        # Any real number: float, int, numpy scalars, a 0-d tensor; not text.
        if isinstance(value, (bool, str, bytes)) or not hasattr(value, "__float__"):
            raise ValueError(f"metric {key!r} must be a number, not {value!r}")
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"metric {key!r} must be finite, not {value!r}")
        checked[key] = number
    return checked


def _checked_tags(tags: Mapping[str, str], *, user: bool = True) -> dict[str, str]:
    checked = {}
    for key, value in tags.items():
        _check_key("tag", key)
        if user and _is_reserved_tag(key):
            raise ValueError(
                f"tag {key!r} is reserved: pass dataset= for the dataset; git state"
                " and mlflow.* tags are recorded by the tracker"
            )
        if not isinstance(value, str):
            raise ValueError(f"tag {key!r} must be text, not {value!r}")
        checked[key] = value
    return checked


def _checked_text(kind: str, value: str | None) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError(f"{kind} must be non-empty text, not {value!r}")
    return value


# -------------------------------------------------------------------- time


def _now() -> datetime:
    # Milliseconds: the precision MLflow keeps, so both stores agree.
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


def _format_time(moment: datetime) -> str:
    return _utc(moment).strftime(_TIME_FORMAT)


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=timezone.utc)
