"""Aggregations that copy their input rows: several DISTINCT aggregates on different columns, and grouping sets (cube,
rollup, GROUPING SETS), make Spark emit every input row once per distinct column or grouping set (an Expand) before
aggregating the copies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tools.eventlog.model import AGGREGATES, PLAN_WRAPPERS, PlanNode, SqlExecution, StageProfile, executions_with_jobs
from tools.findings import Finding, Recommendation, Severity
from tools.rules.join_plan import input_rows
from tools.rules.measure import ev, metric, reading_stages, task_time_ms
from tools.rules.passes import query_change_finding
from tools.rules.registry import RuleContext, rule
from tools.units import human_number

# Names Spark gives the column that tells the copies apart: RewriteDistinctAggregates' `gid`, and the grouping id
# of cube / rollup / GROUPING SETS
_DISTINCT_ID = re.compile(r"\bgid#\d+")
_GROUPING_ID = re.compile(r"\bspark_grouping_id#\d+")


@dataclass(frozen=True)
class ExpandedAggregate:
    """An Expand feeding an aggregation, with the rows it took and emitted and the stages that handled the copies."""

    execution: SqlExecution
    expand: PlanNode
    aggregate: PlanNode
    kind: str  # 'distinct' (DISTINCT aggregates on several columns) or 'grouping sets'
    rows_in: float
    rows_out: float
    stages: list[StageProfile]

    @property
    def copies(self) -> float:
        return self.rows_out / self.rows_in

    @property
    def what(self) -> str:
        """What copied the rows: 'DISTINCT aggregates on several columns', 'grouping sets (cube, rollup)'."""
        return _ADVICE[self.kind].what

    @property
    def task_ms(self) -> float:
        return task_time_ms(self.stages)


def copy_kind(execution: SqlExecution, expand: PlanNode, aggregate: PlanNode) -> str | None:
    """What made the copies, from the copy id the aggregation groups by: in the two operators' descriptions, or in
    the plan text where those are cut short. None for an Expand no aggregation of copies reads (unpivot, stack)."""
    for text in (aggregate.description + expand.description, execution.physical_plan):
        if _GROUPING_ID.search(text):
            return "grouping sets"
        if _DISTINCT_ID.search(text):
            return "distinct"
    return None


def expanded_aggregates(ctx: RuleContext) -> list[ExpandedAggregate]:
    """Every Expand whose output an aggregation groups by its copy id (in executions that ran jobs), with the
    completed stages that ran it and those that read the partial aggregation's shuffle."""
    found = []
    for execution in executions_with_jobs(ctx.sql_executions):
        children = execution.children()
        for expand in execution.nodes:
            if expand.name != "Expand" or (aggregate := execution.above(expand, skip=PLAN_WRAPPERS)) is None:
                continue
            rows_in = input_rows(children, expand)
            rows_out = metric(expand, "number of output rows")
            if not aggregate.name.startswith(AGGREGATES) or not rows_out or not rows_in:
                continue
            if (kind := copy_kind(execution, expand, aggregate)) is None:
                continue
            exchange = execution.above(aggregate, skip=PLAN_WRAPPERS)
            stage_ids = list(expand.stage_ids)
            if exchange is not None and exchange.name == "Exchange":
                stage_ids += reading_stages(exchange)
            found.append(ExpandedAggregate(execution, expand, aggregate, kind, rows_in, rows_out,
                                           ctx.completed(stage_ids)))
    return found


def reported_expansions(ctx: RuleContext) -> list[ExpandedAggregate]:
    """The Expands worth a finding: at least two copies of each row, and the floor of task time handling them."""
    return [x for x in expanded_aggregates(ctx) if x.copies >= 2 and x.task_ms >= ctx.thresholds.expand_min_task_ms]


_SCALES = "The task time of the stages that made and aggregated the copies x (1 - 1/copies), if their work scales with "


@dataclass(frozen=True)
class _Advice:
    what: str  # what copied the rows, as the title names it
    summary: str
    code_change: str
    method: str  # how the saving is estimated, after `_SCALES`


_ADVICE = {
    "distinct": _Advice(
        "DISTINCT aggregates on several columns",
        "DISTINCT aggregates on several columns in one aggregation (count(DISTINCT a), count(DISTINCT b), ...) make "
        "Spark copy every row once per distinct column, plus once for the other aggregates, and shuffle the copies: "
        "count each column's distinct values without copying the rows.",
        "Where an estimate serves (dashboards, monitoring), use approx_count_distinct(col, rsd) for each column "
        "(HyperLogLog++, relative standard deviation rsd, 0.05 by default): each group shuffles a small sketch and "
        "nothing is copied. For exact counts, aggregate each column on its own, "
        "df.select(keys..., col).distinct().groupBy(keys...).count(), and join the results on the keys: each "
        "shuffles one column's distinct pairs instead of every copy of every row.",
        "the rows, as with approx_count_distinct; exact counts computed one column at a time still shuffle each "
        "column's distinct pairs and save less.",
    ),
    "grouping sets": _Advice(
        "grouping sets (cube, rollup)",
        "cube, rollup and GROUPING SETS copy every input row once per grouping set before aggregating: aggregate the "
        "rows at the finest grain first, then build the grouping sets over that smaller result.",
        "Group by all the dimensions first (groupBy(dims...).agg(sum(x), count(*))), then cube or roll up that "
        "result, re-aggregating with sum (counts become sums of counts, averages sum/count; distinct counts cannot "
        "be re-aggregated this way). Ask only for the grouping sets the output uses: GROUPING SETS ((a, b), (a), ()) "
        "instead of CUBE (a, b, c), which makes 2^n of them.",
        "the rows: aggregating first leaves the grouping sets one row per combination of the dimensions.",
    ),
}


@rule(
    "aggregate_copies_rows",
    "An aggregation copied each input row several times",
    "aggregate_expansion",
    Severity.moderate,
    ("expand_min_task_ms",),
)
def aggregate_copies_rows(ctx: RuleContext) -> Iterator[Finding]:
    """Several DISTINCT aggregates on different columns, or cube / rollup / GROUPING SETS, made Spark copy every input
    row once per distinct column or grouping set (an Expand) and aggregate, and often shuffle, all the copies."""
    floor = ctx.thresholds.expand_min_task_ms
    for found in reported_expansions(ctx):
        advice, saved = _ADVICE[found.kind], found.task_ms * (1 - 1 / found.copies)
        evidence = [
            ev("rows into the Expand", found.rows_in, "count"),
            ev("rows out of the Expand", found.rows_out, "count"),
            ev("copies of each row", found.copies, "ratio", 2.0),
            ev("task time of the stages handling the copies", found.task_ms, "ms", floor),
        ]
        kept = metric(found.aggregate, "number of output rows")
        if kept is not None:
            evidence.append(ev("rows the partial aggregation kept", kept, "count"))
        yield query_change_finding(
            ctx, found.execution, found.stages,
            title=f"{found.what} copied each of {human_number(found.rows_in)} input rows {found.copies:.0f} times",
            evidence=evidence,
            recommendation=Recommendation(summary=advice.summary, code_change=advice.code_change),
            saved_ms=saved, method=_SCALES + advice.method,
            doc_query="count distinct several columns Expand approx_count_distinct cube rollup grouping sets",
        )
