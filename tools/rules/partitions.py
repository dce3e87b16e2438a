"""Partition sizing: too few partitions (idle cores, very long tasks), too many tiny tasks, oversized partitions."""

from __future__ import annotations

from collections.abc import Iterator

from tools.eventlog.model import Quantiles, StageProfile
from tools.eventlog.slots import cores_used_beside
from tools.findings import ConfigChange, Finding, Recommendation, Savings, Severity
from tools.rules.config import aqe_enabled, aqe_feature_changes
from tools.rules.measure import MiB, ev, reads_shuffle, spark_size
from tools.rules.registry import RuleContext, rule
from tools.rules.single_partition import single_partition_advice, single_partition_exchange
from tools.rules.skew import duration_skew
from tools.rules.sources import partitions_from_code
from tools.units import count, human_duration, human_size


def count_set_in_code(ctx: RuleContext, stage: StageProfile) -> bool:
    """A SQL shuffle stage whose task count is not spark.sql.shuffle.partitions (nor AQE's coalescing): the
    number came from an explicit repartition(n) / coalesce(n) in the code."""
    if stage.stage_id not in ctx.stage_to_sql or not stage.metrics.shuffle_read_bytes or not stage.num_tasks:
        return False
    configured = ctx.int_property("spark.sql.shuffle.partitions") or 200
    if aqe_enabled(ctx):
        return stage.num_tasks > configured  # AQE only merges partitions (skew splits aside)
    return stage.num_tasks != configured


def reads_input(stage: StageProfile) -> bool:
    return stage.metrics.input_bytes is not None and stage.metrics.input_bytes.sum > 0


def aqe_coalesces(ctx: RuleContext, stage: StageProfile) -> bool:
    """AQE sized this SQL stage's shuffle partitions (AQE and its coalescing on): its task count follows
    spark.sql.adaptive.advisoryPartitionSizeInBytes, not spark.sql.shuffle.partitions."""
    return (stage.stage_id in ctx.stage_to_sql and ctx.spark_version >= (3, 0) and aqe_enabled(ctx)
            and ctx.bool_property("spark.sql.adaptive.coalescePartitions.enabled", True))


def partition_changes(ctx: RuleContext, stage: StageProfile, target_tasks: int) -> list[ConfigChange]:
    """The knob that sets this stage's task count: shuffle partitions for shuffle reads (under AQE coalescing
    the advisory partition size, and the shuffle partitions only when more are needed than there are), split
    size for SQL scans (none when the count is set in code, see `partition_code_change`)."""
    target_tasks = max(target_tasks, 1)
    if reads_shuffle(stage):
        if count_set_in_code(ctx, stage) or single_partition_exchange(ctx, stage):
            return []
        if stage.stage_id not in ctx.stage_to_sql:
            return [ctx.change("spark.default.parallelism", str(target_tasks))]
        if aqe_coalesces(ctx, stage):
            per_task = stage.metrics.shuffle_read_bytes.sum / target_tasks  # type: ignore[union-attr]
            changes = [ctx.change("spark.sql.adaptive.advisoryPartitionSizeInBytes", spark_size(max(per_task, 1 * MiB)))]
            if target_tasks > (ctx.int_property("spark.sql.shuffle.partitions") or 200):
                changes.append(ctx.change("spark.sql.shuffle.partitions", str(target_tasks)))
            return changes
        return [ctx.change("spark.sql.shuffle.partitions", str(target_tasks))]
    if partitions_from_code(ctx, stage, target_tasks):
        return []  # the code or the source sets its partitions, no setting does
    if reads_input(stage):
        if stage.stage_id not in ctx.stage_to_sql:
            return []  # an RDD read (files or cached blocks): its split is set in code, see partition_code_change
        per_task = (ctx.profile.input_bytes(stage) or 0.0) / target_tasks
        return [ctx.change("spark.sql.files.maxPartitionBytes", spark_size(max(per_task, 1 * MiB)))]
    return [ctx.change("spark.default.parallelism", str(target_tasks))]


