"""Partition pruning: a filter on a partitioned table's partition columns written as a Python UDF. Spark prunes
partitions only by predicates it evaluates itself; a Python UDF runs after planning, in a Python worker, on the rows
of every partition the scan read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tools.eventlog.model import (PLAN_WRAPPERS, PYTHON_EVALS, SCAN_OPERATORS, PlanNode, SqlExecution, StageProfile,
                                  executions_with_jobs)
from tools.findings import Finding, Recommendation, Severity
from tools.rules.caching import cache_reads
from tools.rules.join_plan import top_level_split, unwrapped
from tools.rules.measure import EXPRESSION_ID, PARTITION_FILTERS, ev, metric, nodes, read_schema, task_time_ms
from tools.rules.passes import query_change_finding
from tools.rules.registry import RuleContext, rule
from tools.units import human_number, human_share

# between a scan and the Filter above it: operators that pass each row on (a Filter passes the rows it keeps)
_ROW_PRESERVING = (*PLAN_WRAPPERS, "ColumnarToRow", "Project", "Filter", *PYTHON_EVALS)
_ATTRIBUTE = re.compile(r"\b([A-Za-z_]\w*)#(\d+)L?\b")  # 'day#8', 'pythonUDF0#17', 'id#0L'
_OUTPUT = re.compile(r"\[([^\]]*)\]")  # a scan's output columns: the first bracketed list of its description
# 'InMemoryTableScan [amount#7, day#8], [isnotnull(day#8), (day#8 >= 57)]': the columns, then the predicates
_CACHE_PREDICATES = re.compile(r"^InMemoryTableScan \[[^\]]*\], \[(?P<predicates>.+)\]$", re.DOTALL)
_CALLS = re.compile(r"^\w+ \[(?P<calls>.*)\], \[(?P<outputs>[^\]]*)\]")  # 'BatchEvalPython [f(a#1)#9], [pythonUDF0#17]'

Attribute = tuple[str, str]  # (name, expression id)


@dataclass(frozen=True)
class UdfPartitionFilter:
    """A Filter whose predicate is a Python UDF of a scan's partition columns only, which the scan did not prune by."""

    execution: SqlExecution
    scan: PlanNode
    filter: PlanNode
    udf_calls: list[str]  # 'recent(day)', expression ids left out
    columns: list[str]  # the partition columns the UDFs read
    partitions: float  # partitions the scan read
    rows_scanned: float
    rows_kept: float

    @property
    def kept_share(self) -> float:
        return self.rows_kept / self.rows_scanned


def _attributes(text: str) -> set[Attribute]:
    return set(_ATTRIBUTE.findall(text))


def partition_columns(scan: PlanNode) -> set[Attribute]:
    """The partition columns a file scan returns: its output columns the ReadSchema (the files' columns) lacks."""
    output, data = _OUTPUT.search(scan.description), read_schema(scan)
    if output is None or data is None:
        return set()
    return {(name, number) for name, number in _attributes(output[1]) if name not in data and name != "_metadata"}


def _udf_arguments(node: PlanNode) -> dict[Attribute, tuple[str, set[Attribute]]]:
    """Each Python UDF result column an eval operator adds -> (the call, the columns it reads)."""
    found = _CALLS.match(node.description)
    if found is None:
        return {}
    calls, outputs = top_level_split(found["calls"]), top_level_split(found["outputs"])
    if len(calls) != len(outputs):
        return {}
    results = {}
    for call, output in zip(calls, outputs, strict=True):
        attributes = _attributes(output)
        if len(attributes) == 1:
            results[attributes.pop()] = (EXPRESSION_ID.sub("", call), _attributes(call))
    return results


def _udf_conjuncts(condition: str, udfs: dict[Attribute, tuple[str, set[Attribute]]],
                   partitioned: set[Attribute]) -> list[tuple[str, set[Attribute]]]:
    """The UDF calls of the condition's AND-ed parts that test Python UDF results of partition columns alone."""
    found = []
    for part in top_level_split(unwrapped(condition), " AND "):
        attributes = _attributes(part)
        calls = [udfs[a] for a in attributes if a in udfs]
        read = {a for a in attributes if a not in udfs}.union(*(arguments for _, arguments in calls))
        if calls and read and read <= partitioned:
            found.extend(calls)
    return found


