"""Joins: sort-merge joins with a side small enough to broadcast, broadcasts that are too large, and equi-joins that
multiply rows (nested-loop joins are nested_joins.py's). Reads the SQL plan tree (SqlExecution.children) and its
metrics."""

from __future__ import annotations

from collections.abc import Iterator

from tools.eventlog.model import SHUFFLED_JOINS, PlanNode, SqlExecution, StageProfile
from tools.findings import Finding, Recommendation, Savings, Severity
from tools.redact import redact_text
from tools.rules.join_plan import (BUILD_LEFT_OK, BUILD_RIGHT_OK, EQUI_JOINS, JoinParts, join_inputs, parse_join,
                                   side_exchange)
from tools.rules.measure import MiB, ev, metric, nodes, operator_name, spark_size
from tools.rules.registry import RuleContext, rule
from tools.rules.skew import duration_skew
from tools.rules.thresholds import RuleThresholds
from tools.units import human_number, human_size


def duplicate_keys_code(parts: JoinParts | None) -> str:
    """How to find the keys that repeat on each side of a join, and the ways to make it match once."""
    def quoted(keys: list[str]) -> str:
        return ", ".join(f"'{k}'" for k in keys)

    if parts is None:
        left = right = "<join keys>"
    else:
        left, right = quoted(parts.left), quoted(parts.right)
    count = ".count().where('count > 1').orderBy(desc('count')).show()"
    sides = (f"side.groupBy({left}){count} on each side" if left == right
             else f"left.groupBy({left}){count}, and the same with right.groupBy({right})")
    return redact_text(
        f"See which keys repeat: {sides}; "
        "then keep one row per key on the side that should have one before the join (dropDuplicates on the key, or "
        "the current row: row_number() over a window partitioned by the key = 1), aggregate that side by key first, "
        "or join on the full key. A catch-all value (0, '', 'unknown') shared by many rows on both sides is better "
        "filtered out and handled apart.")



def skewed_tail_ms(stage: StageProfile, t: RuleThresholds) -> float:
    """The longest task's time beyond the stage's 75th percentile when its durations are skewed, else 0: what the
    skew finding counts for that stage."""
    q = stage.metrics.duration_ms
    return q.max - q.p75 if q is not None and duration_skew(stage, t) is not None else 0.0


def counted_by_skew(stage: StageProfile) -> str:
    """`Savings.counted_elsewhere` of a join finding whose stage's skewed partition the skew finding prices."""
    return f"the skewed partition of stage {stage.stage_id}, which the skew finding counts"


def exchange_bytes(node: PlanNode) -> float | None:
    return metric(node, "data size", "shuffle bytes written")


def join_stage(ctx: RuleContext, join: PlanNode) -> StageProfile | None:
    """The stage that ran the join: the completed stage whose tasks updated its metrics (the longest, should a retry
    or a reused plan have run it twice). None when no completed stage did."""
    ran = [stage for stage in ctx.completed_stages if stage.stage_id in join.stage_ids]
    return max(ran, key=lambda s: s.duration_ms or 0) if ran else None


def stage_time_ms(ctx: RuleContext, execution: SqlExecution) -> float:
    """Summed executor run time of the stages of a SQL execution's jobs."""
    total = 0.0
    for stage in ctx.completed_stages:
        if ctx.stage_to_sql.get(stage.stage_id) == execution.execution_id and stage.metrics.executor_run_time_ms:
            total += stage.metrics.executor_run_time_ms.sum
    return total


