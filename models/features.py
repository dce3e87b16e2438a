"""Features of one observed run (from its AppProfile) and of a requested configuration change.

A run is summarised by `RunFeatures`: its size (tasks, bytes, task time), its shape
(shuffle stages, joins, windows, sorts, Python UDFs read from the physical plans),
its configuration (shuffle partitions, AQE, broadcast threshold, cores, memory per
core) and what the simulator says it would take on half/double the slots. A pair of
runs (observed -> new) becomes one training row: observed features + config deltas.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
from pydantic import BaseModel, field_validator

from models.plan_joins import join_conversions
from tools.eventlog.master import heap_key
from tools.eventlog.master import task_jvm_role as master_jvm_role
from tools.eventlog.model import (AGGREGATES, AQE_DEFAULT_ON_SINCE, PYTHON_EVALS, SHUFFLED_JOINS, AppProfile,
                                  base_operator, spark_release)
from tools.simulate import observed_resources, simulate
from tools.units import parse_size

_SCALE_IN_NAME = re.compile(r"\bscale=([0-9.]+)")
_SHAPE_IN_NAME = re.compile(r"\bshape=([A-Za-z0-9_]+)")

HOST_PROBE_PROPERTY = "spark.copilot.hostProbeMs"  # written by evals/workloads/shapes.py
DEFAULT_SHUFFLE_PARTITIONS = 200
DEFAULT_BROADCAST_BYTES = 10 * 1024 * 1024
DEFAULT_MEMORY_FRACTION = 0.6
DEFAULT_HEAP_BYTES = 1024**3


class RunFeatures(BaseModel):
    """One run as the model sees it (one row of the feature table)."""

    app_id: str
    workload: str  # runs with the same workload key are comparable (same job, maybe other config/scale)
    scale: float  # relative input size (from `scale=` in the app name, else input bytes, else 1)
    duration_ms: float
    driver_time_ms: float
    executor_time_ms: float
    task_time_ms: float
    jobs: int
    stages: int
    tasks: int
    shuffle_stages: int
    shuffle_read_tasks: int
    max_stage_tasks: int
    mean_task_ms: float
    max_task_skew: float  # largest max/median task duration over stages with >= 4 tasks
    input_bytes: float
    shuffle_read_bytes: float
    shuffle_write_bytes: float
    spill_bytes: float
    gc_time_ms: float
    shuffle_bytes_per_read_task: float
    map_task_ms: float  # task time of stages that read no shuffle (their task count follows the input)
    map_tasks: int
    reduce_task_ms: float  # task time of shuffle-reading stages (their task count follows the partitions)
    reduce_tasks: int
    reduce_stages: int
    task_overhead_ms: float  # fixed cost of one task: the shortest task of the run, capped
    exchanges: int
    broadcast_joins: int
    sort_merge_joins: int
    windows: int
    sorts: int
    python_udfs: int
    aggregates: int
    # joins a broadcast-threshold change could convert (from the SQL plans; see `join_conversions`)
    smj_small_side_bytes: list[float] = []  # per sort-merge join: the smaller side's exchange data size
    smj_shuffle_records: list[float] = []  # per sort-merge join: records both sides' exchanges shuffled
    bhj_input_rows: float = 0.0  # rows into broadcast hash joins (both sides): shuffled if broadcasting stops
    shuffle_records: float = 0.0  # records the run shuffled in all
    # configuration
    shuffle_partitions: int
    aqe_enabled: int
    broadcast_threshold_bytes: float  # <= 0 means broadcast joins off
    executors: int
    cores: int
    memory_per_core_mb: float
    host_probe_ms: float | None = None  # host-load probe recorded by our workload suite (None in other logs)
    cpu_share: float | None = None  # task CPU time / task run time: low when the tasks waited for a CPU
    # simulator on the same run, other slot counts (for core changes)
    sim_duration_ms: float
    sim_half_slots_ms: float
    sim_double_slots_ms: float

    @field_validator("smj_small_side_bytes", "smj_shuffle_records", mode="before")
    @classmethod
    def _list_from_text(cls, value: object) -> object:
        """Feature tables store list fields as JSON text (see `models.dataset.write_table`)."""
        return json.loads(value) if isinstance(value, str) else value


def parse_bytes(value: str | None, default: float | None = None) -> float | None:
    """Spark size strings ('10m', '1g', '512mb', '10485760') to bytes, keeping the sign ('-1' = disabled)."""
    text = str(value).strip() if value is not None else ""
    size = parse_size(text.removeprefix("-"))
    if size is None:
        return default
    return -size if text.startswith("-") else size


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def parse_bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return str(value).strip().lower() in {"true", "1", "yes", "on"}


def aqe_default(spark_version: str | None) -> bool:
    """AQE is on by default since Spark 3.2 (and taken as on when the version is unknown)."""
    release = spark_release(spark_version)
    return release == (0, 0) or release >= AQE_DEFAULT_ON_SINCE


_TREE_OPERATOR = re.compile(r"^[\s:+\-|*]*(?:\(\d+\)\s*)?([A-Z][A-Za-z]+)")
_OPERATORS = {
    "exchanges": ("Exchange",),
    "broadcast_joins": ("BroadcastHashJoin", "BroadcastNestedLoopJoin"),
    "sort_merge_joins": SHUFFLED_JOINS,
    "windows": ("Window", "WindowGroupLimit"),
    "sorts": ("Sort",),
    "python_udfs": PYTHON_EVALS,
    "aggregates": AGGREGATES,
}


def _operator_names(profile: AppProfile) -> list[str]:
    """Physical operators of every SQL execution: plan nodes, else the tree part of the plan text."""
    names: list[str] = []
    for execution in profile.sql_executions:
        if execution.nodes:
            names += [base_operator(n.name.split(" ")[0]) for n in execution.nodes]
            continue
        for line in execution.physical_plan.splitlines():
            if not line.strip():
                if names:
                    break
                continue
            match = _TREE_OPERATOR.match(line)
            if match and not line.startswith("=="):
                names.append(match.group(1))
    return names


def _plan_counts(profile: AppProfile) -> dict[str, int]:
    names = _operator_names(profile)
    return {feature: sum(name in ops for name in names) for feature, ops in _OPERATORS.items()}


def _metric_sum(profile: AppProfile, name: str) -> float:
    total = 0.0
    for s in profile.stages:
        q = getattr(s.metrics, name)
        if q is not None:
            total += q.sum
    return total


def _cpu_share(profile: AppProfile) -> float | None:
    cpu = _metric_sum(profile, "executor_cpu_time_ms")
    run = _metric_sum(profile, "executor_run_time_ms")
    return min(cpu / run, 1.0) if cpu > 0 and run > 0 else None


def workload_key(profile: AppProfile) -> str:
    """Which runs are comparable: `shape=` in the app name (our suite), else the app name."""
    match = _SHAPE_IN_NAME.search(profile.app_name or "")
    return match.group(1) if match else (profile.app_name or profile.app_id)


def task_jvm_role(profile: AppProfile) -> str:
    """Which JVMs run the tasks: "driver" in local mode, else "executor"."""
    return master_jvm_role(profile.master_url)


def heap_property(profile: AppProfile) -> str:
    """The setting that sizes the heap tasks run in (`spark.driver.memory` in local mode)."""
    return heap_key(profile.master_url)


def heap_bytes(profile: AppProfile) -> float:
    """Heap of the JVMs that run the tasks (`heap_property`)."""
    return parse_bytes(profile.property(heap_property(profile)), DEFAULT_HEAP_BYTES) or DEFAULT_HEAP_BYTES


def run_features(profile: AppProfile) -> RunFeatures:
    """The model's view of one observed run."""
    if not profile.duration_ms or profile.duration_ms <= 0:
        from tools.errors import ModelError

        raise ModelError(f"{profile.app_id}: the log has no application duration (incomplete log?)")
    ran = [s for s in profile.stages if s.status != "skipped" and s.metrics.duration_ms is not None]
    tasks = sum(s.metrics.duration_ms.count for s in ran)
    if tasks == 0:
        from tools.errors import ModelError

        raise ModelError(f"{profile.app_id}: no completed tasks with timings; nothing to learn from")
    task_ms = sum(s.metrics.duration_ms.sum for s in ran)
    shuffle_readers = [s for s in ran if s.metrics.shuffle_read_bytes and s.metrics.shuffle_read_bytes.sum > 0]
    shuffle_writers = [s for s in ran if s.metrics.shuffle_write_bytes and s.metrics.shuffle_write_bytes.sum > 0]
    skews = [
        s.metrics.duration_ms.max / max(s.metrics.duration_ms.median, 1.0) for s in ran if s.metrics.duration_ms.count >= 4
    ]
    read_tasks = sum(s.metrics.duration_ms.count for s in shuffle_readers)
    shuffle_read = _metric_sum(profile, "shuffle_read_bytes")
    resources = observed_resources(profile)
    props = profile.spark_properties
    fraction = float(props.get("spark.memory.fraction", DEFAULT_MEMORY_FRACTION))
    scale_match = _SCALE_IN_NAME.search(profile.app_name or "")
    input_bytes = _metric_sum(profile, "input_bytes")
    scale = float(scale_match.group(1)) if scale_match else (input_bytes if input_bytes > 0 else 1.0)
    sim = simulate(profile)
    slots = resources.executors * resources.cores
    half = simulate(profile, 1, max(1, slots // 2)) if slots > 1 else sim
    double = simulate(profile, 1, slots * 2)
    executor_time = float(profile.executor_time_ms if profile.executor_time_ms is not None else sim.executor_time_ms)
    driver_time = float(profile.driver_time_ms if profile.driver_time_ms is not None else sim.driver_time_ms)
    return RunFeatures(
        app_id=profile.app_id,
        workload=workload_key(profile),
        scale=scale,
        duration_ms=float(profile.duration_ms),
        driver_time_ms=driver_time,
        executor_time_ms=executor_time,
        task_time_ms=task_ms,
        jobs=len(profile.jobs),
        stages=len(ran),
        tasks=tasks,
        shuffle_stages=len(shuffle_writers),
        shuffle_read_tasks=read_tasks,
        max_stage_tasks=max((s.metrics.duration_ms.count for s in ran), default=0),
        mean_task_ms=task_ms / tasks if tasks else 0.0,
        max_task_skew=max(skews, default=1.0),
        input_bytes=input_bytes,
        shuffle_read_bytes=shuffle_read,
        shuffle_write_bytes=_metric_sum(profile, "shuffle_write_bytes"),
        spill_bytes=_metric_sum(profile, "memory_bytes_spilled") + _metric_sum(profile, "disk_bytes_spilled"),
        gc_time_ms=_metric_sum(profile, "jvm_gc_time_ms"),
        shuffle_bytes_per_read_task=shuffle_read / read_tasks if read_tasks else 0.0,
        map_task_ms=task_ms - sum(s.metrics.duration_ms.sum for s in shuffle_readers),
        map_tasks=tasks - read_tasks,
        reduce_task_ms=sum(s.metrics.duration_ms.sum for s in shuffle_readers),
        reduce_tasks=read_tasks,
        reduce_stages=len(shuffle_readers),
        task_overhead_ms=min(float(min(s.metrics.duration_ms.min for s in ran)), MAX_TASK_OVERHEAD_MS),
        **_plan_counts(profile),
        **join_conversions(profile),
        shuffle_records=_metric_sum(profile, "shuffle_write_records"),
        shuffle_partitions=int(props.get("spark.sql.shuffle.partitions", DEFAULT_SHUFFLE_PARTITIONS)),
        aqe_enabled=int(parse_bool(props.get("spark.sql.adaptive.enabled"), aqe_default(profile.spark_version))),
        broadcast_threshold_bytes=parse_bytes(props.get("spark.sql.autoBroadcastJoinThreshold"), DEFAULT_BROADCAST_BYTES)
        or 0.0,
        executors=resources.executors,
        cores=resources.cores,
        memory_per_core_mb=heap_bytes(profile) * fraction / resources.cores / 1024**2,
        host_probe_ms=_float(props.get(HOST_PROBE_PROPERTY)),
        cpu_share=_cpu_share(profile),
        sim_duration_ms=sim.estimated_duration_ms,
        sim_half_slots_ms=half.estimated_duration_ms,
        sim_double_slots_ms=double.estimated_duration_ms,
    )


class ConfigChange(BaseModel):
    """The requested configuration of the new run, in model terms (absolute values)."""

    shuffle_partitions: int
    aqe_enabled: int
    broadcast_threshold_bytes: float
    cores: int
    memory_per_core_mb: float
    scale_ratio: float = 1.0


def config_of(run: RunFeatures, scale_ratio: float = 1.0) -> ConfigChange:
    """The configuration `run` used, as a change request (with a data-scale ratio)."""
    return ConfigChange(
        shuffle_partitions=run.shuffle_partitions,
        aqe_enabled=run.aqe_enabled,
        broadcast_threshold_bytes=run.broadcast_threshold_bytes,
        cores=run.cores,
        memory_per_core_mb=run.memory_per_core_mb,
        scale_ratio=scale_ratio,
    )


def simulated_log_ratio(run: RunFeatures, cores_ratio: float) -> float:
    """log(simulated time at cores_ratio x slots / simulated time as observed), log-interpolated."""
    points = np.log([0.5, 1.0, 2.0])
    values = np.log([max(run.sim_half_slots_ms, 1.0), max(run.sim_duration_ms, 1.0), max(run.sim_double_slots_ms, 1.0)])
    x = math.log(max(cores_ratio, 1e-6))
    if x < points[0]:  # extrapolate with the outer slope
        return float(values[0] + (x - points[0]) * (values[1] - values[0]) / (points[1] - points[0]) - values[1])
    if x > points[-1]:
        return float(values[2] + (x - points[2]) * (values[2] - values[1]) / (points[2] - points[1]) - values[1])
    return float(np.interp(x, points, values) - values[1])


AQE_ADVISORY_BYTES = 64 * 1024**2
MAX_TASK_OVERHEAD_MS = 50.0  # a task's fixed cost (launch, deserialize, report) is tens of ms at most
PRIOR_LIMIT = math.log(20.0)  # the first guess never claims more than 20x either way


def prior_log_ratio(run: RunFeatures, change: ConfigChange, scale_exponent: float = 1.0) -> float:
    """A physical first guess of log(new / observed) that the trees then correct.

    Driver time stays; executor time scales with the ideal parallel busy time: map-side
    task time grows with the input scale, shuffle-side work grows with the scale and is
    re-cut into the new number of partitions (each paying the fixed per-task cost), and
    both spread over the new slot count. AQE (when on) coalesces partitions toward the
    slot count or the 64 MB advisory size. Task time grows as scale ** scale_exponent
    (fitted on the training runs: small runs carry fixed costs that do not grow with data).
    """
    executors = max(run.executors, 1)
    slots_obs = executors * max(run.cores, 1)
    slots_new = executors * max(change.cores, 1)
    s = change.scale_ratio
    work_growth = s**scale_exponent
    overhead = max(run.task_overhead_ms, 0.0)

    def busy(map_ms: float, map_n: int, red_ms: float, red_n: int, slots: int) -> float:
        out = map_ms / max(min(slots, map_n), 1) if map_n else 0.0
        if red_n:
            out += red_ms / max(min(slots, red_n), 1)
        return out

    busy_obs = busy(run.map_task_ms, run.map_tasks, run.reduce_task_ms, run.reduce_tasks, slots_obs)
    if run.reduce_stages:
        per_stage = change.shuffle_partitions
        if change.aqe_enabled:
            bytes_per_stage = run.shuffle_read_bytes * s / run.reduce_stages
            per_stage = min(per_stage, max(slots_new, math.ceil(bytes_per_stage / AQE_ADVISORY_BYTES)))
        red_n = run.reduce_stages * max(per_stage, 1)
        red_work = max(run.reduce_task_ms - run.reduce_tasks * overhead, 0.0) * work_growth
        red_ms = red_work + red_n * overhead
    else:
        red_n, red_ms = 0, 0.0
    busy_new = busy(run.map_task_ms * work_growth, run.map_tasks, red_ms, red_n, slots_new)
    if busy_obs <= 0 or run.duration_ms <= 0:
        return math.log(max(s, 1e-6)) if busy_obs <= 0 and run.duration_ms > 0 else 0.0
    new_ms = run.driver_time_ms + run.executor_time_ms * busy_new / busy_obs
    return max(-PRIOR_LIMIT, min(PRIOR_LIMIT, math.log(max(new_ms, 1.0) / run.duration_ms)))


def broadcast_shuffle_change(run: RunFeatures, change: ConfigChange) -> float:
    """Share of the run's shuffled records that the new broadcast threshold adds (> 0) or removes (< 0).

    Shuffled joins whose smaller side (grown with the input scale) fits under the new threshold
    become broadcast joins and stop shuffling both sides; with broadcasting turned off, the
    broadcast joins' inputs are shuffled instead.
    """
    threshold, observed = change.broadcast_threshold_bytes, run.broadcast_threshold_bytes
    removed = sum(
        shuffled for size, shuffled in zip(run.smj_small_side_bytes, run.smj_shuffle_records, strict=False)
        if 0 < size * change.scale_ratio <= threshold and not size <= observed  # fits now, did not before
    )
    added = run.bhj_input_rows if threshold <= 0 < observed else 0.0  # hinted broadcasts stay: only threshold ones
    total = max(run.shuffle_records + added, 1.0)
    return max(-1.0, min(1.0, (added - removed) / total))


def _log(value: float) -> float:
    return math.log1p(max(value, 0.0))


# Feature names in model order. Durations of the observed run are left out on purpose: on a shared
# machine they carry its host load more than its shape (measured: held-out error drops without them);
# the prior still uses them. MONOTONE_INCREASING: features that can only make the run longer.
PAIR_FEATURES: list[str] = [
    "log_tasks",
    "stages",
    "shuffle_stages",
    "log_shuffle_read_tasks",
    "log_shuffle_read_bytes",
    "log_shuffle_bytes_per_read_task",
    "log_spill_bytes",
    "exchanges",
    "broadcast_joins",
    "sort_merge_joins",
    "windows",
    "sorts",
    "python_udfs",
    "obs_log_shuffle_partitions",
    "obs_aqe",
    "obs_broadcast_on",
    "obs_cores",
    "new_log_shuffle_partitions",
    "new_aqe",
    "new_broadcast_on",
    "new_cores",
    "delta_log_shuffle_partitions",
    "delta_log_cores",
    "delta_log_memory_per_core",
    "log_scale_ratio",
    "sim_log_ratio",
    "new_tasks_per_slot_log",
    "log_task_overhead_ms",
    "prior_log_ratio",
    "broadcast_shuffle_change",
]
MONOTONE_INCREASING = {"log_scale_ratio", "prior_log_ratio", "broadcast_shuffle_change"}


def pair_vector(run: RunFeatures, change: ConfigChange, scale_exponent: float = 1.0) -> list[float]:
    """One model input row: the observed run's features and the change requested."""
    obs_bc = 1.0 if run.broadcast_threshold_bytes > 0 else 0.0
    new_bc = 1.0 if change.broadcast_threshold_bytes > 0 else 0.0
    cores_ratio = change.cores / max(run.cores, 1)
    new_slots = max(run.executors, 1) * change.cores
    values = {
        "log_tasks": _log(run.tasks),
        "stages": float(run.stages),
        "shuffle_stages": float(run.shuffle_stages),
        "log_shuffle_read_tasks": _log(run.shuffle_read_tasks),
        "log_shuffle_read_bytes": _log(run.shuffle_read_bytes),
        "log_shuffle_bytes_per_read_task": _log(run.shuffle_bytes_per_read_task),
        "log_spill_bytes": _log(run.spill_bytes),
        "exchanges": float(run.exchanges),
        "broadcast_joins": float(run.broadcast_joins),
        "sort_merge_joins": float(run.sort_merge_joins),
        "windows": float(run.windows),
        "sorts": float(run.sorts),
        "python_udfs": float(run.python_udfs),
        "obs_log_shuffle_partitions": math.log(max(run.shuffle_partitions, 1)),
        "obs_aqe": float(run.aqe_enabled),
        "obs_broadcast_on": obs_bc,
        "obs_cores": float(run.cores),
        "new_log_shuffle_partitions": math.log(max(change.shuffle_partitions, 1)),
        "new_aqe": float(change.aqe_enabled),
        "new_broadcast_on": new_bc,
        "new_cores": float(change.cores),
        "delta_log_shuffle_partitions": math.log(max(change.shuffle_partitions, 1) / max(run.shuffle_partitions, 1)),
        "delta_log_cores": math.log(cores_ratio),
        "delta_log_memory_per_core": math.log(max(change.memory_per_core_mb, 1.0) / max(run.memory_per_core_mb, 1.0)),
        "log_scale_ratio": math.log(max(change.scale_ratio, 1e-6)),
        "sim_log_ratio": simulated_log_ratio(run, cores_ratio),
        "new_tasks_per_slot_log": math.log(max(change.shuffle_partitions, 1) / max(new_slots, 1)),
        "log_task_overhead_ms": _log(run.task_overhead_ms),
        "prior_log_ratio": prior_log_ratio(run, change, scale_exponent),
        "broadcast_shuffle_change": broadcast_shuffle_change(run, change),
    }
    return [values[name] for name in PAIR_FEATURES]
