"""Data skipping: a selective filter over a columnar scan whose reader produced mostly rows the filter dropped, because
the files are not clustered by the filtered column or because the predicate could not be pushed to the reader."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tools.eventlog.model import PLAN_WRAPPERS, SCAN_OPERATORS, PlanNode, SqlExecution, executions_with_jobs
from tools.findings import Finding, Recommendation, Savings, Severity
from tools.redact import redact_text
from tools.rules.files import BYTES_READ
from tools.rules.measure import EXPRESSION_ID, action_label, descend, ev, metric
from tools.rules.registry import RuleContext, rule
from tools.units import human_number, human_size, one_line

_PASS_THROUGH = ("ColumnarToRow", *PLAN_WRAPPERS)  # nodes between a Filter and its scan that keep every row
_STATS_FORMATS = ("parquet", "orc", "delta")  # files with per-row-group (Delta: per-file) min/max statistics
_PUSHED = re.compile(r"PushedFilters: \[([^\]]*)\]")
_DATA_FILTERS = re.compile(r"DataFilters: \[([^\]]*)\]")
_DELTA = re.compile(r"Location: (?:TahoeLogFileIndex|PreparedDeltaFileIndex|TahoeBatchFileIndex)")


@dataclass(frozen=True)
class SelectiveScan:
    """A Filter right above a file scan, and what each of them counted."""

    execution: SqlExecution
    filter: PlanNode
    scan: PlanNode
    rows_scanned: float
    rows_kept: float
    bytes_read: float

    @property
    def selectivity(self) -> float:
        return self.rows_kept / self.rows_scanned

    @property
    def pushed(self) -> str:
        """The predicates Spark handed to the reader besides null checks ('' when none)."""
        found = _PUSHED.search(self.scan.description)
        parts = found.group(1).split(", ") if found else []  # Spark joins the predicates with ", "
        return ", ".join(part for part in parts if part and not part.startswith("IsNotNull("))

    @property
    def condition(self) -> str:
        """The filter's predicates on the data, as the scan lists them (expression ids dropped)."""
        found = _DATA_FILTERS.search(self.scan.description)
        text = found.group(1) if found else self.filter.description.removeprefix("Filter ")
        return one_line(redact_text(EXPRESSION_ID.sub("", text)), 160)

    @property
    def format(self) -> str:
        if _DELTA.search(self.scan.description):
            return "delta"
        return self.scan.name.removeprefix("FileScan ").removeprefix("Scan ").split(" ")[0].lower()


def _scan_below(node: PlanNode, children: dict[int, list[PlanNode]]) -> PlanNode | None:
    """The file scan a Filter reads through pass-through nodes only (None when anything else is in between)."""
    below = children.get(node.node_id, [])
    scan = descend(children, below[0], _PASS_THROUGH) if len(below) == 1 else None
    return scan if scan is not None and scan.name.startswith(SCAN_OPERATORS) else None


def selective_scans(executions: list[SqlExecution]) -> list[SelectiveScan]:
    """Every Filter directly over a file scan, with the rows the scan produced and the filter kept (in executions that
    ran jobs: a job-less parent execution mirrors its nested one's plan)."""
    found = []
    for execution in executions_with_jobs(executions):
        children = execution.children()
        for node in execution.nodes:
            if node.name != "Filter" or (scan := _scan_below(node, children)) is None:
                continue
            scanned, kept = metric(scan, "number of output rows"), metric(node, "number of output rows")
            if scanned and kept is not None:
                found.append(SelectiveScan(execution, node, scan, scanned, kept, metric(scan, *BYTES_READ) or 0.0))
    return found


