"""Caching: DataFrames and RDDs persisted for reuse that no second action read, and files that several SQL
executions read again because nothing was kept."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from tools.eventlog.model import (AQE_READS, PLAN_WRAPPERS, SCAN_OPERATORS, AppProfile, CachedData, PlanNode,
                                  SqlExecution, executions_with_jobs)
from tools.findings import Finding, Recommendation, Savings, Severity
from tools.redact import redact_text
from tools.rules.joins import stage_time_ms
from tools.rules.measure import (EXPRESSION_ID, PY4J_BRIDGE, SCAN_LOCATION, cached_subtree, ev, metric, nodes, read_schema,
                                 runs_label)
from tools.rules.recompute import recomputed_nodes
from tools.rules.registry import RuleContext, rule
from tools.units import count, human_size, one_line

SHOWN = 5  # cached datasets named in one finding
PLAN_CHARS = 90
_CODEGEN = re.compile(r"\*\(\d+\)\s*")
_ADAPTIVE_ROOT = re.compile(r"^AdaptiveSparkPlan isFinalPlan=\w+\s*\+-\s*")
# What a file scan reads, from its description: the format, the files and the filters (columns left out: a count()
# reads none of the columns a write of the same DataFrame reads)
_SCAN_FORMAT = re.compile(r"Format: (\w+)")
_SCAN_PARTS = re.compile(r"(Location: [^\]]*\]|PartitionFilters: \[[^\]]*\]|DataFilters: \[[^\]]*\]|PushedFilters: \[[^\]]*\])")


def read_twice_in_one_action(cached: CachedData, profile: AppProfile) -> bool | None:
    """Whether the one action that ran `cached` read it more than once (a self-join of a cached frame);
    None when the log cannot tell (its SQL execution has no plan)."""
    if not cached.sql_execution_ids:
        # RDD code: each stage through the RDD reads it (SQL stages also count the one that builds it)
        return len(cached.stage_ids) > 1
    execution = profile.sql_execution(cached.sql_execution_ids[0])
    if execution is None or not execution.nodes:
        return None
    return sum(1 for _ in nodes(execution, "InMemoryTableScan")) > 1


def cached_once(profile: AppProfile) -> list[CachedData]:
    """Persisted data that one action ran and read only once: nothing was reused."""
    return [c for c in profile.cached if c.actions == 1 and read_twice_in_one_action(c, profile) is False]


def user_callsite(cached: CachedData) -> str:
    """Where the cached RDD was created in the user's code ("" when Spark logged only the Py4J bridge)."""
    return "" if any(b in cached.callsite for b in PY4J_BRIDGE) else cached.callsite


def cached_what(cached: CachedData) -> str:
    """What a cached RDD holds, readably: the plan it stores (without expression ids), else the user's call site."""
    plan = _ADAPTIVE_ROOT.sub("", " ".join(_CODEGEN.sub("", EXPRESSION_ID.sub("", cached.name)).split()))
    if cached.sql_execution_ids and plan:
        return plan if len(plan) <= PLAN_CHARS else plan[:PLAN_CHARS].rstrip() + "..."
    return user_callsite(cached)


def cached_label(cached: CachedData) -> str:
    """'RDD 33 (Project [id, (id * 2) AS x] +- Range ...)': the RDD and what it holds."""
    what = cached_what(cached)
    return f"RDD {cached.rdd_id} ({what})" if what else f"RDD {cached.rdd_id}"


@rule("cache_not_reused", "Cached data read by one action only", "caching", Severity.low)
def cache_not_reused(ctx: RuleContext) -> Iterator[Finding]:
    """A DataFrame or RDD was persisted (cache(), persist(), CACHE TABLE) but a single action computed and read it:
    storing it cost time and storage memory and saved no recomputation."""
    profile = ctx.profile
    if not profile.complete or profile.streaming:
        return  # a later action (or micro-batch) may still read it
    once = cached_once(profile)
    if not once:
        return
    shown = once[:SHOWN]
    stage_ids = sorted({s for c in shown for s in c.stage_ids})
    evidence = [ev(f"actions that read {cached_label(c)}", c.actions, "count", 2, c.stage_ids[0]) for c in shown]
    evidence.append(ev("persisted datasets in the run", len(profile.cached), "count"))
    callsites = ", ".join(f"`{user_callsite(c)}`" for c in shown if user_callsite(c))
    yield ctx.finding(
        title=f"{count(len(once), 'cached dataset')} read by one action only: never reused",
        evidence=evidence,
        recommendation=Recommendation(
            summary="Drop the cache() / persist() calls whose data only one action reads; keep a cache only for "
            "data that two or more actions (queries, writes, counts) read, and unpersist() it after the last one.",
            code_change=f"Remove the persist call at {callsites}." if callsites else
            "Remove the cache() / persist() of the data named in the evidence.",
        ),
        savings=Savings(method="Not estimated: the log does not time storing the blocks apart from the stage that "
                        "computed them; removing the cache saves that write and frees the storage memory it held."),
        doc_query="what to do: cache only data two or more actions read; remove cache() persist(); "
                  "unpersist() after the last",
        stage_ids=stage_ids[:20],
        sql_execution_ids=sorted({x for c in shown for x in c.sql_execution_ids}),
    )