def partition_code_change(ctx: RuleContext, stage: StageProfile, target_tasks: int) -> str | None:
    """Where to change the partition count in code, when configuration does not set it."""
    single = single_partition_exchange(ctx, stage)  # before reads_shuffle: its task metrics can be nil (a limit)
    if single is not None:
        return single_partition_advice(*single)
    if reads_shuffle(stage):
        if count_set_in_code(ctx, stage):
            return (f"The stage's {stage.num_tasks} tasks come from an explicit repartition(n)/coalesce(n) in the "
                    f"code, not from the shuffle-partitions setting: use about {target_tasks} there.")
        return None
    from_code = partitions_from_code(ctx, stage, target_tasks)
    if from_code:
        return from_code.fix
    if reads_input(stage):
        return ("If the input files are not splittable (gzip, single large files) split them or repartition right "
                "after reading; for RDD textFile pass minPartitions.")
    return (f"The stage reads no files and no shuffle data: its partitions come from the source in the code "
            f"(range(..., numPartitions={target_tasks}) or parallelize(..., numSlices={target_tasks})); the "
            "default-parallelism setting only applies where the code gives none.")


# DataFrameReader calls: a stage named "parquet at ..." that read no data is the reader's own schema or
# file-listing job (one task per file or path), not work a partition setting can spread
READER_CALLS = ("parquet", "json", "csv", "orc", "text", "avro", "load", "table")


def reader_metadata_job(stage: StageProfile) -> bool:
    """A data-source reader's schema/listing stage: named after the reader call and read no data at all."""
    m = stage.metrics
    read = sum(q.sum for q in (m.input_bytes, m.input_records, m.shuffle_read_bytes) if q is not None)
    return read == 0 and stage.name.split(" at ", 1)[0].strip() in READER_CALLS


@rule(
    "idle_cores_few_tasks",
    "Fewer tasks than cores: cores idle during a stage",
    "too_few_partitions",
    Severity.moderate,
    ("min_tasks_per_core", "idle_cores_min_stage_ms", "idle_cores_min_fraction"),
)
def idle_cores_few_tasks(ctx: RuleContext) -> Iterator[Finding]:
    """A long stage (typically after a shuffle) ran fewer tasks than the application had cores, so cores sat idle."""
    t = ctx.thresholds
    for stage in ctx.completed_stages:
        cores = ctx.cores_during(stage.submission_time_ms, stage.completion_time_ms)
        if not cores or cores < 2:
            continue
        q = stage.metrics.duration_ms
        tasks = stage.num_tasks or (q.count if q else 0)
        wall = stage.duration_ms
        if q is None or wall is None or tasks <= 0 or wall < t.idle_cores_min_stage_ms:
            continue
        beside = cores_used_beside(ctx.profile.stages, stage)  # concurrent stages' tasks used some of the cores
        free = cores - beside
        if tasks >= free * t.min_tasks_per_core:
            continue
        if q.max < t.idle_cores_min_stage_ms / 2:
            continue  # short tasks: the stage wall time is not task work
        if reader_metadata_job(stage):
            continue
        idle_fraction = 1 - (tasks + beside) / cores
        if idle_fraction < t.idle_cores_min_fraction:
            continue
        # spread over every core the task time would end after sum/cores instead of the longest task; the
        # rest of the stage's wall time (scheduling, executor start-up) stays. In a skewed stage the tail above
        # the 75th percentile is the skew finding's saving, so this one starts from there.
        skewed = duration_skew(stage, t) is not None
        saved_ms = min(max((q.p75 if skewed else q.max) - q.sum / free, 0.0), wall)
        shuffle = reads_shuffle(stage)
        target = cores * 3
        from_code = partitions_from_code(ctx, stage, target)
        yield ctx.finding(
            title=f"Stage {stage.stage_id} ran {count(tasks, 'task')} on {cores} cores for {human_duration(wall)}"
            + (" after a shuffle" if shuffle else ""),
            evidence=[
                ev("tasks", tasks, "count", cores * t.min_tasks_per_core, stage.stage_id),
                ev("cores", cores, "count", stage_id=stage.stage_id),
                ev("stage duration", wall, "ms", t.idle_cores_min_stage_ms, stage.stage_id),
                ev("idle core fraction", idle_fraction, "share", stage_id=stage.stage_id),
                *([ev("cores busy with concurrent stages", round(beside, 1), "count", stage_id=stage.stage_id)]
                  if beside >= 0.5 else []),
                *(from_code.evidence if from_code else []),
            ],
            recommendation=Recommendation(
                summary=f"Split the stage's work into at least {target} partitions (about 3 per core).",
                config_changes=partition_changes(ctx, stage, target),
                code_change=from_code.fix if from_code else "Or repartition(n) before the expensive step; avoid "
                "coalesce(1) / repartition(1) except for the final write of small results.",
            ),
            savings=Savings(
                wall_ms=saved_ms,
                core_ms=saved_ms * max(free - tasks, 0.0),
                method="With the task time spread over all cores (less those concurrent stages kept busy) the stage's "
                "work would end after its total task time / those cores instead of its longest task; the idle cores' "
                "wait for that difference is the core time saved." + (" The stage is skewed: the time above its 75th-percentile task is the skew finding's "
                            "saving and is not counted here." if skewed else ""),
            ),
            doc_query=from_code.doc_query if from_code
            else "spark.sql.shuffle.partitions parallelism number of partitions idle cores",
            severity=Severity.severe if idle_fraction >= 0.75 else Severity.moderate,
            stage_ids=[stage.stage_id],
        )