def _fix(scan: SelectiveScan) -> str:
    """The code change: push the predicate where it was not, then cluster the files by the filtered columns."""
    cluster = ("OPTIMIZE the table ZORDER BY (the filtered columns), or switch it to liquid clustering (ALTER TABLE ... "
               "CLUSTER BY (columns), then OPTIMIZE)" if scan.format == "delta" else
               "write the files ordered by the filtered columns (df.repartitionByRange(n, col).sortWithinPartitions(col) "
               "before the write), so each file's and row group's min/max cover a narrow range; partition the table by "
               "the column only if it has few distinct values")
    if scan.pushed:
        return (f"The reader got the predicates ({one_line(scan.pushed, 120)}), yet the row groups it could not skip "
                f"held mostly rows the filter dropped: {cluster}. If the files are already ordered by the column, "
                "smaller files or row groups (the writer's maxRecordsPerFile option, parquet.block.size) make the "
                "skipping finer.")
    return ("No predicate reached the reader besides null checks: the filter wraps the column in a function, a cast "
            f"or a UDF ({scan.condition}). Compare the raw column with literals instead (a day via "
            "ts >= '2024-03-01' AND ts < '2024-03-02', not date_format(ts, ...) = '2024-03-01'), then " + cluster + ".")


@rule(
    "selective_filter_full_scan",
    "Selective filter over a scan its files' statistics did not narrow",
    "data_skipping",
    Severity.moderate,
    ("selective_scan_max_share", "selective_scan_min_bytes", "selective_scan_min_rows"),
)
def selective_filter_full_scan(ctx: RuleContext) -> Iterator[Finding]:
    """A filter kept a small share of the rows a Parquet, ORC or Delta scan produced from a large read: the files'
    min/max statistics did not let the reader skip the rest (data not clustered by the filtered column, or a
    predicate the reader never got)."""
    t = ctx.thresholds
    for scan in selective_scans(ctx.sql_executions):
        if scan.format not in _STATS_FORMATS or scan.bytes_read < t.selective_scan_min_bytes:
            continue
        if scan.selectivity > t.selective_scan_max_share or scan.rows_scanned < t.selective_scan_min_rows:
            continue
        scan_ms = metric(scan.scan, "scan time")
        saved = scan_ms * (1 - scan.selectivity) if scan_ms else 0.0
        label = action_label(scan.execution.execution_id, scan.execution.description)
        evidence = [
            ev("rows the scan produced", scan.rows_scanned, "count", t.selective_scan_min_rows),
            ev("rows the filter kept", scan.rows_kept, "count"),
            ev("rows produced per row kept", scan.rows_scanned / scan.rows_kept, "ratio", 1 / t.selective_scan_max_share)
            if scan.rows_kept else ev("share of rows kept", 0.0, "share", t.selective_scan_max_share),
            ev("size of files read", scan.bytes_read, "bytes", t.selective_scan_min_bytes),
            ev("predicates pushed to the reader", scan.pushed or "null checks only"),
        ]
        if scan_ms:
            evidence.append(ev("scan time", scan_ms, "ms"))
        yield ctx.finding(
            title=f"{label}: a filter kept {human_number(scan.rows_kept)} of the {human_number(scan.rows_scanned)} rows its "
            f"scan of {human_size(scan.bytes_read)} of {scan.format} files produced",
            evidence=evidence,
            recommendation=Recommendation(
                summary=f"Let the reader skip the files and row groups the filter ({scan.condition}) rejects: "
                + ("cluster the data by the filtered columns." if scan.pushed else
                   "write the predicate on the raw column so it reaches the reader, and cluster the data by it."),
                code_change=_fix(scan),
            ),
            savings=Savings(
                core_ms=saved,
                wall_ms=ctx.spread(saved),
                method="At most the scan time of the rows the filter dropped (SQL metric 'scan time' x the share "
                "dropped): skipping works per row group (Delta: per file), so a clustered layout still reads the "
                "groups whose range holds a wanted value." if saved else "Not estimated: the scan has no scan-time "
                "metric.",
                code_change_only=True,
            ),
            doc_query="data skipping min max statistics Parquet row group predicate pushdown Z-order clustering",
            sql_execution_ids=[scan.execution.execution_id],
            stage_ids=list(scan.scan.stage_ids),
        )
