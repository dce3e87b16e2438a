"""Every threshold the rules use, in one settable model (`COPILOT_RULES__<FIELD>` or `[rules]` in TOML).

Defaults follow the field's established values; the comment beside each names its source:
Dr. Elephant (LinkedIn's Spark/MapReduce heuristics and their HeuristicConf defaults),
DataFlint (its Spark UI alerts), Sparklens (Qubole's scheduling simulator reports) and the
Apache Spark documentation (configuration, tuning and SQL performance-tuning pages).
Where a value is our own choice it says so and why.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from tools.findings import Severity

MiB = 1024 * 1024
GiB = 1024 * MiB


class SeverityLadder(BaseModel):
    """Two steps of a measured ratio: from `moderate` a rule fires, from `severe` its finding is severe."""

    moderate: float = Field(ge=0)
    severe: float = Field(ge=0)

    def severity(self, value: float, below: Severity = Severity.low) -> Severity:
        """The step `value` reaches (`below` when under `moderate`)."""
        if value >= self.severe:
            return Severity.severe
        if value >= self.moderate:
            return Severity.moderate
        return below


# Flat keys of earlier releases (`COPILOT_RULES__SKEW_RATIO`, `[rules] gc_ratio_high`) -> (ladder, step); still accepted.
LEGACY_LADDER_KEYS: dict[str, tuple[str, str]] = {
    "skew_ratio": ("skew", "moderate"),
    "skew_severe_ratio": ("skew", "severe"),
    "spill_ratio": ("spill", "moderate"),
    "spill_severe_ratio": ("spill", "severe"),
    "gc_ratio_high": ("gc", "moderate"),
    "gc_ratio_severe": ("gc", "severe"),
    "task_failure_rate_moderate": ("task_failure_rate", "moderate"),
    "task_failure_rate_severe": ("task_failure_rate", "severe"),
}


class RuleThresholds(BaseModel):
    """Numbers that decide when a rule fires and how severe it is."""

    # --- skew -------------------------------------------------------------------------
    # Dr. Elephant data-skew deviation severities are 2/4/8/16: max / median task duration (or bytes) counts as
    # skew from "moderate" (4); 8 = severe (16 = critical).
    skew: SeverityLadder = SeverityLadder(moderate=4.0, severe=8.0)
    # DataFlint partition-skew alert ignores stages whose longest task is under 5 s.
    skew_min_task_duration_ms: float = 5_000
    # Dr. Elephant executor heuristics ignore maxima under 100 MB.
    skew_min_partition_bytes: float = 100 * MiB
    # Our choice: a max/median over fewer tasks than this says nothing about a distribution.
    skew_min_tasks: int = 4
    # Dr. Elephant executor max/median severities 1.334/1.778/3.162/10; we fire at 3.162 (severe band start).
    executor_skew_ratio: float = 3.162
    # Dr. Elephant ignores executor maxima under 5 minutes of task time.
    executor_skew_min_task_time_ms: float = 300_000

    # --- spill ------------------------------------------------------------------------
    # Dr. Elephant stages heuristic: execution spill / bytes processed 0.01/0.1/0.25/0.5; we fire at moderate (0.1),
    # 0.25 = severe.
    spill: SeverityLadder = SeverityLadder(moderate=0.10, severe=0.25)
    # Our choice: ignore spills under 64 MiB (seconds of disk I/O at most).
    spill_min_bytes: float = 64 * MiB
    # Dr. Elephant ExecutorStorageSpill: fraction of executors that spill, 0.2.
    spill_executor_fraction: float = 0.2
    # Our choice: assumed local-disk throughput for the cost of writing and re-reading spill.
    spill_disk_bytes_per_s: float = 100 * MiB

    # --- GC ---------------------------------------------------------------------------
    # Dr. Elephant ExecutorGcHeuristic gc_severity_A_threshold 0.08/0.1/0.15/0.2: GC time / run time moderate at 0.1,
    # severe at 0.15.
    gc: SeverityLadder = SeverityLadder(moderate=0.10, severe=0.15)
    # Dr. Elephant stages heuristic GC severities 0.08/0.09/0.1/0.15: single stages are reported at critical (0.15).
    gc_stage_ratio: float = 0.15
    # Dr. Elephant gc_severity_D_threshold 0.05/0.04/0.03/0.01: too little GC = oversized heap; critical 0.01.
    gc_ratio_low: float = 0.01
    # Dr. Elephant evaluates GC only on substantial runs; our choice: 30 core-minutes of task time.
    gc_min_run_time_ms: float = 1_800_000
    # Our choice: per-stage GC checks only for stages with at least 10 core-seconds of run time (so a cold JVM's
    # first second of GC does not count).
    gc_min_stage_run_time_ms: float = 10_000

    # --- partitions -------------------------------------------------------------------
    # Spark tuning guide: tasks of ~100 ms-minutes; Dr. Elephant long-task severity starts at 15 min; we flag 5 min medians.
    long_task_median_ms: float = 300_000
    # Spark tuning guide ("2-3 tasks per CPU core"): shuffle stages with fewer tasks than cores leave cores idle.
    min_tasks_per_core: float = 1.0
    # Our choice: idle-core findings only for stages lasting at least this long.
    idle_cores_min_stage_ms: float = 5_000
    # DataFlint's wasted-cores alert level (50%) applied per stage: at least half the cores idle.
    idle_cores_min_fraction: float = 0.5
    # Spark tuning guide: tasks as short as 200 ms are efficient; shorter ones are mostly overhead.
    small_task_median_ms: float = 200
    # Dr. Elephant number-of-tasks severities 50/101/500/1000; we require 500 tasks.
    small_task_min_count: int = 500
    # Our choice: the measured per-task overhead (scheduler delay + deserialization) is at least a tenth of the
    # median task, else fewer partitions save next to nothing (2,000 tasks of 157 ms with 2 ms of overhead each).
    small_task_overhead_ratio: float = 0.1
    # Spark docs: spark.sql.adaptive.advisoryPartitionSizeInBytes 64 MiB; 16x that per task is oversized.
    oversized_partition_bytes: float = 1 * GiB

    # --- files (SQL scan / write metrics) ----------------------------------------------
    # DataFlint: avg file read or written under 3 MiB with more than 100 files is a small-files problem.
    small_file_bytes: float = 3 * MiB
    small_file_min_count: int = 100
    # DataFlint / Delta docs: target file size about 128 MiB.
    target_file_bytes: float = 128 * MiB
    # Our choice: assumed per-file open/list overhead used for the savings estimate.
    per_file_overhead_ms: float = 20
    # Our choice: a scan of a partitioned table without partition filters matters from 2 partitions and 1 GiB.
    full_scan_min_partitions: int = 2
    full_scan_min_bytes: float = 1 * GiB
    # Our choice: a filter keeping at most 1% of the rows a columnar scan produced could have skipped most row groups
    # had the files been clustered by its column; from 1 GiB of files, as for the partitioned-scan check.
    selective_scan_max_share: float = 0.01
    selective_scan_min_bytes: float = 1 * GiB
    # Our choice: and the reader produced at least a million rows (a well-clustered table read for one key yields a
    # few thousand: the filter then keeps a small share of very little).
    selective_scan_min_rows: float = 1_000_000

    # --- failures ----------------------------------------------------------------------
    # Our choice: any failed task is reported; severity rises with the failure rate.
    task_failure_min_count: int = 1
    # Dr. Elephant task failure-rate severities 0.05/0.1/0.15/0.2: moderate from 0.1, severe from 0.15.
    task_failure_rate: SeverityLadder = SeverityLadder(moderate=0.10, severe=0.15)

    # --- memory ------------------------------------------------------------------------
    # Dr. Elephant JvmUsedMemory: allocated / peak 1.25/1.5/2/3; we fire at 2 (severe band).
    memory_overprovisioned_ratio: float = 2.0
    # Dr. Elephant: only executors with at least spark.executor.memory 2 GiB are considered.
    memory_min_executor_bytes: float = 2 * GiB
    # Our choice: peak JVM heap at 95% of the allocation leaves no headroom.
    memory_underprovisioned_ratio: float = 0.95

    # --- executors / idle --------------------------------------------------------------
    # DataFlint wasted-cores alert fires above 50% idle cores.
    idle_core_ratio: float = 0.5
    # Our choice: ignore idle capacity under 1 core-hour (small apps, local runs).
    idle_min_core_ms: float = 3_600_000
    # Spark docs: spark.dynamicAllocation.executorIdleTimeout default 60 s; we flag 10x that.
    dynamic_allocation_idle_timeout_max_s: float = 600

    # --- joins -------------------------------------------------------------------------
    # Spark docs: spark.sql.autoBroadcastJoinThreshold default 10 MiB.
    broadcast_candidate_bytes: float = 10 * MiB
    # Our choice: the other side must be at least twice as large, so broadcasting (and skipping the shuffle and
    # sort of the large side) clearly moves less data than shuffling both sides.
    broadcast_size_ratio: float = 2.0
    # DataFlint: broadcasts over 1 GiB are flagged.
    broadcast_too_large_bytes: float = 1 * GiB
    # Our choice: an equi-join whose output has 3x the rows of its larger input matched a key on both sides many
    # times (a one-to-many join never exceeds its larger side); under 1M output rows the cost is negligible.
    join_fanout_ratio: float = 3.0
    join_fanout_min_rows: float = 1_000_000
    # Our choice: files read again by later SQL executions (beyond the first read) worth a finding; below a GiB
    # re-reading costs seconds of task time on any storage.
    repeated_read_min_bytes: float = 1 * GiB
    # Our choice: a shuffle sent whole to one partition is worth a finding once it is larger than one usual
    # partition (spark.sql.files.maxPartitionBytes and AQE's advisory size are 128 MiB / 64 MiB by default).
    single_partition_min_bytes: float = 128 * MiB
    # Our choice: a schema-inference pass is worth a code change once it costs 5 s of wall time per run (it runs
    # before its query, so all of it is wall time); the smallest inferred reads take a few hundred ms.
    schema_inference_min_ms: float = 5_000
    # Our choice, the same floor: a global sort's sampling pass (its input computed once more) worth a code change.
    sort_sample_min_ms: float = 5_000
    # Our choice, the same floor in task time: the stages that made and aggregated an Expand's copies of each row
    # (several DISTINCT aggregates, cube / rollup) worth a code change.
    expand_min_task_ms: float = 5_000
    # Our choice: DataFrame rows through Python RDD code (df.rdd.map, df.rdd.isEmpty()) worth a finding from a second
    # of task time; a check on a handful of rows costs less.
    python_rdd_min_task_ms: float = 1_000
    # Our choice, the same floor as the Expand's: arrays exploded and grouped back by their own row worth a code
    # change from 5 s of task time the per-row functions would not spend (the regrouping after the shuffle).
    explode_min_task_ms: float = 5_000
    # Our choice, the same floor: a repartition the next shuffle undoes worth a code change from 5 s of task time
    # that dropping it saves (its sort, spill and write, and the reading stages beyond the work that moves).
    repartition_min_task_ms: float = 5_000
    # Our choice, the same floor: a Python UDF filtering partition columns worth a code change from 5 s of task time
    # spent on the partitions its filter dropped (pruning would read none of them).
    partition_udf_min_task_ms: float = 5_000
    # Our choice, the same floor: a whole partitioned table cached before the filter every query applies to it worth a
    # code change from 5 s of task time spent reading and storing the rows no query used.
    cached_partitions_min_task_ms: float = 5_000
    # Our choice: a cache holding every column of a table while its readers use at most half of them, worth a code
    # change from 5 s of the filling stages' task time spent on the columns no query used.
    cached_columns_unused_share: float = 0.5
    cached_columns_min_task_ms: float = 5_000
    # Our choice, the same floor: later SQL executions rerunning a join or aggregation an earlier one ran, worth keeping
    # its result from 5 s of task time in stages that ran nothing else.
    recomputed_min_task_ms: float = 5_000
    # Our choice, the same floor: a table joined to its own max per key, worth one aggregation from 2 s of task time
    # in the aggregated side's stages (a floor of what the join costs).
    self_join_min_task_ms: float = 2_000

    # --- driver ------------------------------------------------------------------------
    # Sparklens reports driver wall-clock share; our choice: half the run on the driver, for at least 1 minute.
    driver_time_ratio: float = 0.5
    driver_min_time_ms: float = 60_000
    # Spark docs: spark.driver.maxResultSize default 1g; half of it in results is a warning sign.
    driver_result_bytes: float = 512 * MiB

    # --- shuffle -----------------------------------------------------------------------
    # Sparklens-style output/input ratio; our choice: shuffle writes 3x the input, and at least 10 GiB.
    shuffle_to_input_ratio: float = 3.0
    shuffle_min_bytes: float = 10 * GiB
    # Our choice: tasks waiting more than 20% of their run time on shuffle fetches.
    shuffle_fetch_wait_ratio: float = 0.2
    shuffle_fetch_wait_min_ms: float = 60_000

    # --- structured streaming ------------------------------------------------------------
    # Spark's monitoring guide: a query processing fewer rows per second than arrive is falling behind; our
    # choice: by more than 10%, over at least 3 micro-batches that read input (the rates vary batch to batch).
    streaming_falling_behind_ratio: float = 0.9
    streaming_min_batches: int = 3
    # Our choice: state over 1 GiB held in executor heaps (the default HDFS-backed store) calls for RocksDB.
    streaming_state_memory_bytes: float = 1 * GiB

    # --- speculation -------------------------------------------------------------------
    # Spark docs: spark.speculation.multiplier 1.5 (a task 1.5x the median is a straggler); we flag tails of 3x
    # the p75 without a matching data skew.
    straggler_ratio: float = 3.0
    # Our choice: more than 20% of speculative copies killed or useless is waste.
    speculation_waste_ratio: float = 0.2
    speculation_min_tasks: int = 10

    # --- serializer -------------------------------------------------------------------
    # Our choice: the Java serializer matters once RDD shuffles move more than a few MiB per core.
    serializer_min_shuffle_bytes: float = 16 * MiB

    # --- config hygiene ---------------------------------------------------------------
    # Cloudera/Spark tuning advice: more than 5 cores per executor hurts HDFS throughput.
    executor_cores_max: int = 5
    # Spark tuning guide: heaps beyond ~64 GiB suffer long GC pauses.
    executor_memory_max_bytes: float = 64 * GiB

    @model_validator(mode="before")
    @classmethod
    def _complete_ladders(cls, data: Any) -> Any:
        """Accept the legacy flat keys, and let a setting name one step of a ladder (the other keeps its default)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key, (ladder, step) in LEGACY_LADDER_KEYS.items():
            if key in data:
                value = data.pop(key)
                current = data.get(ladder)
                data[ladder] = {**(current.model_dump() if isinstance(current, SeverityLadder) else current or {}), step: value}
        for name, info in cls.model_fields.items():
            if isinstance(data.get(name), dict) and isinstance(info.default, SeverityLadder):
                data[name] = {**info.default.model_dump(), **data[name]}
        return data

    def flat(self, names: tuple[str, ...]) -> dict[str, float | int]:
        """The named thresholds as `name: value`, a ladder as `name.moderate` and `name.severe` (settings keys)."""
        values: dict[str, float | int] = {}
        for name in names:
            value = getattr(self, name)
            if isinstance(value, SeverityLadder):
                values.update({f"{name}.{step}": v for step, v in value.model_dump().items()})
            else:
                values[name] = value
        return values
