"""Per-stage-attempt task aggregation: raw rows while the stage runs, quantiles after.

Successful tasks become fixed-width float64 rows, built column-wise per decoded batch;
when the stage completes (or the log ends) the rows become quantiles, per-executor
sums and a duration sample, and the array is dropped. Failed and killed tasks are
rare and are counted directly.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from tools.eventlog.events import TaskEnd, TaskEndReason
from tools.eventlog.model import Quantiles, TaskMetricDistributions

NAN = math.nan
DURATION_SAMPLE_SIZE = 512

# Row layout: the TaskMetricDistributions fields in order, then executor peaks (not distributions).
DISTRIBUTION_FIELDS = tuple(TaskMetricDistributions.model_fields)
PEAK_FIELDS = ("peak_jvm_heap_bytes", "peak_jvm_offheap_bytes", "peak_execution_memory_bytes",
               "peak_python_memory_bytes", "peak_rss_bytes")
ROW_WIDTH = len(DISTRIBUTION_FIELDS) + len(PEAK_FIELDS)
COL = {name: i for i, name in enumerate(DISTRIBUTION_FIELDS + PEAK_FIELDS)}
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


def _column(values: list) -> np.ndarray:
    return np.array(values, dtype=np.float64)  # None -> NaN


def task_block(tasks: list[TaskEnd]) -> np.ndarray:
    """Successful tasks (all with Task Info and Task Metrics) as an (n, ROW_WIDTH) array in COL order."""
    n = len(tasks)
    block = np.empty((n, ROW_WIDTH), dtype=np.float64)
    infos = [t.info for t in tasks]
    ms = [t.metrics for t in tasks]
    launch = _column([i.launch_time for i in infos])
    finish = _column([i.finish_time or None for i in infos])
    getting_start = _column([i.getting_result_time for i in infos])
    duration = finish - launch
    getting = np.where(getting_start > 0, finish - getting_start, 0.0)
    run = _column([m.run_ms for m in ms])
    deserialize = _column([m.deserialize_ms for m in ms])
    serialize = _column([m.result_serialization_ms for m in ms])
    block[:, COL["duration_ms"]] = duration
    block[:, COL["executor_run_time_ms"]] = run
    block[:, COL["executor_cpu_time_ms"]] = _column([m.cpu_ns for m in ms]) / 1e6
    block[:, COL["executor_deserialize_time_ms"]] = deserialize
    block[:, COL["jvm_gc_time_ms"]] = _column([m.gc_ms for m in ms])
    block[:, COL["result_serialization_time_ms"]] = serialize
    delay = duration - np.nan_to_num(run) - np.nan_to_num(deserialize) - np.nan_to_num(serialize) - getting
    block[:, COL["scheduler_delay_ms"]] = np.where(np.isnan(run), np.nan, np.maximum(delay, 0.0))
    inp = [m.input for m in ms]
    block[:, COL["input_bytes"]] = _column([None if x is None else x.bytes_read for x in inp])
    block[:, COL["input_records"]] = _column([None if x is None else x.records_read for x in inp])
    out = [m.output for m in ms]
    block[:, COL["output_bytes"]] = _column([None if x is None else x.bytes_written for x in out])
    block[:, COL["output_records"]] = _column([None if x is None else x.records_written for x in out])
    sr = [m.shuffle_read for m in ms]
    remote = _column([None if x is None else x.remote_bytes_read for x in sr])
    block[:, COL["shuffle_read_bytes"]] = remote + _column([None if x is None else x.local_bytes_read for x in sr])
    block[:, COL["shuffle_read_records"]] = _column([None if x is None else x.records_read for x in sr])
    block[:, COL["shuffle_remote_bytes_read"]] = remote
    block[:, COL["shuffle_fetch_wait_ms"]] = _column([None if x is None else x.fetch_wait_ms for x in sr])
    sw = [m.shuffle_write for m in ms]
    block[:, COL["shuffle_write_bytes"]] = _column([None if x is None else x.bytes_written for x in sw])
    block[:, COL["shuffle_write_records"]] = _column([None if x is None else x.records_written for x in sw])
    block[:, COL["shuffle_write_time_ms"]] = _column([None if x is None else x.write_time_ns for x in sw]) / 1e6
    block[:, COL["memory_bytes_spilled"]] = _column([m.memory_spilled for m in ms])
    block[:, COL["disk_bytes_spilled"]] = _column([m.disk_spilled for m in ms])
    block[:, COL["peak_execution_memory_bytes"]] = _column([m.peak_execution_memory for m in ms])
    block[:, COL["result_size_bytes"]] = _column([m.result_size for m in ms])
    em = [t.executor_metrics for t in tasks]
    base = len(DISTRIBUTION_FIELDS)
    if all(x is None for x in em):
        block[:, base:] = np.nan
    else:
        block[:, base] = _column([None if x is None else x.jvm_heap for x in em])
        block[:, base + 1] = _column([None if x is None else x.jvm_offheap for x in em])
        block[:, base + 2] = _column([None if x is None else x.onheap_execution + x.offheap_execution for x in em])
        block[:, base + 3] = _column([None if x is None else x.python_rss for x in em])
        block[:, base + 4] = _column([None if x is None else x.jvm_rss for x in em])
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
    """Per column, linear-interpolated quantiles (numpy's default method) of its first `count` sorted rows."""
    last = np.maximum(counts - 1, 0)
    position = QUANTILE_POINTS[:, None] * last[None, :]
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, last[None, :])
    fraction = position - low
    columns = np.arange(ordered.shape[1])[None, :]
    with np.errstate(invalid="ignore"):
        values = ordered[low, columns] * (1 - fraction) + ordered[high, columns] * fraction
    return values.T.tolist()


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
        self.late_task_time_by_executor: Counter[str] = Counter()
        self.used_run_ms = 0.0
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
        ordered = np.sort(metrics, axis=0)  # NaN (not measured) sorts last in each column
        counts = (~np.isnan(metrics)).sum(axis=0)
        sums = np.nansum(metrics, axis=0)
        qs = _quantiles(ordered, counts)
        values = {}
        for i, name in enumerate(DISTRIBUTION_FIELDS):
            if counts[i]:
                q = qs[i]
                values[name] = Quantiles(count=int(counts[i]), sum=float(sums[i]), min=q[0], p25=q[1], median=q[2],
                                         p75=q[3], p95=q[4], max=q[5])
        self.distributions = TaskMetricDistributions(**values)
        durations = ordered[: int(counts[COL["duration_ms"]]), COL["duration_ms"]]
        if durations.size:
            idx = np.unique(np.linspace(0, durations.size - 1, min(durations.size, DURATION_SAMPLE_SIZE)).round().astype(int))
            self.duration_sample = durations[idx].tolist()
        run = metrics[:, COL["executor_run_time_ms"]]
        self.used_run_ms += float(np.nansum(run))
        by_exec = np.bincount(codes, weights=np.nan_to_num(metrics[:, COL["duration_ms"]]), minlength=len(executor_names))
        for code in np.unique(codes):
            self.task_time_by_executor[executor_names[code]] = float(by_exec[code])
        for executor_id, ms in self.late_task_time_by_executor.items():
            self.task_time_by_executor[executor_id] = self.task_time_by_executor.get(executor_id, 0.0) + ms
        return rows, codes


def decode_rows_per_executor(rows: np.ndarray, codes: np.ndarray, n_executors: int) -> dict[str, np.ndarray]:
    """Per-executor sums, task counts and peaks of a finalized stage's rows."""
    out: dict[str, np.ndarray] = {"task_count": np.bincount(codes, minlength=n_executors)}
    for field_name, col in EXECUTOR_SUMS.items():
        out[field_name] = np.bincount(codes, weights=np.nan_to_num(rows[:, col]), minlength=n_executors)
    base = len(DISTRIBUTION_FIELDS)
    for i, field_name in enumerate(PEAK_FIELDS):
        column = rows[:, base + i]
        if np.isnan(column).all():
            continue
        peaks = np.full(n_executors, -1.0)
        np.fmax.at(peaks, codes, column)
        out[field_name] = peaks
    return out
