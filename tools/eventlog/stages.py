"""Per-stage-attempt task aggregation: raw rows while the stage runs, quantiles after.

Successful tasks become fixed-width float64 rows, built column-wise per decoded batch;
when the stage completes (or the log ends) the rows become quantiles, per-executor
sums and a duration sample, and the array is dropped. Failed and killed tasks are
rare and are counted directly.
"""

from __future__ import annotations

from collections import Counter
import struct
from collections.abc import Iterable, Iterator
from itertools import chain
from operator import attrgetter

import msgspec
import numpy as np
from msgspec.structs import astuple

from tools.eventlog.events import ABSENT, ExecutorMetricsPeaks, TaskEnd, TaskEndReason, TaskMetrics
from tools.eventlog.model import TaskMetricDistributions

DURATION_SAMPLE_SIZE = 512

# Row layout: the TaskMetricDistributions fields in order, then executor peaks (not distributions).
DISTRIBUTION_FIELDS = tuple(TaskMetricDistributions.model_fields)
PEAK_FIELDS = ("peak_jvm_heap_bytes", "peak_jvm_offheap_bytes", "peak_execution_memory_bytes",
               "peak_python_memory_bytes", "peak_rss_bytes")
ROW_WIDTH = len(DISTRIBUTION_FIELDS) + len(PEAK_FIELDS)
COL = {name: i for i, name in enumerate(DISTRIBUTION_FIELDS)}  # executor peaks follow, by position
# Executor totals summed from the rows: ExecutorProfile field -> row column.
EXECUTOR_SUMS = {
    "task_time_ms": COL["duration_ms"],
    "gc_time_ms": COL["jvm_gc_time_ms"],
    "input_bytes": COL["input_bytes"],
    "shuffle_read_bytes": COL["shuffle_read_bytes"],
    "shuffle_write_bytes": COL["shuffle_write_bytes"],
    "memory_bytes_spilled": COL["memory_bytes_spilled"],
    "disk_bytes_spilled": COL["disk_bytes_spilled"],
}


ABSENT_PEAKS = ABSENT[ExecutorMetricsPeaks]
# TaskMetrics float fields (dotted paths into the nested groups) -> the distribution column each fills.
METRIC_COLUMNS = {
    "deserialize_ms": "executor_deserialize_time_ms",
    "run_ms": "executor_run_time_ms",
    "cpu_ns": "executor_cpu_time_ms",
    "peak_execution_memory": "peak_execution_memory_bytes",
    "result_size": "result_size_bytes",
    "gc_ms": "jvm_gc_time_ms",
    "result_serialization_ms": "result_serialization_time_ms",
    "memory_spilled": "memory_bytes_spilled",
    "disk_spilled": "disk_bytes_spilled",
    "shuffle_read.remote_bytes_read": "shuffle_remote_bytes_read",
    "shuffle_read.fetch_wait_ms": "shuffle_fetch_wait_ms",
    "shuffle_read.records_read": "shuffle_read_records",
    "shuffle_write.bytes_written": "shuffle_write_bytes",
    "shuffle_write.write_time_ns": "shuffle_write_time_ms",
    "shuffle_write.records_written": "shuffle_write_records",
    "input.bytes_read": "input_bytes",
    "input.records_read": "input_records",
    "output.bytes_written": "output_bytes",
    "output.records_written": "output_records",
}
_LOCAL_READ = "shuffle_read.local_bytes_read"  # added to remote bytes for shuffle_read_bytes


def _is_struct(kind: object) -> bool:
    return isinstance(kind, type) and issubclass(kind, msgspec.Struct)


def _float_paths(struct_type: type, prefix: str = "") -> list[str]:
    out = []
    for info in msgspec.structs.fields(struct_type):
        out += _float_paths(info.type, f"{prefix}{info.name}.") if _is_struct(info.type) else [prefix + info.name]
    return out


def _sentinel(struct_type: type, values: Iterator[float]) -> msgspec.Struct:
    return struct_type(**{info.name: _sentinel(info.type, values) if _is_struct(info.type) else next(values)
                          for info in msgspec.structs.fields(struct_type)})


def _msgpack_layout() -> np.dtype:
    """Where each float of a TaskMetrics sits in its msgpack encoding (a fixed-size record: all fields are float64)."""
    paths = _float_paths(TaskMetrics)
    values = [1000.0 + i + 0.5**20 for i in range(len(paths))]
    encoded = _ENCODE(_sentinel(TaskMetrics, iter(values)))
    offsets = [encoded.index(struct.pack(">d", v)) for v in values]
    return np.dtype({"names": paths, "formats": [">f8"] * len(paths), "offsets": offsets, "itemsize": len(encoded)})


