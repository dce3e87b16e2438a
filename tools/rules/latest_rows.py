"""The latest row per key taken by a self-join: a table joined to its own maximum (or minimum) of a column per key,
on the key and that column. The files are read twice and every row is shuffled for the join, where one aggregation
of the whole row (the maximum of a struct led by the column) reads them once and shuffles a row per key and task."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tools.eventlog.model import (AGGREGATES, AQE_READS, PLAN_WRAPPERS, SCAN_OPERATORS, PlanNode, SqlExecution,
                                  executions_with_jobs)
from tools.findings import Finding, Recommendation, Severity
from tools.rules.join_plan import EQUI_JOINS, parse_join, top_level_split, unwrapped
from tools.rules.measure import (EXPRESSION_ID, PARTITION_FILTERS, SCAN_LOCATION, descend, ev, stages_running_only,
                                 task_time_ms)
from tools.rules.passes import query_change_finding
from tools.rules.registry import RuleContext, rule

# operators between a join and what feeds a side (exchanges, sorts, filters, projections), keeping its rows' values
_THROUGH = (*PLAN_WRAPPERS, *AQE_READS, "Exchange", "Sort", "Filter", "Project", "ColumnarToRow")
# 'HashAggregate(keys=[customer_id], functions=[max(ts)])', expression ids left out: a final max or min per key
_EXTREME = re.compile(r"^\w+Aggregate\(keys=\[(?P<keys>[^\]]*)\], "
                      r"functions=\[(?P<function>max|min)\((?P<column>[\w.`]+)\)\]")


@dataclass(frozen=True)
class SelfJoinedExtreme:
    """A join of a table's rows to its own max / min of a column per key, on the keys and that column."""

    execution: SqlExecution
    join: PlanNode
    keys: list[str]
    function: str  # 'max' / 'min'
    column: str
    stage_ids: list[int]  # the stages of the aggregated side, up to its final aggregation


def _only_scan(execution: SqlExecution, node: PlanNode) -> PlanNode | None:
    """The one file scan at or below `node`, when there is exactly one and nothing but aggregations and row-keeping
    operators between."""
    below = [node, *execution.below(node)]
    scans = [n for n in below if n.name.startswith(SCAN_OPERATORS)]
    others = [n for n in below if not n.name.startswith((*_THROUGH, *AGGREGATES, *SCAN_OPERATORS))]
    return scans[0] if len(scans) == 1 and not others and SCAN_LOCATION.search(scans[0].description) else None


def _location(scan: PlanNode) -> str | None:
    found = SCAN_LOCATION.search(scan.description)
    return found[1] if found else None


def _side_filters(execution: SqlExecution, side: PlanNode) -> set[str]:
    """The conditions a join side puts on its rows, null checks left out: its Filter operators' parts and its scans'
    partition filters, expression ids left out. Both sides of the pattern must keep the same rows."""
    parts: list[str] = []
    for node in (side, *execution.below(side)):
        if node.name == "Filter":
            parts += top_level_split(unwrapped(node.description.removeprefix("Filter ")), " AND ")
        elif node.name.startswith(SCAN_OPERATORS):
            found = PARTITION_FILTERS.search(node.description)
            parts += top_level_split(found[1]) if found else []
    conditions = {unwrapped(EXPRESSION_ID.sub("", part)) for part in parts}
    return {c for c in conditions if not c.startswith("isnotnull(")}


def self_joined_extremes(executions: list[SqlExecution]) -> list[SelfJoinedExtreme]:
    """Joins whose one side is a max / min of a column per key over a table and whose other side reads the same
    files, joined on exactly those keys and that column."""
    found = []
    for execution in executions_with_jobs(executions):
        children = execution.children()
        for join in execution.nodes:
            parts = parse_join(join) if join.name.startswith(EQUI_JOINS) else None
            sides = children.get(join.node_id, []) if parts else []
            if parts is None or len(sides) != 2 or parts.condition:
                continue
            for aggregated, other, keys in ((0, 1, parts.right), (1, 0, parts.left)):  # keys: the other side's
                top = descend(children, sides[aggregated], _THROUGH)
                extreme = _EXTREME.match(EXPRESSION_ID.sub("", top.description)) if top.name in AGGREGATES else None
                if extreme is None:
                    continue
                grouped = [k.strip() for k in top_level_split(extreme["keys"])]
                column = extreme["column"].strip("`")
                read = _only_scan(execution, top)
                rows = descend(children, sides[other], _THROUGH)
                if (read is None or not rows.name.startswith(SCAN_OPERATORS) or _location(rows) != _location(read)
                        or sorted(keys) != sorted([*grouped, column])):
                    continue
                if _side_filters(execution, sides[0]) != _side_filters(execution, sides[1]):
                    continue  # the rows joined back are not the rows aggregated: not one table's latest rows
                side = {n.node_id for n in (top, *execution.below(top))}
                found.append(SelfJoinedExtreme(execution, join, grouped, extreme["function"], column,
                                               stages_running_only(execution, side)))
    return found


@rule(
    "latest_row_self_join",
    "Latest row per key taken by joining a table to its own maximum",
    "shuffle_heavy",
    Severity.moderate,
    ("self_join_min_task_ms",),
)
def latest_row_self_join(ctx: RuleContext) -> Iterator[Finding]:
    """A table was joined to its own max (or min) of a column per key, on the key and that column, to keep each
    key's latest (or earliest) row: the files were read twice and every row shuffled for the join."""
    for found in self_joined_extremes(ctx.sql_executions):
        stages = ctx.profile.stages_of(found.stage_ids)
        task_ms = task_time_ms(stages)
        if task_ms < ctx.thresholds.self_join_min_task_ms:
            continue
        keys = ", ".join(found.keys)
        quoted = ", ".join(f'"{k}"' for k in found.keys)
        which = "latest" if found.function == "max" else "earliest"
        extreme = f"{found.function}({found.column})"
        descending = " descending" if found.function == "max" else ""
        yield query_change_finding(
            ctx, found.execution, stages,
            title=f"the {which} row per {keys} taken by joining the table to its own {extreme}",
            evidence=[
                ev("join", found.join.name),
                ev("aggregation joined back", f"{extreme} per {keys}"),
                ev("task time of the aggregated side's stages", task_ms, "ms", ctx.thresholds.self_join_min_task_ms),
            ],
            recommendation=Recommendation(
                summary=f"Take each {keys}'s {which} row in one aggregation: the query read the same files twice, once "
                f"for {extreme} per {keys} and once for the rows it joined back to it on {keys}, {found.column}, "
                "shuffling every row for the join.",
                code_change=f'df.groupBy({quoted}).agg(F.{found.function}(F.struct("{found.column}", ...the other '
                f'columns)).alias("row")).select({quoted}, "row.*"): one read, and each task keeps one row per key '
                f"before the shuffle. Or {found.function}_by per column (Spark 3.3+), or row_number() over a window "
                f"partitioned by {keys} and ordered by {found.column}{descending}, "
                f"kept where it is 1. Where several rows share the {which} {found.column}, the join kept them all; "
                "these keep one.",
            ),
            saved_ms=task_ms,
            method="The task time of the aggregated side's stages (its second read of the files and the aggregation), "
            "a floor: the join's shuffle and sort of every row, which one aggregation also avoids, are not counted.",
            doc_query="latest row per key max struct window row_number self join aggregate",
        )
