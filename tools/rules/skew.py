"""Skew: a few tasks (or executors) doing most of a stage's work while the other cores wait."""

from __future__ import annotations

from collections.abc import Iterator

from tools.eventlog.model import AGGREGATES, SHUFFLED_JOINS, StageProfile, base_operator
from tools.findings import ConfigChange, Evidence, Finding, Recommendation, Savings, Severity
from tools.rules.config import aqe_feature_changes, aqe_switch_off, sql_shuffle_joins
from tools.rules.join_skew import stuck_skew
from tools.rules.measure import MiB, ev, max_to_median, spark_size
from tools.rules.registry import RuleContext, rule
from tools.rules.thresholds import RuleThresholds
from tools.units import human_duration, human_size, parse_size

DATA_METRICS = ("shuffle_read_bytes", "input_bytes", "shuffle_read_records", "input_records")
DATA_SKEW_MIN = 2.0  # max/median of the data read below which skewed durations are stragglers, not data skew


def duration_skew(stage: StageProfile, t: RuleThresholds) -> float | None:
    """max/median task duration when it crosses the skew thresholds, else None."""
    q = stage.metrics.duration_ms
    if q is None or q.count < t.skew_min_tasks or q.max < t.skew_min_task_duration_ms:
        return None
    ratio = max_to_median(q)
    return ratio if ratio is not None and ratio >= t.skew.moderate else None


def data_skew(stage: StageProfile) -> tuple[str, float] | None:
    """The data metric (bytes or records read) with the largest max/median, if any was measured. A skewed metric
    (2x or more) whose median task read something comes first: a zero median's ratio is against one unit, which
    says less (11,390,100x records against 10,771x bytes on the same tasks). Whether any metric reaches 2x is
    the same either way."""
    ranked = []  # ((skewed with a non-zero median, ratio), name)
    for name in DATA_METRICS:
        q = getattr(stage.metrics, name)
        ratio = max_to_median(q)
        if ratio is not None:
            ranked.append(((q.median > 0 and ratio >= DATA_SKEW_MIN, ratio), name))
    if not ranked:
        return None
    (_, ratio), name = max(ranked)
    return name, ratio


def aqe_skew_join_changes(ctx: RuleContext, stage: StageProfile) -> list[ConfigChange]:
    """The AQE settings under which Spark splits this stage's largest shuffle partition: AQE and skew join on,
    and the skew threshold (default 256MB), skew factor (default 5) and split size (advisory partition size,
    default 64MB) below what that partition is. Empty when the partition is under 2 MiB: too small to split."""
    q = stage.metrics.shuffle_read_bytes
    if q is None or q.max < 2 * MiB:
        return []
    changes = aqe_feature_changes(ctx, "spark.sql.adaptive.skewJoin.enabled")
    half = spark_size(q.max / 2)
    threshold_key = "spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes"
    if q.max <= (parse_size(ctx.prop(threshold_key), "b") or 256 * MiB):
        changes.append(ctx.change(threshold_key, half))
    ratio = q.max / max(q.median, 1.0)
    if ratio <= (ctx.float_property("spark.sql.adaptive.skewJoin.skewedPartitionFactor") or 5.0):
        changes.append(ctx.change("spark.sql.adaptive.skewJoin.skewedPartitionFactor", f"{max(ratio / 2, 1.5):.1f}"))
    advisory_key = "spark.sql.adaptive.advisoryPartitionSizeInBytes"
    if q.max / 2 < (parse_size(ctx.prop(advisory_key), "b") or 64 * MiB):
        changes.append(ctx.change(advisory_key, half))
    return changes


def aqe_split_evidence(ctx: RuleContext, stage: StageProfile) -> list[Evidence]:
    """What bounds an AQE skew split: the largest partition read, and the map tasks that wrote the stage's
    input (AQE splits a partition along map outputs, so into at most that many pieces)."""
    rows = []
    if stage.metrics.shuffle_read_bytes is not None:
        rows.append(ev("largest task shuffle read", stage.metrics.shuffle_read_bytes.max, "bytes", stage_id=stage.stage_id))
    pieces = map_tasks_feeding(ctx, stage)
    if pieces:
        rows.append(ev("map tasks per parent stage (most pieces AQE can split a partition into)", pieces, "count",
                       stage_id=stage.stage_id))
    return rows