_ENCODE = msgspec.msgpack.Encoder().encode
_LAYOUT = _msgpack_layout()
_METRIC_PATHS = attrgetter(*_LAYOUT.names)


def metric_records(metrics: list[TaskMetrics]) -> np.ndarray:
    """The TaskMetrics floats of a batch as a structured array, without a Python step per value.

    Every field is a float, so msgspec encodes each task as the same fixed-size msgpack record and
    numpy reads the values straight out of the one encoded batch. Should the size ever differ from
    the expected one, the values are collected attribute by attribute instead.
    """
    n = len(metrics)
    encoded = _ENCODE(metrics)
    head = len(encoded) - n * _LAYOUT.itemsize  # the msgpack array header: 1, 3 or 5 bytes
    if head in (1, 3, 5) and (head == 1 or int.from_bytes(encoded[1:head], "big") == n):
        return np.frombuffer(encoded, dtype=_LAYOUT, offset=head)
    return metric_records_by_attribute(metrics)


def metric_records_by_attribute(metrics: list[TaskMetrics]) -> np.ndarray:
    """The same structured array as `metric_records`, one attribute at a time (the fallback)."""
    values = _matrix(map(_METRIC_PATHS, metrics), len(metrics), len(_LAYOUT.names))
    return np.rec.fromarrays(values.T, names=list(_LAYOUT.names))


def _matrix(rows: Iterable[tuple[float, ...]], n: int, width: int) -> np.ndarray:
    return np.fromiter(chain.from_iterable(rows), dtype=np.float64, count=n * width).reshape(n, width)


def _column(items: list, name: str) -> np.ndarray:
    return np.fromiter(map(attrgetter(name), items), dtype=np.float64, count=len(items))


def task_block(tasks: list[TaskEnd]) -> np.ndarray:
    """Successful tasks (all with Task Info and Task Metrics) as an (n, ROW_WIDTH) array in COL order."""
    n = len(tasks)
    block = np.full((n, ROW_WIDTH), np.nan)  # every column is written below; NaN if one is ever missed
    records = metric_records(list(map(attrgetter("metrics"), tasks)))
    for path, name in METRIC_COLUMNS.items():
        block[:, COL[name]] = records[path]
    block[:, COL["shuffle_read_bytes"]] = records["shuffle_read.remote_bytes_read"] + records[_LOCAL_READ]
    block[:, COL["executor_cpu_time_ms"]] /= 1e6  # ns
    block[:, COL["shuffle_write_time_ms"]] /= 1e6  # ns
    infos = list(map(attrgetter("info"), tasks))
    launch, finish, getting_start = (_column(infos, name) for name in ("launch_time", "finish_time", "getting_result_time"))
    finish[finish == 0] = np.nan
    duration = finish - launch
    block[:, COL["duration_ms"]] = duration
    run = block[:, COL["executor_run_time_ms"]]
    getting = np.where(getting_start > 0, finish - getting_start, 0.0)
    delay = (duration - np.nan_to_num(run) - np.nan_to_num(block[:, COL["executor_deserialize_time_ms"]])
             - np.nan_to_num(block[:, COL["result_serialization_time_ms"]]) - getting)
    block[:, COL["scheduler_delay_ms"]] = np.where(np.isnan(run), np.nan, np.maximum(delay, 0.0))
    base = len(DISTRIBUTION_FIELDS)
    executor_metrics = list(map(attrgetter("executor_metrics"), tasks))
    absent = executor_metrics.count(None)  # not in this log (before Spark 3)
    if absent == n:
        block[:, base:] = np.nan
        return block
    if absent:
        executor_metrics = [ABSENT_PEAKS if m is None else m for m in executor_metrics]
    peaks = _matrix(map(astuple, executor_metrics), n, 6)  # heap, off-heap, on/off-heap execution, rss, python
    block[:, base] = peaks[:, 0]
    block[:, base + 1] = peaks[:, 1]
    block[:, base + 2] = peaks[:, 2] + peaks[:, 3]
    block[:, base + 3] = peaks[:, 5]
    block[:, base + 4] = peaks[:, 4]
    return block


def failure_class(reason: TaskEndReason | None) -> str:
    """A short, countable class for why a task attempt did not succeed."""
    if reason is None:
        return "UnknownReason"
    kind = reason.reason or "UnknownReason"
    text = " ".join(x for x in (reason.class_name, reason.description, reason.loss_reason, reason.kill_reason) if x)
    if "java.lang.OutOfMemoryError" in text or (reason.class_name or "").endswith("OutOfMemoryError"):
        return "OOM"
    if kind == "ExceptionFailure":
        return f"ExceptionFailure:{reason.class_name or 'unknown'}"
    if kind == "ExecutorLostFailure" and "exceeding memory limits" in text:
        return "ExecutorLostFailure:MemoryLimitExceeded"
    return kind