def _udf_filter(execution: SqlExecution, scan: PlanNode) -> UdfPartitionFilter | None:
    """The first Filter above `scan` (through row-preserving operators) with a conjunct that is a Python UDF of the
    scan's partition columns alone, where those columns are not among the scan's partition filters."""
    partitioned, pruned = partition_columns(scan), PARTITION_FILTERS.search(scan.description)
    partitions, scanned = metric(scan, "number of partitions read"), metric(scan, "number of output rows")
    if not partitioned or pruned is None or not partitions or not scanned:
        return None
    pruned_by = {name for name, _ in _attributes(pruned[1])}
    udfs: dict[Attribute, tuple[str, set[Attribute]]] = {}
    node = execution.above(scan)
    while node is not None and node.name.startswith(_ROW_PRESERVING):
        if node.name.startswith(PYTHON_EVALS):
            udfs.update(_udf_arguments(node))
        elif node.name == "Filter" and (kept := metric(node, "number of output rows")) is not None:
            calls = _udf_conjuncts(node.description.removeprefix("Filter "), udfs, partitioned)
            read = {name for _, arguments in calls for name, _ in arguments}
            if calls and not read & pruned_by:
                return UdfPartitionFilter(execution, scan, node, list(dict.fromkeys(call for call, _ in calls)),
                                          sorted(read), partitions, scanned, kept)
        node = execution.above(node)
    return None


def udf_partition_filters(executions: list[SqlExecution]) -> list[UdfPartitionFilter]:
    """Every file scan of a partitioned table filtered by a Python UDF of its partition columns (in executions that
    ran jobs: a job-less parent execution mirrors its nested one's plan)."""
    found = []
    for execution in executions_with_jobs(executions):
        for scan in nodes(execution, *SCAN_OPERATORS):
            if (udf_filter := _udf_filter(execution, scan)) is not None:
                found.append(udf_filter)
    return found


def reported_udf_filters(ctx: RuleContext) -> list[tuple[UdfPartitionFilter, list[StageProfile], float, float]]:
    """The UDF partition filters worth a finding, each with the stages running its scan, their task time and what
    pruning saves of it (the task time x the share of rows the filter dropped), from the rule's floor."""
    reported = []
    for found in udf_partition_filters(ctx.sql_executions):
        stages = ctx.profile.stages_of(found.scan.stage_ids)
        task_ms = task_time_ms(stages)
        saved = task_ms * (1 - found.kept_share)
        if saved >= ctx.thresholds.partition_udf_min_task_ms:
            reported.append((found, stages, task_ms, saved))
    return reported


@rule(
    "udf_partition_filter",
    "Partition filter written as a Python UDF: no partition pruned",
    "data_skipping",
    Severity.moderate,
    ("partition_udf_min_task_ms",),
)
def udf_partition_filter(ctx: RuleContext) -> Iterator[Finding]:
    """A Python UDF of a partitioned table's partition columns filtered its rows: Spark cannot prune partitions by a
    Python UDF, so the scan read every partition and the UDF ran on every row, to keep the rows of a few partitions."""
    for found, stages, task_ms, saved in reported_udf_filters(ctx):
        columns, calls = ", ".join(found.columns), "; ".join(found.udf_calls)
        yield query_change_finding(
            ctx, found.execution, stages,
            title=f"{found.scan.name} read all {int(found.partitions)} partitions to keep "
            f"{human_share(found.kept_share)} of the rows by a Python UDF of {columns}",
            evidence=[
                ev("partition filter (Python UDF)", calls),
                ev("partition columns it reads", columns),
                ev("partitions read", found.partitions, "count"),
                ev("rows the scan produced", found.rows_scanned, "count"),
                ev("rows the filter kept", found.rows_kept, "count"),
                ev("task time of the scan's stages", task_ms, "ms"),
            ],
            recommendation=Recommendation(
                summary=f"Write the filter on {columns} with built-in functions so Spark prunes the partitions: "
                f"a Python UDF runs in a Python worker after planning, so the scan read every partition and the UDF "
                f"ran on all {human_number(found.rows_scanned)} rows to keep {human_number(found.rows_kept)}.",
                code_change=f"Replace {calls} in the filter with a comparison on the column (F.col(...) >= ..., "
                ".isin(...), .between(...)) or other pyspark.sql.functions; the scan then lists it under "
                "PartitionFilters and reads only the matching partitions' files. If the test needs Python, compute "
                "the wanted values on the driver first (the partitions' values are few) and filter with "
                "F.col(...).isin(values).",
            ),
            saved_ms=saved,
            method="The task time of the scan's stages x the share of rows the filter dropped: with pruning, the "
            "dropped partitions are neither read nor sent through the UDF (the work left scales with the rows kept).",
            doc_query="partition pruning partition filters Python UDF predicate",
        )