def map_tasks_feeding(ctx: RuleContext, stage: StageProfile) -> int | None:
    """The most tasks of any parent stage: AQE splits a skewed partition along map outputs, so at most that many ways."""
    parents = [s.num_tasks for s in ctx.profile.stages if s.stage_id in stage.parent_ids and s.num_tasks]
    return max(parents) if parents else None


SALT_JOIN = ("Salt the hot key (add a random suffix 0..N-1 on the large side and replicate the small side N times), "
             "or aggregate/filter the hot key separately; broadcast the smaller side if it fits.")
SALT_AGGREGATE = ("Aggregate in two steps: add a random salt 0..N-1 to the key, aggregate by key and salt, then "
                  "aggregate those partial results by the key alone (collect_list/collect_set and distinct aggregates "
                  "have no partial step of their own); or aggregate the hot key apart. AQE splits skewed partitions "
                  "of joins only, so no setting spreads this one.")
SPLIT_WINDOW = ("A window partitioned by a hot key sorts and scans all of that key's rows in one task: partition by "
                "more columns where the result allows, or compute the hot key's rows apart and union them back. AQE "
                "splits skewed partitions of joins only, so no setting spreads this one.")
SPLIT_GROUP_APPLY = ("groupBy(key).applyInPandas (a grouped pandas UDF, cogroup, mapGroups) hands each group's rows "
                     "to one call of the function in one task: the hot key's group is one task and must fit in one "
                     "worker's memory. Where the result combines from parts (sums, counts, min/max, approximate "
                     "percentiles), compute it with built-in aggregations, whose partial step spreads the hot key over "
                     "every task that reads it, or run the function per (key, salt) and combine the partial results; "
                     "otherwise handle the hot key apart (a sample of it, or built-ins for it). AQE splits skewed "
                     "partitions of joins only, so no setting spreads this one.")
# operators that give each group to one function call: no partial step, nothing splits a group
_GROUP_APPLIES = ("FlatMapGroupsInPandas", "FlatMapCoGroupsInPandas", "FlatMapGroupsInArrow", "FlatMapCoGroupsInArrow",
                  "AggregateInPandas", "MapGroups", "CoGroup", "FlatMapGroupsWithState")


def skewed_operation(stage: StageProfile) -> str | None:
    """What the skewed stage ran, from its SQL operators: 'join' (a shuffled join), 'window', 'group apply' (each
    group to one function call), 'aggregate', or None (no SQL operator known: an RDD stage, or a log without SQL
    metrics)."""
    ran = {base_operator(op) for op in stage.operators}
    for kind, names in (("join", SHUFFLED_JOINS), ("window", ("Window", "WindowInPandas")),
                        ("group apply", _GROUP_APPLIES), ("aggregate", AGGREGATES)):
        if ran & set(names):
            return kind
    return None


def skew_recommendation(ctx: RuleContext, stage: StageProfile, metric_name: str | None) -> Recommendation:
    """AQE skew-join settings when the stage reads shuffle data for a shuffled join (AQE splits skewed partitions of
    joins only; when the stage's operators are unknown, a SQL execution with a shuffled join) unless the skewed rows
    come from a side AQE cannot split for the join type, else the code change for what the stage ran: a split join,
    a two-step aggregation, a finer window, built-ins or salted groups for a function applied per group, or
    repartitioning the input."""
    changes = []
    shuffled = metric_name is not None and metric_name.startswith("shuffle")
    operation = skewed_operation(stage)
    joins = (operation == "join" if stage.operators
             else ctx.stage_to_sql.get(stage.stage_id) in sql_shuffle_joins(ctx))
    if shuffled and joins and (stuck := stuck_skew(ctx, stage)) is not None:
        return stuck.recommendation()
    if shuffled and joins and ctx.spark_version >= (3, 0):
        changes = aqe_skew_join_changes(ctx, stage)
    if not shuffled:
        code = "Repartition the input by a well-distributed key (or split large input files) before the heavy step."
    else:
        code = {"aggregate": SALT_AGGREGATE, "window": SPLIT_WINDOW, "group apply": SPLIT_GROUP_APPLY}.get(
            operation or "", SALT_JOIN)
    summary = "Spread the oversized partition over several tasks."
    pieces = map_tasks_feeding(ctx, stage)
    if changes and pieces:
        summary += (f" The settings let AQE split it, into at most {pieces} pieces here (one per map task that wrote "
                    "it); salting the key splits it as finely as needed.")
    return Recommendation(summary=summary, config_changes=changes, code_change=code)