# A filter comparing a column with a value, as the scan lists it: '(region = 3)' in DataFilters and PartitionFilters,
# 'EqualTo(region,3)' in PushedFilters. Groups: what precedes the value (with the column), the value, the close.
_COMPARED = (
    re.compile(r"(\((?P<column>[\w.`]+) (?:=|<=>|>=|<=|>|<|!=) )(?P<value>[^()]*)(\))"),
    re.compile(r"(\b(?:EqualTo|EqualNullSafe|GreaterThan|GreaterThanOrEqual|LessThan|LessThanOrEqual|StringStartsWith|"
               r"StringEndsWith|StringContains)\((?P<column>[^,()]+),)(?P<value>[^()]*)(\))"),
)


def compared_values(node: PlanNode) -> tuple[tuple[str, str], ...]:
    """The (column, value) pairs a scan's filters compare, in the order its description lists them."""
    text = EXPRESSION_ID.sub("", node.description)
    return tuple((m["column"].strip("`"), m["value"]) for pattern in _COMPARED for m in pattern.finditer(text))


def scan_read(node: PlanNode) -> tuple[str, ...] | None:
    """What a file scan read, as a key two scans share when they read the same files with filters of the same shape:
    format, location and filters without expression ids, compared values left out (a loop running one query per
    value reads the files once per value); None for scans of no files (ranges, RDDs, local data)."""
    text = EXPRESSION_ID.sub("", node.description)
    for pattern in _COMPARED:
        text = pattern.sub(r"\1?\4", text)
    parts = {part.split(":")[0]: part for part in _SCAN_PARTS.findall(text)}
    # the profile keeps a scan description's first 2,000 characters: a read is only known if its files and filters
    # are all there (Spark writes them in this order; Spark 2 has no DataFilters, only PushedFilters after them)
    wanted = ("Location", "PartitionFilters") + (("DataFilters",) if "DataFilters:" in text else ("PushedFilters",))
    if any(name not in parts for name in wanted):
        return None
    found = _SCAN_FORMAT.search(text)
    return (found[1] if found else node.name, *(parts[name] for name in wanted))


OBSERVATION_SINCE = (3, 3)  # pyspark.sql.Observation
LOGGED_COUNT = ("a count() kept only for logging can come from the write itself (obs = Observation(); "
                "df.observe(obs, count(lit(1)).alias('rows')).write..., then obs.get['rows'])")
LOGGED_COUNT_BEFORE_OBSERVATION = "a count() kept only for logging is one more read: drop it, or count the persisted data"


@dataclass(frozen=True)
class CacheReads:
    """One cache of a file scan's rows and the queries that read it: the execution that ran the scan and filled the
    cache, the scan (as that execution shows it) and each reading execution with its InMemoryTableScan, in order."""

    build: SqlExecution
    scan: PlanNode
    reads: list[tuple[SqlExecution, PlanNode]]


def cache_reads(executions: list[SqlExecution]) -> list[CacheReads]:
    """Caches of one file scan each, with their reads. Each execution that ran the cached scan filled a cache of its
    own (a first action, or the first after unpersist()); the executions after it that show the same read without
    running it read that cache."""
    found: list[CacheReads] = []
    last: dict[tuple[str, ...], CacheReads] = {}
    for execution in executions_with_jobs(executions):
        for node in nodes(execution, "InMemoryTableScan"):
            scans = [n for n in execution.below(node) if n.name.startswith(SCAN_OPERATORS)]
            key = scan_read(scans[0]) if len(scans) == 1 else None
            if key is None:
                continue
            if scans[0].stage_ids:
                last[key] = CacheReads(execution, scans[0], [])
                found.append(last[key])
            if key in last:
                last[key].reads.append((execution, node))
    return found