@dataclass(frozen=True)
class CachedWholeTable:
    """A cached DataFrame of a partitioned table that held every partition, while every query reading it kept the
    same few partitions by a filter on the partition columns (applied to the cache, after it was built)."""

    build: SqlExecution  # the execution whose jobs read the files and stored the cache
    scan: PlanNode  # the file scan that filled the cache
    readers: list[int]  # the SQL executions that read the cache
    condition: str  # the filter every reader applied, expression ids left out
    columns: list[str]  # the partition columns it tests
    rows_kept: float  # rows the filter let out of the cache in the building execution


def _cache_filter(node: PlanNode, scan: PlanNode) -> tuple[str, list[str]] | None:
    """For an InMemoryTableScan and the file scan under it, its filter when the filter tests partition columns of
    that scan alone, none of them pruned by the scan: (condition without ids, columns); else None."""
    found = _CACHE_PREDICATES.match(node.description)
    if found is None:
        return None
    parts = [p for p in top_level_split(found["predicates"]) if not p.startswith("isnotnull(")]
    partitioned, pruned = partition_columns(scan), PARTITION_FILTERS.search(scan.description)
    read = set().union(*(_attributes(p) for p in parts)) if parts else set()
    names = {name for name, _ in read}
    if not read or pruned is None or not names <= {name for name, _ in partitioned}:
        return None
    if names & {name for name, _ in _attributes(pruned[1])}:
        return None
    return unwrapped(EXPRESSION_ID.sub("", " AND ".join(parts))), sorted(names)


def cached_whole_tables(executions: list[SqlExecution]) -> list[CachedWholeTable]:
    """Caches of a partitioned table that every reading query filtered the same way on its partition columns, read by
    two or more queries (a cache read once is cache_not_reused's finding), with the execution that built each."""
    found = []
    for cache in cache_reads(executions):
        filters = [_cache_filter(node, cache.scan) for _, node in cache.reads]
        if len(cache.reads) < 2 or None in filters or len({f[0] for f in filters}) != 1:
            continue
        kept = metric(cache.reads[0][1], "number of output rows")
        if kept is not None:
            condition, columns = filters[0]
            found.append(CachedWholeTable(cache.build, cache.scan, [e.execution_id for e, _ in cache.reads],
                                          condition, columns, kept))
    return found


@rule(
    "cache_before_partition_filter",
    "Whole partitioned table cached, every query filtering it to a few partitions",
    "caching",
    Severity.moderate,
    ("cached_partitions_min_task_ms",),
)
def cache_before_partition_filter(ctx: RuleContext) -> Iterator[Finding]:
    """A DataFrame of a partitioned table was cached before its filter: the cache read and stored every partition,
    and every query reading it applied the same filter on the partition columns, which the cache cannot prune by."""
    for found in cached_whole_tables(ctx.sql_executions):
        scanned, partitions = metric(found.scan, "number of output rows"), metric(found.scan, "number of partitions read")
        if not scanned or not partitions:
            continue
        stages = ctx.profile.stages_of(found.scan.stage_ids)
        task_ms = task_time_ms(stages)
        saved = task_ms * (1 - min(found.rows_kept / scanned, 1.0))
        if saved < ctx.thresholds.cached_partitions_min_task_ms:
            continue
        columns = ", ".join(found.columns)
        readers = ", ".join(f"SQL {x}" for x in found.readers)
        yield query_change_finding(
            ctx, found.build, stages,
            title=f"the cache of {found.scan.name} holds all {int(partitions)} partitions; every query reading it "
            f"keeps {found.condition}",
            evidence=[
                ev("filter every query applied to the cache", found.condition),
                ev("SQL executions reading the cache", len(found.readers), "count"),
                ev("partitions read to fill the cache", partitions, "count"),
                ev("rows cached", scanned, "count"),
                ev("rows the filter let out of the cache", found.rows_kept, "count"),
                ev("task time of the stages that filled it", task_ms, "ms"),
            ],
            recommendation=Recommendation(
                summary=f"Filter before cache(): the cache read and stored all {human_number(scanned)} rows of the "
                f"table's {int(partitions)} partitions, and every query reading it ({readers}) kept only "
                f"{human_number(found.rows_kept)} of them by {found.condition}. A cache cannot prune partitions; a "
                f"filter on {columns} applied before it can.",
                code_change=f'Move the filter on {columns} ahead of the cache: apply .where("{found.condition}") to the '
                "DataFrame the reader returns and cache that, instead of caching the whole table and filtering it in "
                "each query; the scan then lists the filter under PartitionFilters and reads only those partitions, "
                "and the cache holds only their rows.",
            ),
            saved_ms=saved,
            method="The task time of the stages that filled the cache x the share of its rows no query let out: "
            "filtered first, those partitions are neither read nor stored.",
            doc_query="cache persist filter before caching partition pruning partition filters",
        )