@rule(
    "long_tasks_too_few_partitions",
    "Very long median tasks: too few partitions",
    "too_few_partitions",
    Severity.moderate,
    ("long_task_median_ms",),
)
def long_tasks_too_few_partitions(ctx: RuleContext) -> Iterator[Finding]:
    """The median task of a stage runs for many minutes: partitions are too large to balance or retry cheaply."""
    t = ctx.thresholds
    for stage in ctx.completed_stages:
        q = stage.metrics.duration_ms
        if q is None or q.median < t.long_task_median_ms:
            continue
        factor = int(q.median // (t.long_task_median_ms / 5)) or 2
        target = max(q.count * factor, 2)
        yield ctx.finding(
            title=f"Stage {stage.stage_id}: median task runs {human_duration(q.median)}",
            evidence=[
                ev("median task duration", q.median, "ms", t.long_task_median_ms, stage.stage_id),
                ev("tasks", q.count, "count", stage_id=stage.stage_id),
                ev("target partitions (tasks of about a minute)", target, "count", stage_id=stage.stage_id),
            ],
            recommendation=Recommendation(
                summary=f"Use about {factor}x more partitions so tasks take about a minute.",
                config_changes=partition_changes(ctx, stage, target),
                code_change=partition_code_change(ctx, stage, target),
            ),
            savings=Savings(
                wall_ms=q.median / 2,
                core_ms=q.median / 2 * min(ctx.total_cores or 1, q.count),
                method="Smaller tasks remove most of the last wave's imbalance, about half a median task per slot.",
            ),
            doc_query="long running tasks partition size spark.sql.files.maxPartitionBytes shuffle partitions",
            stage_ids=[stage.stage_id],
        )


@rule(
    "too_many_small_tasks",
    "Many tiny tasks: scheduling overhead dominates",
    "too_many_small_tasks",
    Severity.moderate,
    ("small_task_median_ms", "small_task_min_count", "small_task_overhead_ratio"),
)
def too_many_small_tasks(ctx: RuleContext) -> Iterator[Finding]:
    """A stage ran hundreds of tasks whose median lasts under 200 ms, a tenth or more of it per-task overhead."""
    t = ctx.thresholds
    for stage in ctx.completed_stages:
        q = stage.metrics.duration_ms
        if q is None or q.count < t.small_task_min_count or q.median >= t.small_task_median_ms:
            continue
        target = max(int(q.sum / 1000), (ctx.total_cores or 2) * 3, 1)  # about one second of work per task
        if target >= q.count:
            continue
        overhead_q = [stage.metrics.scheduler_delay_ms, stage.metrics.executor_deserialize_time_ms]
        overhead = sum(x.median for x in overhead_q if x is not None) or min(q.median, 20.0)
        if overhead < t.small_task_overhead_ratio * q.median:
            continue
        saved = (q.count - target) * overhead
        changes = partition_changes(ctx, stage, target)
        # AQE coalesces shuffle partitions only (a scan or source stage keeps its task count), and not those of
        # repartition(n) with an explicit count
        coalescible = (reads_shuffle(stage) and stage.stage_id in ctx.stage_to_sql and ctx.spark_version >= (3, 0)
                       and not count_set_in_code(ctx, stage))
        if coalescible:
            changes.extend(aqe_feature_changes(ctx, "spark.sql.adaptive.coalescePartitions.enabled"))
        yield ctx.finding(
            title=f"Stage {stage.stage_id}: {q.count} tasks with median {human_duration(q.median)}",
            evidence=[
                ev("tasks", q.count, "count", t.small_task_min_count, stage.stage_id),
                ev("median task duration", q.median, "ms", t.small_task_median_ms, stage.stage_id),
                ev("per-task overhead (scheduler delay + deserialize)", overhead, "ms",
                   t.small_task_overhead_ratio * q.median, stage.stage_id),
                ev("target partitions (about 1 s of work each)", target, "count", stage_id=stage.stage_id),
            ],
            recommendation=Recommendation(
                summary=f"Use about {target} partitions for this stage (about 1 s of work each)"
                + (", or let AQE coalesce." if coalescible else "."),
                config_changes=changes,
                code_change=partition_code_change(ctx, stage, target),
            ),
            savings=Savings(
                core_ms=saved,
                wall_ms=ctx.spread(saved),
                method="Per-task overhead (median scheduler delay + deserialization, else 20 ms) times the tasks "
                "that fewer partitions would remove.",
            ),
            doc_query="too many small tasks spark.sql.shuffle.partitions coalesce partitions AQE",
            stage_ids=[stage.stage_id],
        )


@rule(
    "oversized_partitions",
    "Oversized partitions (over 1 GiB per task)",
    "oversized_partitions",
    Severity.moderate,
    ("oversized_partition_bytes",),
)
def oversized_partitions(ctx: RuleContext) -> Iterator[Finding]:
    """The median task reads more than a GiB (input or shuffle): memory pressure, spill and costly retries.
    Stages that get the same advice (e.g. two stages reading the same files) share one finding."""
    t = ctx.thresholds
    groups: dict[tuple[str, str], list[tuple[StageProfile, Quantiles, int]]] = {}  # (metric, advice) -> stages
    for stage in ctx.completed_stages:
        for name in ("shuffle_read_bytes", "input_bytes"):
            q = getattr(stage.metrics, name)
            if q is None or q.median < t.oversized_partition_bytes:
                continue
            target = max(int(q.sum / (128 * MiB)), q.count + 1)
            recommendation = Recommendation(
                summary=f"Aim for about 128 MiB per task: about {target} partitions.",
                config_changes=partition_changes(ctx, stage, target),
                code_change=partition_code_change(ctx, stage, target),
            )
            groups.setdefault((name, recommendation.model_dump_json()), []).append((stage, q, target))
            break
    for (name, advice), members in groups.items():
        largest = max(q.median for _, q, _ in members)
        stages = [stage.stage_id for stage, _, _ in members]
        where = f"Stage {stages[0]}" if len(stages) == 1 else "Stages " + ", ".join(map(str, stages))
        evidence = []
        for stage, q, target in members:
            evidence += [
                ev(f"median {name} per task", q.median, "bytes", t.oversized_partition_bytes, stage.stage_id),
                ev(f"total {name}", q.sum, "bytes", stage_id=stage.stage_id),
                ev("tasks", q.count, "count", stage_id=stage.stage_id),
                ev("target partitions (128 MiB each)", target, "count", stage_id=stage.stage_id),
            ]
        yield ctx.finding(
            title=f"{where}: median task reads {'up to ' if len(stages) > 1 else ''}{human_size(largest)} ({name})",
            evidence=evidence,
            recommendation=Recommendation.model_validate_json(advice),
            savings=Savings(
                method="Not estimated in time: the gain shows as less spill, GC and retry cost (see those findings)."
            ),
            doc_query="partition size 128MB spark.sql.files.maxPartitionBytes advisoryPartitionSizeInBytes",
            stage_ids=stages,
        )
