"""Shuffles the query sends to one partition: a window with no partitionBy, repartition(1), a limit, a global
operation with no key. One task then does all the work after the shuffle, and no partition setting spreads it."""

from __future__ import annotations

from collections.abc import Iterator

from tools.eventlog.model import AQE_READS, PlanNode, SqlExecution, StageProfile
from tools.findings import Finding, Recommendation, Savings, Severity
from tools.rules.measure import ev, metric, nodes, reading_stages
from tools.rules.registry import RuleContext, rule
from tools.units import human_duration, human_size

# Operators between an exchange and the operator that consumes it, which say nothing about why it is one partition
_PASS_THROUGH = ("ShuffleQueryStage", "InputAdapter", "WholeStageCodegen", *AQE_READS, "Sort", "Project", "Filter")


def single_partition_exchange(ctx: RuleContext, stage: StageProfile) -> tuple[SqlExecution, PlanNode] | None:
    """The `Exchange SinglePartition` a one-task SQL stage read rows from, with its execution. The rows read are the
    task's shuffle-read metric or, when that is nil, the exchange's SQL metric: a task behind a limit that stops
    reading early can end with no shuffle-read task metrics (two of three runs of the limit_sample workload)."""
    read = stage.metrics.shuffle_read_records
    execution = ctx.profile.sql_execution(ctx.stage_to_sql.get(stage.stage_id))
    if stage.num_tasks != 1 or execution is None:
        return None
    for node in nodes(execution, "Exchange"):
        if not node.description.startswith("Exchange SinglePartition") or stage.stage_id not in reading_stages(node):
            continue
        if (read is not None and read.sum) or metric(node, "records read"):
            return execution, node
    return None


def consumer(execution: SqlExecution, exchange: PlanNode) -> PlanNode | None:
    """The first operator above `exchange` that is not a wrapper, sort, projection or filter."""
    return execution.above(exchange, skip=_PASS_THROUGH)


def single_partition_advice(execution: SqlExecution, exchange: PlanNode) -> str:
    """What in the code sends every row to one partition, and what to write instead."""
    above = consumer(execution, exchange)
    if above is not None and above.name.startswith("Window"):
        return ("The window has no partitionBy, so Spark moves every row to one task to order them: partition the "
                "window by a key (Window.partitionBy(key).orderBy(...)) when the numbering, lag or running total is "
                "per group; for an id over all rows use monotonically_increasing_id() (unique, not consecutive), or "
                "zipWithIndex() on the RDD for consecutive numbers, neither of which gathers the rows.")
    if above is not None and above.name.startswith("GlobalLimit"):
        return ("The code takes rows with limit(n): Spark gathers them into one partition to keep n, and every step "
                "after the limit runs in that one task. For a sample, use sample(fraction) (or sampleBy per key), "
                "which keeps each partition's share where it is; when the first n rows themselves are needed, "
                "repartition right after the limit so the steps after it run in parallel.")
    if "REPARTITION" in exchange.description:
        return ("The code repartitions to one partition (repartition(1), or coalesce(1) after a shuffle) so one task "
                "does the rest: write with many partitions and, if a single file is required, merge the files "
                "afterwards (compaction) instead of funnelling the job through one task.")
    if above is not None and "Aggregate" in above.name:
        return ("An aggregation with no grouping key gathers every row in one task (collect_list, a sort-based or "
                "distinct aggregate without a partial step): group by a key first and combine the per-group results.")
    return ("The plan moves every row to one partition (an operation over all rows with no key): give it a key, or "
            "reduce the rows before that step.")


@rule(
    "single_partition_shuffle",
    "All rows shuffled to one partition",
    "too_few_partitions",
    Severity.moderate,
    ("single_partition_min_bytes",),
)
def single_partition_shuffle(ctx: RuleContext) -> Iterator[Finding]:
    """The query sent every row to one partition (Exchange SinglePartition) and one task processed them all while the
    other cores waited; partition settings cannot split it, only the code can."""
    t = ctx.thresholds
    for stage in ctx.completed_stages:
        found = single_partition_exchange(ctx, stage)
        if found is None:
            continue
        execution, exchange = found
        written = metric(exchange, "shuffle bytes written") or 0.0
        if written < t.single_partition_min_bytes:
            continue
        cores = ctx.cores_during(stage.submission_time_ms, stage.completion_time_ms) or 1
        wall = stage.duration_ms or 0
        above = consumer(execution, exchange)
        rows = metric(exchange, "shuffle records written")
        evidence = [
            ev("bytes moved to one partition", written, "bytes", t.single_partition_min_bytes, stage.stage_id),
            *([ev("rows moved to one partition", rows, "count", stage_id=stage.stage_id)] if rows is not None else []),
            ev("tasks", 1, "count", stage_id=stage.stage_id),
            ev("cores", cores, "count", stage_id=stage.stage_id),
            ev("stage duration", wall, "ms", stage_id=stage.stage_id),
        ]
        if above is not None:
            evidence.append(ev("operator that needed one partition", above.name, "", stage_id=stage.stage_id))
        idle_ms = wall * (cores - 1)
        yield ctx.finding(
            title=f"Stage {stage.stage_id}: all {human_size(written)} of a shuffle went to one task "
            f"({human_duration(wall)} on 1 of {cores} cores)",
            evidence=evidence,
            recommendation=Recommendation(
                summary="Let the work after this shuffle run in parallel: the query itself sends every row to one "
                "partition, so no partition setting splits it; change the code.",
                code_change=single_partition_advice(execution, exchange),
            ),
            savings=Savings(
                core_ms=idle_ms,
                wall_ms=wall - wall / cores if cores > 1 else 0.0,
                method="The other cores' idle time while the one task ran; spread over every core the stage would "
                "take 1/cores of its time.",
            ),
            doc_query="window function without partitionBy single partition performance repartition coalesce",
            severity=Severity.severe if written >= 10 * t.single_partition_min_bytes else Severity.moderate,
            stage_ids=[stage.stage_id],
            sql_execution_ids=[execution.execution_id],
        )
