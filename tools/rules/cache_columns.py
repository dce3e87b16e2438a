"""Column pruning lost to a cache: a DataFrame cached with every column of a table while the queries that read the
cache use a few. A scan of columnar files reads only the columns its query needs; a cache is filled once, with every
column of the DataFrame cached, whatever its readers take."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tools.eventlog.model import PLAN_WRAPPERS, SCAN_OPERATORS, PlanNode, SqlExecution
from tools.findings import Finding, Recommendation, Severity
from tools.rules.caching import cache_reads
from tools.rules.join_plan import top_level_split
from tools.rules.measure import ev, metric, task_time_ms
from tools.rules.passes import query_change_finding
from tools.rules.registry import RuleContext, rule

_MORE_FIELDS = re.compile(r"^\.\.\. (\d+) more fields$")  # past spark.sql.debug.maxToStringFields, Spark counts the rest
_NAME = re.compile(r"([A-Za-z_]\w*)#\d+L?$")  # 'amount#27', '(a#1 * 2) AS doubled#9': the column a list item outputs
_PASSING = (*PLAN_WRAPPERS, "ColumnarToRow", "Filter")  # operators that keep every column of their child


@dataclass(frozen=True)
class Columns:
    """The columns a plan operator outputs: the names it lists, and how many there are (Spark lists at most
    spark.sql.debug.maxToStringFields of them)."""

    names: list[str]
    total: int


def output_columns(node: PlanNode) -> Columns | None:
    """The columns of a file scan, a Project or an InMemoryTableScan: the first bracketed list of its description;
    None where an item names no column or the list is cut off."""
    text = node.description
    start, depth = text.find("["), 0
    for end in range(start, len(text) if start >= 0 else 0):
        depth += (text[end] in "([") - (text[end] in ")]")
        if depth == 0:
            break
    else:
        return None
    names, more = [], 0
    for item in top_level_split(text[start + 1:end]):
        counted = _MORE_FIELDS.match(item)
        named = _NAME.search(item)
        if counted:
            more = int(counted[1])
        elif named:
            names.append(named[1])
        else:
            return None
    return Columns(names, len(names) + more)


def cached_columns(execution: SqlExecution, cache_scan: PlanNode) -> Columns | None:
    """The columns a cache holds, when its plan is a file scan under filters and at most one Project (the table as
    read, or a select of it): that operator's output; None for caches of joins, aggregations and the like."""
    below = [n for n in execution.below(cache_scan) if not n.name.startswith(_PASSING)]
    top = below[0] if below else None
    if top is None or not all(n.name.startswith(SCAN_OPERATORS) for n in below[1:]):
        return None
    if not top.name.startswith(("Project", *SCAN_OPERATORS)):
        return None
    return output_columns(top)


@dataclass(frozen=True)
class WideCache:
    """A cache read by several queries: the columns it holds and those its readers used."""

    build: SqlExecution
    scan: PlanNode
    readers: list[int]
    cached: Columns
    used: list[str]  # the columns any reader took, in the cache's order


def wide_caches(executions: list[SqlExecution]) -> list[WideCache]:
    """Caches read by two or more queries (one read is cache_not_reused's) whose columns are all known, with the
    columns their readers took."""
    found = []
    for cache in cache_reads(executions):
        cached = cached_columns(cache.build, cache.reads[0][1])
        taken = [output_columns(node) for _, node in cache.reads]
        if len(cache.reads) < 2 or cached is None or cached.total == 0:
            continue  # a count() of the files caches no column
        if any(t is None or len(t.names) < t.total for t in taken):
            continue
        wanted = {name for t in taken if t is not None for name in t.names}
        # in the cache's order; a column past the ones Spark listed at the end
        used = [name for name in cached.names if name in wanted] + sorted(wanted - set(cached.names))
        found.append(WideCache(cache.build, cache.scan, [e.execution_id for e, _ in cache.reads], cached, used))
    return found


@rule(
    "cache_unused_columns",
    "Whole table cached, the queries reading the cache using few of its columns",
    "caching",
    Severity.moderate,
    ("cached_columns_unused_share", "cached_columns_min_task_ms"),
)
def cache_unused_columns(ctx: RuleContext) -> Iterator[Finding]:
    """A DataFrame was cached with every column of the table it read, and the queries reading the cache used few of
    them: the cache read, decoded and stored the rest for nothing."""
    thresholds = ctx.thresholds
    for found in wide_caches(ctx.sql_executions):
        total, used = found.cached.total, len(found.used)
        unused = 1 - used / total
        if unused < thresholds.cached_columns_unused_share:
            continue
        stages = ctx.profile.stages_of(found.scan.stage_ids)
        task_ms = task_time_ms(stages)
        saved = task_ms * unused
        if saved < thresholds.cached_columns_min_task_ms:
            continue
        columns = ", ".join(found.used)
        readers = ", ".join(f"SQL {x}" for x in found.readers)
        selected = ", ".join(f'"{name}"' for name in found.used)
        size = metric(found.scan, "size of files read")
        evidence = [
            ev("columns the cache holds", total, "count"),
            ev("columns the queries reading it used", used, "count"),
            ev("share of the cached columns no query used", unused, "share", thresholds.cached_columns_unused_share),
            ev("SQL executions reading the cache", len(found.readers), "count"),
            ev("task time of the stages that filled it", task_ms, "ms"),
        ]
        if size:
            evidence.insert(3, ev("size of the files read to fill it", size, "bytes"))
        yield query_change_finding(
            ctx, found.build, stages,
            title=f"the cache holds all {total} columns of {found.scan.name}; the queries reading it use {used}",
            evidence=evidence,
            recommendation=Recommendation(
                summary=f"Select the columns before cache(): the cache read, decoded and stored all {total} columns, "
                f"and the queries reading it ({readers}) used {used} of them: {columns}. A scan of the files reads only the columns its query "
                "needs; a cache is filled with every column of the DataFrame cached.",
                code_change=f"Cache .select({selected}) instead of the whole DataFrame, and add a column to that "
                "select when a later query needs it; the scan filling the cache then reads those columns alone and "
                "the cache stores them alone.",
            ),
            saved_ms=saved,
            method="The task time of the stages that filled the cache x the share of its columns no query used "
            "(columns counted alike, whatever their width): selected first, they are neither read nor stored.",
            doc_query="cache persist select columns before caching column pruning in-memory columnar storage",
        )