def skewed_stages(ctx: RuleContext) -> Iterator[tuple[StageProfile, float, tuple[str, float] | None]]:
    """Stages whose longest task runs several times the median and whose data read is skewed too (or was not
    measured), with the duration ratio and the data metric; durations skewed on balanced data are stragglers
    (see the speculation rules)."""
    for stage in ctx.completed_stages:
        ratio = duration_skew(stage, ctx.thresholds)
        if ratio is None:
            continue
        data = data_skew(stage)
        if data is None or data[1] >= DATA_SKEW_MIN:
            yield stage, ratio, data


@rule("aqe_skew_join_off", "AQE skew-join handling off", "aqe_disabled", Severity.low)
def aqe_skew_join_off(ctx: RuleContext) -> Iterator[Finding]:
    """AQE is on but spark.sql.adaptive.skewJoin.enabled=false: skewed shuffle joins are not split.

    Not reported when a skew finding already switches it on, with the thresholds sized to its partition
    (the key alone, under the default thresholds, often splits nothing)."""
    key = "spark.sql.adaptive.skewJoin.enabled"
    for stage, _, data in skewed_stages(ctx):
        if any(c.key == key for c in skew_recommendation(ctx, stage, data[0] if data else None).config_changes):
            return
    yield from aqe_switch_off(
        ctx, key, sql_shuffle_joins,
        title="AQE skew-join handling is switched off", executions_name="SQL executions with shuffled joins",
        summary="Let AQE split skewed join partitions.", counted_in="skew", doc_words="skewed partition join",
    )


@rule(
    "stage_task_skew",
    "Task-duration skew in a stage",
    "skew",
    Severity.moderate,
    ("skew", "skew_min_task_duration_ms", "skew_min_tasks"),
)
def stage_task_skew(ctx: RuleContext) -> Iterator[Finding]:
    """The longest task of a stage runs several times longer than its median task, and the data it read is skewed too (or was not measured)."""
    t = ctx.thresholds
    for stage, ratio, data in skewed_stages(ctx):
        q = stage.metrics.duration_ms
        assert q is not None
        slots = min(ctx.total_cores or 1, q.count)
        tail_ms = q.max - q.p75
        evidence = [
            ev("max / median task duration", ratio, "ratio", t.skew.moderate, stage.stage_id),
            ev("max task duration", q.max, "ms", t.skew_min_task_duration_ms, stage.stage_id),
            ev("median task duration", q.median, "ms", stage_id=stage.stage_id),
            ev("tasks", q.count, "count", t.skew_min_tasks, stage.stage_id),
        ]
        if data is not None:
            evidence.append(ev(f"max / median {data[0]}", data[1], "ratio", stage_id=stage.stage_id))
        if (stuck := stuck_skew(ctx, stage)) is not None:
            evidence += stuck.evidence(stage.stage_id)
        recommendation = skew_recommendation(ctx, stage, data[0] if data else None)
        method = ("If the longest task ran as long as the stage's 75th-percentile task the stage would end "
                  "max-p75 earlier, and the other task slots would not wait idle for that long.")
        pieces = map_tasks_feeding(ctx, stage)
        if any(c.key.startswith("spark.sql.adaptive.") for c in recommendation.config_changes):
            evidence += aqe_split_evidence(ctx, stage)
            if pieces:
                # what the pasted settings give: the longest task split along its map outputs
                tail_ms = q.max - max(q.max / pieces, q.p75)
                method = ("What the settings give: AQE splits the longest task into at most as many pieces as map "
                          "tasks wrote it, so the stage ends when its largest piece (or its 75th-percentile task) "
                          "does, and the other task slots wait that much less. Salting the key can bring the longest "
                          "task down to the 75th-percentile task.")
        yield ctx.finding(
            title=f"Stage {stage.stage_id}: longest task {human_duration(q.max)} vs median {human_duration(q.median)} ({ratio:.1f}x)",
            evidence=evidence,
            recommendation=recommendation,
            savings=Savings(
                wall_ms=tail_ms,
                core_ms=tail_ms * max(slots - 1, 0),
                method=method,
            ),
            doc_query="data skew join salting adaptive query execution skew join",
            severity=t.skew.severity(ratio, Severity.moderate),
            stage_ids=[stage.stage_id],
            sql_execution_ids=[ctx.stage_to_sql[stage.stage_id]] if stage.stage_id in ctx.stage_to_sql else [],
        )