@rule(
    "broadcast_join_missed",
    "Sort-merge join with a side small enough to broadcast",
    "broadcast_join_opportunity",
    Severity.moderate,
    ("broadcast_candidate_bytes", "broadcast_size_ratio"),
)
def broadcast_join_missed(ctx: RuleContext) -> Iterator[Finding]:
    """A shuffled join moved and sorted both sides although one side was tiny: broadcasting it avoids
    shuffling (and sorting) the large side."""
    t = ctx.thresholds
    for execution in ctx.sql_executions:
        if not any(n.parent_id is not None for n in execution.nodes):
            continue  # no plan tree (older engine output): not evaluated
        tree = execution.children()
        for join in execution.nodes:
            if operator_name(join) not in SHUFFLED_JOINS:
                continue
            sides = tree.get(join.node_id, [])
            if len(sides) != 2:
                continue
            exchanges = [side_exchange(tree, side) for side in sides]
            if any(x is None for x in exchanges):
                continue
            sizes = [exchange_bytes(x) for x in exchanges]  # type: ignore[arg-type]
            if any(s is None for s in sizes):
                continue
            small_index = 0 if sizes[0] <= sizes[1] else 1  # type: ignore[operator]
            small, large = sizes[small_index], sizes[1 - small_index]
            assert small is not None and large is not None
            join_type = next((jt for jt in BUILD_RIGHT_OK + BUILD_LEFT_OK if f", {jt}" in join.description), None)
            allowed = BUILD_LEFT_OK if small_index == 0 else BUILD_RIGHT_OK
            if join_type is None or join_type not in allowed:
                continue
            if small > t.broadcast_candidate_bytes or large < t.broadcast_size_ratio * max(small, 1.0):
                continue
            large_exchange = exchanges[1 - small_index]
            assert large_exchange is not None
            write_ms = (metric(large_exchange, "shuffle write time") or 0.0) / 1e6  # ns -> ms
            sort_ms = sum(
                metric(n, "sort time") or 0.0 for n in tree.get(sides[1 - small_index].node_id, []) + [sides[1 - small_index]]
            )
            threshold_now = ctx.prop("spark.sql.autoBroadcastJoinThreshold")
            new_threshold = spark_size(max(2 * small, 10 * MiB))
            evidence = [
                ev("small side size (exchange data size)", small, "bytes", t.broadcast_candidate_bytes),
                ev("large side size", large, "bytes"),
                ev("large / small", large / max(small, 1.0), "ratio", t.broadcast_size_ratio),
                ev("spark.sql.autoBroadcastJoinThreshold", threshold_now or "10MB (default)", ""),
                ev("join type", join_type, ""),
            ]
            summary = "Broadcast the small side instead of shuffling and sorting both sides."
            method = ("The large side's shuffle-write time plus its sort time (from SQL metrics), which a "
                      "broadcast hash join does not need.")
            stage = join_stage(ctx, join)
            counted_elsewhere = ""
            skew = duration_skew(stage, t) if stage is not None else None
            if stage is not None and skew is not None:
                # the join's key skew goes with the shuffle: a broadcast join runs in the large side's scan tasks
                evidence.append(ev("join stage max / median task duration", skew, "ratio", stage_id=stage.stage_id))
                summary = (f"Broadcast the small side instead of shuffling and sorting both sides; the join then runs "
                           f"in the tasks that read the large side, so the skewed join partition of stage "
                           f"{stage.stage_id} goes too.")
                method += (f" The skewed partition's time in stage {stage.stage_id} is left out here: the skew "
                           "finding for that stage counts it.")
                counted_elsewhere = counted_by_skew(stage)
            yield ctx.finding(
                title=f"{join.name} in SQL {execution.execution_id}: one side is only {human_size(small)} "
                f"(other {human_size(large)})",
                evidence=evidence,
                recommendation=Recommendation(
                    summary=summary,
                    config_changes=[ctx.change("spark.sql.autoBroadcastJoinThreshold", new_threshold)],
                    code_change="Hint it in code: large_df.join(broadcast(small_df), key) (SQL: /*+ BROADCAST(t) */).",
                ),
                savings=Savings(core_ms=write_ms + sort_ms, wall_ms=ctx.spread(write_ms + sort_ms),
                                method=method, counted_elsewhere=counted_elsewhere),
                stage_ids=[stage.stage_id] if stage is not None else [],
                doc_query="broadcast join hint autoBroadcastJoinThreshold sort merge join",
                sql_execution_ids=[execution.execution_id],
            )


