"""Nested-loop and cartesian joins: a join condition with no equality Spark can hash or sort on compares every row of
one side with every row of the other. What to change depends on the condition: alternatives joined by OR, a NOT IN
subquery, a range, or no condition at all."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tools.eventlog.model import PlanNode
from tools.findings import Finding, Recommendation, Savings, Severity
from tools.rules.join_plan import unwrapped
from tools.rules.joins import stage_time_ms
from tools.rules.measure import EXPRESSION_ID, ev, metric
from tools.rules.registry import RuleContext, rule
from tools.units import one_line

NESTED_JOINS = ("CartesianProduct", "BroadcastNestedLoopJoin")
# 'BroadcastNestedLoopJoin BuildRight, Inner, (cond)' / 'CartesianProduct (cond)': the join type, then the condition
_JOIN_TYPES = r"(?:Inner|Cross|LeftOuter|RightOuter|FullOuter|LeftSemi|LeftAnti|ExistenceJoin\([^)]*\))"
_CONDITION = re.compile(
    rf"^(?:BroadcastNestedLoopJoin Build\w+, (?P<type>{_JOIN_TYPES}),?|CartesianProduct)\s*(?P<cond>.*)$", re.S)
_EQUALITY_OR = re.compile(r"\([^()]+ = [^()]+\) OR \([^()]+ = [^()]+\)")
_RANGE = re.compile(r" (?:<|<=|>|>=) ")


def condition_kind(node: PlanNode) -> tuple[str, str]:
    """('or' | 'not in' | 'range' | 'none' | 'other', the condition without expression ids)."""
    text = EXPRESSION_ID.sub("", node.description)
    found = _CONDITION.match(text)
    condition = unwrapped(found["cond"].strip()) if found else ""
    join_type = found["type"] if found else ""
    if not condition:
        return "none", ""
    if join_type == "LeftAnti" and "isnull(" in condition:
        return "not in", condition  # NOT IN's null-aware form: (a = b) OR isnull((a = b))
    if _EQUALITY_OR.search(condition):
        return "or", condition
    if _RANGE.search(condition):
        return "range", condition
    return "other", condition


_ADVICE = {
    "or": (
        "The join condition is alternatives joined by OR ({condition}), which Spark cannot hash or sort on: it "
        "compared every pair of rows. Join once per alternative and union the results.",
        "One equi-join per equality (left.join(right, left.a == right.a), left.join(right, left.b == right.b)), then "
        "union them and dropDuplicates on the matched pair's ids, since a pair can match on more than one; each join "
        "hashes or sorts on its key instead of comparing all pairs.",
    ),
    "not in": (
        "A NOT IN subquery runs as a null-aware anti join (the condition's 'OR isnull(...)' parts) that compares "
        "every row with every row of the subquery: write it as NOT EXISTS or a left anti join.",
        "WHERE NOT EXISTS (SELECT 1 FROM s WHERE s.k = t.k), or t.join(s, 'k', 'left_anti'): an anti join on the "
        "key that Spark hashes or sorts. They differ from NOT IN only when the subquery's column holds NULLs (NOT IN "
        "then returns no rows at all), which is rarely what the query meant.",
    ),
    "range": (
        "The join condition is a range ({condition}), with no equality Spark can hash or sort on: give both sides a "
        "coarse key they share and join on it as well.",
        "Add an equi-key both sides share: the bucket of the ranged value (its day, or floor(value / width)), with "
        "each range row exploded to every bucket it spans; join on the bucket and keep the range condition as a "
        "filter. Where one side holds few ranges, broadcasting it keeps the nested loop cheap.",
    ),
    "none": (
        "The join has no condition: every row of one side is paired with every row of the other. If the rows are "
        "filtered afterwards, put that condition in the join; if it has an equality, Spark hashes or sorts on it.",
        "Join on key columns (a.k = b.k); if a cross product is intended, keep the smaller side tiny (broadcast it) "
        "and filter before the join, not after.",
    ),
    "other": (
        "The join condition ({condition}) has no equality Spark can hash or sort on: it compared every pair of rows.",
        "Join on key columns (a.k = b.k) where the condition implies one (an expression on both sides can be "
        "computed into a column first); for range conditions, bucket both sides into ranges and equi-join on the "
        "bucket first.",
    ),
}


@rule("cartesian_join", "Cartesian or nested-loop join", "cartesian_join", Severity.moderate)
def cartesian_join(ctx: RuleContext) -> Iterator[Finding]:
    """A CartesianProduct or BroadcastNestedLoopJoin compares every row with every row (no equi-join key)."""
    for execution in ctx.sql_executions:
        for node in execution.nodes:
            if not node.name.startswith(NESTED_JOINS):
                continue
            kind, condition = condition_kind(node)
            rows = metric(node, "number of output rows")
            run_ms = stage_time_ms(ctx, execution)
            evidence = [ev("join operator", node.name, ""), ev("condition", node.description[:200], "")]
            if rows is not None:
                evidence.append(ev("output rows", rows, "count"))
            evidence.append(ev("SQL execution task time", run_ms, "ms"))
            summary, code = _ADVICE[kind]
            yield ctx.finding(
                title=f"{node.name} in SQL {execution.execution_id}",
                evidence=evidence,
                recommendation=Recommendation(summary=summary.format(condition=one_line(condition, 120)),
                                              code_change=code),
                savings=Savings(
                    core_ms=run_ms * 0.5,
                    wall_ms=ctx.spread(run_ms * 0.5),
                    method="Rough: half the SQL execution's task time, assuming an equi-join replaces the n x m "
                    "comparisons.",
                ),
                doc_query="cartesian product BroadcastNestedLoopJoin cross join equi-join condition",
                severity=Severity.severe if (rows or 0) >= 1e9 or run_ms >= 3_600_000 else Severity.moderate,
                sql_execution_ids=[execution.execution_id],
            )