def repeated_reads(executions: list[SqlExecution]) -> list[tuple[tuple[str, ...], list[tuple[int, PlanNode]]]]:
    """File reads that more than one SQL execution made, each with the (execution id, scan) pairs, largest re-read
    first."""
    reads: dict[tuple[str, ...], list[tuple[int, PlanNode]]] = defaultdict(list)
    for execution in executions_with_jobs(executions):
        cached = cached_subtree(execution)
        for node in nodes(execution, *SCAN_OPERATORS):
            if node.node_id in cached and not node.stage_ids:
                continue  # the cached plan's scan, shown again under the cache it built: this execution read the cache
            key = scan_read(node)
            if key is not None and metric(node, "size of files read") is not None:
                reads[key].append((execution.execution_id, node))
    repeated = [(key, found) for key, found in reads.items() if len({x for x, _ in found}) > 1]
    return sorted(repeated, key=lambda item: -reread_bytes(item[1]))


def read_columns(found: list[tuple[int, PlanNode]]) -> str:
    """When the reads took different columns (their ReadSchema), what that means for caching ('' when they agree)."""
    per_read: dict[int, list[str]] = {}
    for execution_id, node in found:
        columns = read_schema(node)
        if columns is None:
            return ""
        per_read.setdefault(execution_id, columns)
    if len({tuple(sorted(c)) for c in per_read.values()}) < 2:
        return ""
    listed = "; ".join(f"SQL {x}: {', '.join(c) or 'none'}" for x, c in list(per_read.items())[:SHOWN])
    return (f" The reads take different columns ({listed}): a persisted DataFrame stores every column it has, and "
            "re-reading a few columns of Parquet, ORC or Delta files is cheap, so select only the columns the later "
            "actions share before persisting, and persist only when the work above the scan (joins, aggregations, "
            "UDFs) or the storage is slow; where they share few columns, dropping the extra actions saves more.")


def _plan_shape(execution: SqlExecution) -> tuple[str, ...]:
    """The operators of an execution's plan, without wrappers and AQE's shuffle reads (present or not by what adaptive
    execution decided in each run)."""
    return tuple(n.name for n in execution.nodes if not n.name.startswith((*PLAN_WRAPPERS, *AQE_READS)))


def per_value_loop(found: list[tuple[int, PlanNode]], by_execution: dict[int, SqlExecution]) -> str:
    """When the reads are one query run once per compared value (a loop over values: the same plan each time, only
    the filter's value differing), the filtered column and values ('region: 0, 1, 2, ... (8 values)'); else ''."""
    if len({_plan_shape(by_execution[x]) for x, _ in found}) != 1:
        return ""
    return varying_filter([node for _, node in found])


def varying_filter(scans: list[PlanNode]) -> str:
    """The column whose compared value differs between scans that read the same files with filters of the same
    shape, and its values ('region: 0, 1, 2, ... (8 values)'); '' when no value differs."""
    compared = list(dict.fromkeys(compared_values(node) for node in scans))
    if len(compared) < 2:
        return ""
    varying = [i for i in range(len(compared[0])) if len({pairs[i] for pairs in compared if len(pairs) > i}) > 1]
    if not varying:
        return ""
    column = compared[0][varying[0]][0]
    values = list(dict.fromkeys(pairs[varying[0]][1] for pairs in compared if len(pairs) > varying[0]))
    shown = ", ".join(values[:SHOWN]) + (", ..." if len(values) > SHOWN else "")
    return redact_text(f"{column}: {shown} ({count(len(values), 'value')})")


def read_label(key: tuple[str, ...], scan: PlanNode) -> str:
    """'Parquet files at s3://bucket/events' (secrets redacted)."""
    location = SCAN_LOCATION.search(scan.description)
    return redact_text(one_line(f"{key[0]} files at {location[1]}" if location else f"{key[0]} files", 160))


def reading_executions(found: list[tuple[int, PlanNode]]) -> list[int]:
    """The SQL executions that made a read, in log order, each once."""
    return list(dict.fromkeys(x for x, _ in found))


def reread_bytes(found: list[tuple[int, PlanNode]]) -> float:
    """Bytes read beyond the first read."""
    sizes = [metric(node, "size of files read") or 0.0 for _, node in found]
    return sum(sizes) - sizes[0]