@rule(
    "stage_data_skew",
    "Data skew in a stage (bytes per task)",
    "skew",
    Severity.low,
    ("skew", "skew_min_partition_bytes", "skew_min_tasks"),
)
def stage_data_skew(ctx: RuleContext) -> Iterator[Finding]:
    """One task reads many times the median bytes (at least the minimum size) though durations are not yet skewed."""
    t = ctx.thresholds
    for stage in ctx.completed_stages:
        if duration_skew(stage, t) is not None:
            continue  # reported by stage_task_skew
        for name in ("shuffle_read_bytes", "input_bytes"):
            q = getattr(stage.metrics, name)
            ratio = max_to_median(q)
            if q is None or ratio is None or q.count < t.skew_min_tasks:
                continue
            if ratio < t.skew.moderate or q.max < t.skew_min_partition_bytes:
                continue
            duration = stage.metrics.duration_ms
            tail_ms = (duration.max - duration.median) if duration else 0.0
            yield ctx.finding(
                title=f"Stage {stage.stage_id}: largest task reads {human_size(q.max)} vs median "
                f"{human_size(q.median)} ({ratio:.1f}x)",
                evidence=[
                    ev(f"max / median {name}", ratio, "ratio", t.skew.moderate, stage.stage_id),
                    ev(f"max {name}", q.max, "bytes", t.skew_min_partition_bytes, stage.stage_id),
                    ev(f"median {name}", q.median, "bytes", stage_id=stage.stage_id),
                ],
                recommendation=skew_recommendation(ctx, stage, name),
                savings=Savings(
                    wall_ms=max(tail_ms, 0.0),
                    method="The time the longest task ran beyond the median task.",
                ),
                doc_query="data skew partition size uneven repartition",
                stage_ids=[stage.stage_id],
            )
            break


@rule(
    "executor_skew",
    "Work unevenly spread across executors",
    "skew",
    Severity.moderate,
    ("executor_skew_ratio", "executor_skew_min_task_time_ms"),
)
def executor_skew(ctx: RuleContext) -> Iterator[Finding]:
    """One executor accumulated several times the median executor's task time (locality waits, slow hosts, skewed input)."""
    t = ctx.thresholds
    busy = [e for e in ctx.profile.executors if e.task_time_ms > 0]
    if len(busy) < 3:
        return
    times = sorted(e.task_time_ms for e in busy)
    median = times[len(times) // 2]
    top = max(busy, key=lambda e: e.task_time_ms)
    if median <= 0 or top.task_time_ms < t.executor_skew_min_task_time_ms:
        return
    ratio = top.task_time_ms / median
    if ratio < t.executor_skew_ratio:
        return
    cores = top.cores or 1
    yield ctx.finding(
        title=f"Executor {top.executor_id} ran {ratio:.1f}x the median executor's task time",
        evidence=[
            ev("max / median executor task time", ratio, "ratio", t.executor_skew_ratio),
            ev("max executor task time", top.task_time_ms, "ms", t.executor_skew_min_task_time_ms),
            ev("median executor task time", median, "ms"),
            ev("executors with tasks", len(busy), "count"),
        ],
        recommendation=Recommendation(
            summary="Let tasks run on any free executor instead of waiting for data-local slots, and check the "
            "busy executor's host.",
            config_changes=[ctx.change("spark.locality.wait", "1s")],
            code_change="If one input file or partition dominates, repartition it after reading.",
        ),
        savings=Savings(
            wall_ms=(top.task_time_ms - median) / cores,
            method="The busiest executor's extra task time beyond the median executor, divided by its cores.",
        ),
        doc_query="spark.locality.wait executor imbalance data locality",
        executor_ids=[top.executor_id],
    )


def partition_bytes_hint(stage: StageProfile) -> str | None:
    """Median shuffle-read bytes per task as a Spark size (used by partition-sizing rules)."""
    q = stage.metrics.shuffle_read_bytes
    return spark_size(q.median) if q is not None and q.median > 0 else None
