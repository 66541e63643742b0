"""Performance records of a block of code: time, CPU, memory and throughput.

``monitor`` is both a context manager and a decorator::

    with monitor("predict", count=len(rows)):
        model.predict(rows)

    @monitor("train")
    def train(...): ...

Each measured block appends one JSON line to ``logs/metrics.jsonl`` (the
config's ``monitoring.metrics_path``) and, given a tracker, is logged as a
run there too. Nothing samples in the background: the numbers come from the
clocks and counters the operating system already keeps.
"""

from __future__ import annotations

import functools
import json
import logging
import operator
import os
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TypeVar

from .paths import project_root

log = logging.getLogger(__name__)

DEFAULT_METRICS_PATH = "logs/metrics.jsonl"
# Below a millisecond the CPU and wall clocks tick too coarsely for a ratio.
MIN_CPU_WALL = 0.001
# Record fields handed to a tracker as the run's metrics.
TRACKED_METRICS = (
    "wall_seconds",
    "cpu_seconds",
    "cpu_percent",
    "peak_rss_bytes",
    "count",
    "items_per_second",
)

F = TypeVar("F", bound=Callable[..., Any])


class Tracker(Protocol):
    """Anything that can log a run, such as the project's experiment tracker."""

    def log_run(
        self,
        params: Mapping[str, Any],
        metrics: Mapping[str, float],
        *,
        name: str | None = None,
        dataset: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str: ...


def metrics_path(root: str | os.PathLike[str] | None = None) -> Path:
    """Where records go: the config's ``monitoring.metrics_path`` in the project."""
    from .config import load_config

    project = project_root(root)
    section = load_config(root=project).get("monitoring") or {}
    return project / section.get("metrics_path", DEFAULT_METRICS_PATH)


def read_metrics(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every record of a metrics file, oldest first."""
    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(
                    f"{path}:{number}: not a JSON record ({error})"
                ) from None
    return records


def append_record(path: Path, record: Mapping[str, Any]) -> None:
    """Append ``record`` as one JSON line.

    One ``write`` on a file opened for appending: records from processes
    writing at once land whole, one after the other, never interleaved.
    """
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, allow_nan=False)
    data = (text + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        written = os.write(fd, data)
    finally:
        os.close(fd)
    if written != len(data):
        raise OSError(f"{path}: wrote {written} of {len(data)} bytes of a record")


# Lower case, like contextlib's helpers: it reads as a verb in `with` and `@`.
class monitor:
    """Measure a block or each call of a function, and record the result.

    ``count`` is how many items the block handled (a whole number, zero or
    more), for items per second; a block may also set ``.count`` once it
    knows. A decorated function may take ``count`` as a callable applied to
    its return value (``len``). ``tags`` are text.
    ``path`` overrides the metrics file; ``tracker`` receives successful
    blocks as runs, with ``params``, ``dataset`` and ``tags``. After the
    block, ``.record`` holds what was written.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        count: int | Callable[[Any], int] | None = None,
        path: str | os.PathLike[str] | None = None,
        tracker: Tracker | None = None,
        params: Mapping[str, Any] | None = None,
        dataset: str | None = None,
        tags: Mapping[str, str] | None = None,
        root: str | os.PathLike[str] | None = None,
    ) -> None:
        if not callable(count):
            _checked_count(count)
        for key, value in (tags or {}).items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError(f"tags must be text, got {key!r}: {value!r}")
        self.name = name
        self.count = count
        self.path = path
        self.tracker = tracker
        self.params = dict(params or {})
        self.dataset = dataset
        self.tags = dict(tags or {})
        self.root = root
        self.record: dict[str, Any] | None = None

    def __call__(self, function: F) -> F:
        settings = {
            "name": self.name or function.__qualname__,
            "path": self.path,
            "tracker": self.tracker,
            "params": self.params,
            "dataset": self.dataset,
            "tags": self.tags,
            "root": self.root,
        }
        count = self.count

        @functools.wraps(function)
        def measured(*args: Any, **kwargs: Any) -> Any:
            with monitor(**settings) as measurement:
                result = function(*args, **kwargs)
                measurement.count = count(result) if callable(count) else count
            return result

        return measured  # type: ignore[return-value]

    def __enter__(self) -> monitor:
        if not self.name:
            raise ValueError("monitor needs a name for the block it measures")
        if callable(self.count):
            raise ValueError("a callable count is only for decorated functions")
        self._target = Path(self.path) if self.path else metrics_path(self.root)

        import psutil

        self._process = psutil.Process()
        self._started_at = datetime.now(timezone.utc)
        self._cpu = time.process_time()
        self._wall = time.perf_counter()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        wall = time.perf_counter() - self._wall
        cpu = time.process_time() - self._cpu
        memory = self._process.memory_info()
        try:
            count = _checked_count(self.count)
        except ValueError:
            if kind is None:
                raise
            # Keep the block's own exception; its record goes without a count.
            log.warning("%s: ignoring count %r", self.name, self.count)
            count = None

        record: dict[str, Any] = {
            "name": self.name,
            "started_at": self._started_at.isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"
            ),
            "status": "ok" if kind is None else "error",
            "wall_seconds": round(wall, 6),
            "cpu_seconds": round(cpu, 6),
            "cpu_percent": round(100 * cpu / wall, 1) if wall >= MIN_CPU_WALL else None,
            "rss_bytes": memory.rss,
            "peak_rss_bytes": max(_peak_rss(memory) or 0, memory.rss),
            "pid": os.getpid(),
        }
        if kind is not None:
            record["error"] = kind.__name__
        if count is not None:
            record["count"] = count
            record["items_per_second"] = round(count / wall, 3) if wall else None
        if self.tags:
            record["tags"] = self.tags

        try:
            if self.tracker is not None and kind is None:
                record["run_id"] = self._log_run(record)
        finally:
            self.record = record
            self._write(record, failed=kind is not None)

    def _log_run(self, record: Mapping[str, Any]) -> str:
        metrics = {
            key: record[key] for key in TRACKED_METRICS if record.get(key) is not None
        }
        return self.tracker.log_run(
            self.params,
            metrics,
            name=self.name,
            dataset=self.dataset,
            tags=self.tags or None,
        )

    def _write(self, record: Mapping[str, Any], *, failed: bool) -> None:
        try:
            append_record(self._target, record)
        except OSError:
            # Never hide the block's own exception behind one about its record.
            if not failed:
                raise
            log.exception("could not record %s in %s", self.name, self._target)
        else:
            log.debug("recorded %s", record)


def _checked_count(count: Any) -> int | None:
    """``count`` as an int: a whole number of items, zero or more, or None."""
    if count is None:
        return None
    # __index__: int and numpy's integers, never 2.5; a bool is no count.
    if isinstance(count, bool) or not hasattr(count, "__index__"):
        raise ValueError(f"count must be a whole number of items, not {count!r}")
    number = operator.index(count)
    if number < 0:
        raise ValueError(f"count must be zero or more items, not {number}")
    return number


def _peak_rss(memory: Any) -> int | None:
    """The process's highest resident set size so far, in bytes.

    Operating systems keep this high-water mark for the whole process, not
    per block: a block that raised the peak is the one that set it.
    """
    peak = getattr(memory, "peak_wset", None)  # Windows
    if peak is not None:
        return int(peak)
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux and the BSDs count kibibytes, macOS bytes.
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024