def _loop_advice(loop: str, actions: str) -> Recommendation:
    """One query per value of a column, each reading all the files: group by the column instead."""
    column = loop.split(":")[0]
    return Recommendation(
        summary=f"A loop ran the same query once per value ({loop}), and each run read all the files: compute every "
        "value in one query.",
        code_change=redact_text(
            f"The reads: {actions}. Group by the column instead of filtering on it (df.groupBy('{column}', ...)"
            ".agg(...), one read for all values; split the result per value on the driver, or write it once with "
            f".write.partitionBy('{column}')). If each value must stay a query of its own, persist the columns the "
            "loop uses before it and unpersist() after, or store the table partitioned by the column so each query "
            "reads only its own files."),
    )


def _loop_savings(ctx: RuleContext, later: list[SqlExecution]) -> Savings:
    """What one grouped query saves over the runs after the first: at most their task time and duration."""
    return Savings(
        core_ms=sum(stage_time_ms(ctx, x) for x in later),
        wall_ms=float(sum(x.duration_ms or 0 for x in later)),
        method="At most the task time and duration of the runs after the first: one query grouped by the column reads "
        "and filters the rows once, but still aggregates every value's rows.",
        code_change_only=True,
    )


@rule(
    "input_read_repeatedly",
    "The same files read by several SQL executions",
    "caching",
    Severity.low,
    ("repeated_read_min_bytes",),
)
def input_read_repeatedly(ctx: RuleContext) -> Iterator[Finding]:
    """Several SQL executions read the same files with the same filters, each from storage: actions on one DataFrame
    that nothing kept (a count() before a write), queries that could share one read, or a loop running one query per
    value of a filtered column."""
    if ctx.profile.streaming:
        return  # each micro-batch reads its own input
    t = ctx.thresholds
    by_execution = {x.execution_id: x for x in ctx.sql_executions}
    rerun = recomputed_nodes(ctx)  # reads inside a join or aggregation run again are that finding's
    for key, found in repeated_reads(ctx.sql_executions):
        found = [(x, node) for x, node in found if (x, node.node_id) not in rerun]
        if len(reading_executions(found)) < 2:
            continue
        again = reread_bytes(found)
        if again < t.repeated_read_min_bytes:
            continue
        executions = reading_executions(found)
        first = found[0][1]
        what = read_label(key, first)
        scan_ms = [metric(node, "scan time") for _, node in found]
        saved = sum(ms or 0.0 for ms in scan_ms[1:]) if scan_ms[0] is not None else 0.0
        actions = runs_label([by_execution[x] for x in executions])
        loop = per_value_loop(found, by_execution)
        evidence = [
            ev("SQL executions that read them", len(executions), "count", 2),
            ev("bytes read again after the first read", again, "bytes", t.repeated_read_min_bytes),
            ev("bytes per read (first)", metric(first, "size of files read") or 0.0, "bytes"),
        ]
        if loop:
            evidence.append(ev("the one query's filter values", loop))
        if saved:
            evidence.append(ev("scan time of the reads after the first", saved, "ms"))
        yield ctx.finding(
            title=f"{what} read by {count(len(executions), 'SQL execution')}"
            + (", the same query once per value" if loop else "") + f" ({human_size(again)} read again)",
            evidence=evidence,
            recommendation=_loop_advice(loop, actions) if loop else Recommendation(
                summary="Read these files once: keep the DataFrame that several actions use, or let one action do the "
                "work of several.",
                code_change=redact_text(
                    f"The reads: {actions}. If they are actions on one DataFrame, persist it before the first "
                    "(df.persist(StorageLevel.MEMORY_AND_DISK), or DISK_ONLY when it is large) and unpersist() after "
                    f"the last; {LOGGED_COUNT if ctx.spark_version >= OBSERVATION_SINCE else LOGGED_COUNT_BEFORE_OBSERVATION}. "
                    "If they are different queries over the same table, filter and project it once and cache that, "
                    "or compute the results in one pass (one groupBy with several aggregates)." + read_columns(found)),
            ),
            savings=_loop_savings(ctx, [by_execution[x] for x in executions[1:]]) if loop else Savings(
                core_ms=saved,
                wall_ms=ctx.spread(saved),
                method="The scan time of the reads after the first (SQL metric 'scan time'); the operators the same "
                "actions recompute above the scan (joins, aggregations) are not counted." if saved else
                "Not estimated: the scans carry no scan-time metric.",
            ),
            doc_query="loop one query per value filter groupBy partitionBy read the table once" if loop else
            "cache persist DataFrame reused by several actions recomputation storage level",
            sql_execution_ids=executions,
        )

