"""Per-stage-attempt task aggregation: raw rows while the stage runs, quantiles after.

Successful tasks append one fixed-width row of metrics to a compact `array('d')`;
when the stage completes (or the log ends) the rows become quantiles, per-executor
sums and a duration sample, and the array is dropped. Failed and killed tasks are
rare and are counted directly.
"""

from __future__ import annotations

import math
import warnings
from array import array
from collections import Counter

import numpy as np

from tools.eventlog.events import TaskEnd, TaskEndReason, TaskMetrics
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
_NO_PEAKS = (NAN,) * len(PEAK_FIELDS)


def task_row(task: TaskEnd) -> tuple[float, ...]:
    """One task as a fixed-width tuple of floats (NaN = not measured), in COL order."""
    info = task.info
    duration = float(info.finish_time - info.launch_time) if info.finish_time else NAN
    m = task.metrics
    if m is None:
        return (duration,) + (NAN,) * (ROW_WIDTH - 1)
    run = _num(m.run_ms)
    deserialize = _num(m.deserialize_ms)
    serialize = _num(m.result_serialization_ms)
    getting = info.finish_time - info.getting_result_time if info.getting_result_time > 0 else 0
    scheduler_delay = max(0.0, duration - run - deserialize - serialize - getting)
    sr = m.shuffle_read
    sw = m.shuffle_write
    inp = m.input
    out = m.output
    em = task.executor_metrics
    peaks = _NO_PEAKS if em is None else (
        em.jvm_heap, em.jvm_offheap, em.onheap_execution + em.offheap_execution, em.python_rss, em.jvm_rss
    )
    return (
        duration,
        run,
        NAN if m.cpu_ns is None else m.cpu_ns / 1e6,
        deserialize,
        _num(m.gc_ms),
        serialize,
        scheduler_delay,
        NAN if inp is None else inp.bytes_read,
        NAN if inp is None or inp.records_read is None else inp.records_read,
        NAN if out is None else out.bytes_written,
        NAN if out is None or out.records_written is None else out.records_written,
        NAN if sr is None else sr.remote_bytes_read + sr.local_bytes_read,
        NAN if sr is None or sr.records_read is None else sr.records_read,
        NAN if sr is None else sr.remote_bytes_read,
        NAN if sr is None else sr.fetch_wait_ms,
        NAN if sw is None else sw.bytes_written,
        NAN if sw is None or sw.records_written is None else sw.records_written,
        NAN if sw is None else sw.write_time_ns / 1e6,
        _num(m.memory_spilled),
        _num(m.disk_spilled),
        _num(m.peak_execution_memory),
        _num(m.result_size),
    ) + peaks


def _num(value: int | float | None) -> float:
    return NAN if value is None else value


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


class StageTasks:
    """Task aggregation for one stage attempt."""

    def __init__(self) -> None:
        self.rows: array | None = array("d")  # ROW_WIDTH floats per successful task
        self.executor_codes: array | None = array("i")  # executor code per successful task
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
        rows_array, codes_array = self.rows, self.executor_codes
        self.rows = self.executor_codes = None
        if not rows_array:
            return None, None
        rows = np.frombuffer(rows_array, dtype=np.float64).reshape(-1, ROW_WIDTH)
        codes = np.frombuffer(codes_array, dtype=np.int32)
        metrics = rows[:, : len(DISTRIBUTION_FIELDS)]
        present = ~np.isnan(metrics)
        counts = present.sum(axis=0)
        sums = np.nansum(metrics, axis=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            qs = np.nanquantile(metrics, [0.0, 0.25, 0.5, 0.75, 0.95, 1.0], axis=0)
        values = {}
        for i, name in enumerate(DISTRIBUTION_FIELDS):
            if counts[i]:
                q = qs[:, i]
                values[name] = Quantiles(
                    count=int(counts[i]), sum=float(sums[i]), min=float(q[0]), p25=float(q[1]),
                    median=float(q[2]), p75=float(q[3]), p95=float(q[4]), max=float(q[5]),
                )
        self.distributions = TaskMetricDistributions(**values)
        durations = np.sort(metrics[:, COL["duration_ms"]][present[:, COL["duration_ms"]]])
        if durations.size:
            idx = np.unique(np.linspace(0, durations.size - 1, min(durations.size, DURATION_SAMPLE_SIZE)).round().astype(int))
            self.duration_sample = [float(x) for x in durations[idx]]
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


def metrics_run_ms(metrics: TaskMetrics | None) -> float:
    return float(metrics.run_ms or 0) if metrics is not None else 0.0
