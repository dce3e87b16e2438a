"""A union of filtered copies of one table: each branch of the Union is a scan of the same files with its own filter
(a loop that builds one DataFrame per value and unions them), so one query reads the files once per branch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tools.eventlog.model import PLAN_WRAPPERS, SCAN_OPERATORS, PlanNode, SqlExecution, executions_with_jobs
from tools.findings import Finding, Recommendation, Severity
from tools.rules.caching import read_label, scan_read, varying_filter
from tools.rules.files import BYTES_READ
from tools.rules.measure import descend, ev, metric, nodes
from tools.rules.passes import query_change_finding
from tools.rules.registry import RuleContext, rule
from tools.units import human_size

# between a Union and a branch's scan: operators that transform or drop rows one at a time
_ROW_BY_ROW = (*PLAN_WRAPPERS, "ColumnarToRow", "Project", "Filter")


@dataclass(frozen=True)
class UnionReread:
    """Branches of one Union that each read the same files (filters of one shape, values differing)."""

    execution: SqlExecution
    scans: list[PlanNode]  # one per branch, in branch order
    label: str  # 'Parquet files at file:/data/orders'
    values: str  # 'region: 0, 1, 2, ... (8 values)', '' when the filters do not differ by value

    def again(self) -> float:
        """The size of the files the branches after the first read again."""
        return sum(metric(scan, *BYTES_READ) or 0.0 for scan in self.scans[1:])


def _branch_scan(branch: PlanNode, children: dict[int, list[PlanNode]]) -> PlanNode | None:
    """The file scan a Union branch reads through row-by-row operators only (None when anything else is between)."""
    node = descend(children, branch, _ROW_BY_ROW)
    return node if node.name.startswith(SCAN_OPERATORS) else None


def union_rereads(executions: list[SqlExecution]) -> list[UnionReread]:
    """Every Union with two or more branches that scan the same files (the largest such group of each Union), in
    executions that ran jobs."""
    found = []
    for execution in executions_with_jobs(executions):
        children = execution.children()
        for union in nodes(execution, "Union"):
            groups: dict[tuple[str, ...], list[PlanNode]] = {}
            for branch in children.get(union.node_id, []):
                scan = _branch_scan(branch, children)
                key = scan_read(scan) if scan is not None else None
                if key is not None and metric(scan, *BYTES_READ) is not None:
                    groups.setdefault(key, []).append(scan)
            if groups:
                key, scans = max(groups.items(), key=lambda item: len(item[1]))
                if len(scans) > 1:
                    found.append(UnionReread(execution, scans, read_label(key, scans[0]), varying_filter(scans)))
    return found


UNPIVOT_SINCE = (3, 4)  # DataFrame.unpivot / melt


def _union_code(ctx: RuleContext, found: UnionReread) -> str:
    """One read instead of the union: per-value parameters as a join or column for filtered copies, an unpivot for
    copies that take other columns of the same rows."""
    if found.values:
        return ("Replace the loop of filtered copies and unionByName with one DataFrame: put each value's parameters "
                "in a small DataFrame and join it (F.broadcast(params), on the filtered column), or derive them with "
                "F.when(col == value, ...) chains; filter once with .isin(values) if only those values are wanted. "
                "Where a branch does different work, compute it as a column of the one read.")
    unpivot = ("df.unpivot(ids, values, 'name', 'value') (melt)" if ctx.spark_version >= UNPIVOT_SINCE else
               "selectExpr(..., \"stack(n, 'a', a, 'b', b) as (name, value)\")")
    return ("The branches read the same rows. Where each takes other columns of them (an unpivot written as a union), "
            f"use {unpivot} or explode an array of structs: one read; where they compute different things from the "
            "same rows, compute them as columns of one read.")


@rule(
    "union_rereads_input",
    "One query reads the same files once per union branch",
    "caching",
    Severity.moderate,
    ("repeated_read_min_bytes",),
)
def union_rereads_input(ctx: RuleContext) -> Iterator[Finding]:
    """A Union whose branches each scan the same files with a filter of their own (one DataFrame per value, unioned):
    the query reads the files once per branch where one read could feed them all."""
    for found in union_rereads(ctx.sql_executions):
        again = found.again()
        if again < ctx.thresholds.repeated_read_min_bytes:
            continue
        stage_ids = sorted({i for scan in found.scans for i in scan.stage_ids})
        stages = ctx.profile.stages_of(stage_ids)
        scan_ms = [metric(scan, "scan time") for scan in found.scans]
        saved = sum(ms or 0.0 for ms in scan_ms[1:]) if scan_ms[0] is not None else 0.0
        branches = len(found.scans)
        per_value = f" ({found.values})" if found.values else ""
        yield query_change_finding(
            ctx, found.execution, stages,
            title=f"a union of {branches} {'filtered ' if found.values else ''}copies of {found.label} reads the files "
            f"{branches} times",
            evidence=[
                ev("union branches reading the same files", branches, "count"),
                *([ev("the branches' filter values", found.values)] if found.values else []),
                ev("size of the files read again by the branches after the first", again, "bytes",
                   ctx.thresholds.repeated_read_min_bytes),
                *([ev("scan time of the branches after the first", saved, "ms")] if saved else []),
            ],
            recommendation=Recommendation(
                summary=f"Read the files once: each of the union's {branches} branches{per_value} scans all of "
                f"{found.label} ({human_size(again)} of files read again) to "
                + ("keep its own rows" if found.values else "take its own columns or values")
                + ". Compute what differs per branch from one read.",
                code_change=_union_code(ctx, found),
            ),
            saved_ms=saved,
            method="A floor: the scan time of the branches after the first (SQL metric 'scan time'); the filtering of "
            "every row each of them read is not counted." if saved else "Not estimated: the scans carry no scan-time "
            "metric.",
            doc_query="union filter same table read once join broadcast when column loop",
        )