QUANTILE_POINTS = np.array([0.0, 0.25, 0.5, 0.75, 0.95, 1.0])


def _quantiles(ordered: np.ndarray, counts: np.ndarray) -> list[list[float]]:
    """Per row, linear-interpolated quantiles (numpy's default method) of its first `count` sorted values."""
    last = np.maximum(counts - 1, 0)
    position = last[:, None] * QUANTILE_POINTS[None, :]
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, last[:, None])
    fraction = position - low
    rows = np.arange(ordered.shape[0])[:, None]
    with np.errstate(invalid="ignore"):
        values = ordered[rows, low] * (1 - fraction) + ordered[rows, high] * fraction
    return values.tolist()


class StageTasks:
    """Task aggregation for one stage attempt."""

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []  # (n, ROW_WIDTH) rows of successful tasks, until finalized
        self.code_blocks: list[np.ndarray] = []  # executor code per row
        self.succeeded = 0
        self.failed = 0
        self.killed = 0
        self.speculative = 0
        self.failure_reasons: Counter[str] = Counter()
        self.failure_time_ms: Counter[str] = Counter()
        self.late_task_time_by_executor: Counter[str] = Counter()
        self.distributions = TaskMetricDistributions()
        self.duration_sample: list[float] = []
        self.task_time_by_executor: dict[str, float] = {}
        self.finalized = False

    def quantiles_and_sums(self, executor_names: list[str]) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Finalize: distributions, duration sample, per-executor time; returns (rows, codes) for executor totals."""
        if self.finalized:
            return None, None
        self.finalized = True
        blocks, code_blocks = self.blocks, self.code_blocks
        self.blocks, self.code_blocks = [], []
        if not blocks:
            return None, None
        rows = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
        codes = np.concatenate(code_blocks) if len(code_blocks) > 1 else code_blocks[0]
        metrics = rows[:, : len(DISTRIBUTION_FIELDS)]
        # one row per metric, sorted (NaN = not measured sorts last); contiguous rows sort fast
        ordered = np.sort(np.ascontiguousarray(metrics.T), axis=1)
        counts = (~np.isnan(ordered)).sum(axis=1)
        sums = np.nansum(ordered, axis=1)
        qs = _quantiles(ordered, counts)
        self.distributions = TaskMetricDistributions.model_validate({  # one validation pass in pydantic-core
            name: {"count": int(counts[i]), "sum": float(sums[i]), "min": qs[i][0], "p25": qs[i][1],
                   "median": qs[i][2], "p75": qs[i][3], "p95": qs[i][4], "max": qs[i][5]}
            for i, name in enumerate(DISTRIBUTION_FIELDS) if counts[i]
        })
        durations = ordered[COL["duration_ms"], : int(counts[COL["duration_ms"]])]
        if durations.size:
            idx = np.linspace(0, durations.size - 1, min(durations.size, DURATION_SAMPLE_SIZE)).round().astype(int)
            idx = idx[np.r_[True, idx[1:] != idx[:-1]]]  # ascending already: drop repeats without np.unique's hashing
            self.duration_sample = durations[idx].tolist()
        by_exec = np.bincount(codes, weights=np.nan_to_num(metrics[:, COL["duration_ms"]]), minlength=len(executor_names))
        for code in np.flatnonzero(np.bincount(codes)):
            self.task_time_by_executor[executor_names[code]] = float(by_exec[code])
        for executor_id, ms in self.late_task_time_by_executor.items():
            self.task_time_by_executor[executor_id] = self.task_time_by_executor.get(executor_id, 0.0) + ms
        return rows, codes


def decode_rows_per_executor(rows: np.ndarray, codes: np.ndarray, n_executors: int) -> dict[str, np.ndarray]:
    """Per-executor sums, task counts and peaks of a finalized stage's rows."""
    out: dict[str, np.ndarray] = {"task_count": np.bincount(codes, minlength=n_executors)}
    summed = rows[:, list(EXECUTOR_SUMS.values())]
    summed[np.isnan(summed)] = 0.0  # a copy (fancy indexing): not measured adds nothing
    for i, field_name in enumerate(EXECUTOR_SUMS):
        out[field_name] = np.bincount(codes, weights=summed[:, i], minlength=n_executors)
    base = len(DISTRIBUTION_FIELDS)
    for i, field_name in enumerate(PEAK_FIELDS):
        column = rows[:, base + i]
        if np.isnan(column).all():
            continue
        peaks = np.full(n_executors, -1.0)
        np.fmax.at(peaks, codes, column)
        out[field_name] = peaks
    return out