@rule(
    "broadcast_too_large",
    "Broadcast too large",
    "config",
    Severity.moderate,
    ("broadcast_too_large_bytes",),
)
def broadcast_too_large(ctx: RuleContext) -> Iterator[Finding]:
    """A broadcast exchange shipped more than a GiB to every executor: driver and executor memory pressure,
    slow broadcasts."""
    t = ctx.thresholds
    for execution in ctx.sql_executions:
        for node in execution.nodes:
            if not node.name.startswith("BroadcastExchange"):
                continue
            size = metric(node, "data size")
            if size is None or size < t.broadcast_too_large_bytes:
                continue
            broadcast_ms = metric(node, "time to broadcast") or 0.0
            yield ctx.finding(
                title=f"Broadcast of {human_size(size)} in SQL {execution.execution_id}",
                evidence=[
                    ev("broadcast data size", size, "bytes", t.broadcast_too_large_bytes),
                    ev("time to broadcast", broadcast_ms, "ms"),
                    ev("time to collect", metric(node, "time to collect") or 0.0, "ms"),
                ],
                recommendation=Recommendation(
                    summary="Let this join shuffle instead, or shrink the broadcast side (filter/select columns first).",
                    config_changes=[ctx.change("spark.sql.autoBroadcastJoinThreshold", "256MB")],
                    code_change="Remove broadcast() hints on large tables; project only needed columns before the join.",
                ),
                savings=Savings(
                    wall_ms=broadcast_ms,
                    method="The measured broadcast time, spent on the driver before the join could start.",
                ),
                doc_query="broadcast too large OOM autoBroadcastJoinThreshold broadcast timeout",
                sql_execution_ids=[execution.execution_id],
            )


@rule(
    "join_row_explosion",
    "Join multiplies rows: keys repeat on both sides",
    "join_explosion",
    Severity.moderate,
    ("join_fanout_ratio", "join_fanout_min_rows"),
)
def join_row_explosion(ctx: RuleContext) -> Iterator[Finding]:
    """An equi-join produced several times the rows of its larger input: keys repeat on both sides (many-to-many),
    so the join and everything after it handle the multiplied rows. Usually a side meant to have one row per key
    (a history or log table), a key column missing from the condition, or a catch-all key value."""
    t = ctx.thresholds
    for execution in ctx.sql_executions:
        tree = execution.children()
        for join in nodes(execution, *EQUI_JOINS):
            out = metric(join, "number of output rows")
            inputs = join_inputs(tree, join)
            if out is None or out < t.join_fanout_min_rows or inputs is None:
                continue
            left, right = inputs
            larger = max(left, right)
            fanout = out / larger
            if fanout < t.join_fanout_ratio:
                continue
            run_ms = stage_time_ms(ctx, execution)
            stage = join_stage(ctx, join)
            tail_ms = skewed_tail_ms(stage, t) if stage is not None else 0.0
            saved = max(run_ms - tail_ms, 0.0) * 0.5 * (1 - larger / out)
            parts = parse_join(join)
            evidence = [
                ev("output rows / larger input", fanout, "ratio", t.join_fanout_ratio),
                ev("join output rows", out, "count", t.join_fanout_min_rows),
                ev("left input rows", left, "count"),
                ev("right input rows", right, "count"),
            ]
            if parts is not None:
                evidence.append(ev("join keys", redact_text(parts.keys_text())[:200], ""))
            evidence.append(ev("SQL execution task time", run_ms, "ms"))
            method = (f"Rough: half the SQL execution's task time, times the share of the join's output beyond its "
                      f"larger input (1 - 1/{human_number(fanout, 'x')}): the work on rows the duplicate keys added goes, "
                      "the scans and shuffles feeding the join stay. Only if those rows were not intended.")
            counted_elsewhere = ""
            if stage is not None and tail_ms:
                method += f" The skewed join partition's tail in stage {stage.stage_id} is left out: the skew finding counts it."
                counted_elsewhere = counted_by_skew(stage)
            yield ctx.finding(
                title=f"{join.name} in SQL {execution.execution_id} multiplies rows {human_number(fanout, 'x')}: "
                f"{human_number(out)} rows out of {human_number(left)} and {human_number(right)}",
                evidence=evidence,
                recommendation=Recommendation(
                    summary="Make the join match each row once (or as often as intended): its keys repeat on both "
                    "sides, so every row meets every copy. Deduplicate or aggregate the side that should have one row "
                    "per key, or add the key columns the condition is missing.",
                    code_change=duplicate_keys_code(parts),
                ),
                savings=Savings(
                    core_ms=saved,
                    wall_ms=ctx.spread(saved),
                    method=method,
                    counted_elsewhere=counted_elsewhere,
                ),
                stage_ids=[stage.stage_id] if stage is not None else [],
                doc_query="join duplicate keys many-to-many row explosion dropDuplicates row_number window",
                severity=Severity.severe if out >= 1e9 or fanout >= 100 else Severity.moderate,
                sql_execution_ids=[execution.execution_id],
            )
