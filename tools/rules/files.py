"""Files: many small input or output files (from SQL scan/write metrics), and scans of a partitioned table
that read every partition."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from tools.eventlog.model import PlanNode, SqlExecution
from tools.findings import Evidence, Finding, Recommendation, Savings, Severity
from tools.rules.config import aqe_feature_changes
from tools.rules.join_plan import top_level_split
from tools.rules.measure import EXPRESSION_ID, ev, metric, nodes
from tools.rules.pruning import udf_partition_filters
from tools.rules.registry import RuleContext, rule
from tools.units import count, human_size

FILES_READ = ("number of files read", "number of files")
BYTES_READ = ("size of files read", "file size")
FILES_WRITTEN = ("number of written files",)
BYTES_WRITTEN = ("written output",)
# a file write's partition columns, after its ifPartitionNotExists flag: '..., false, [day#4L, hour#5], Parquet, ...'
_WRITE_PARTITIONS = re.compile(r", (?:true|false), \[([^\]]+)\], ")


def _too_small(ctx: RuleContext, files: float | None, size: float | None) -> bool:
    t = ctx.thresholds
    return files is not None and size is not None and files >= t.small_file_min_count and size / files < t.small_file_bytes


def _file_savings(ctx: RuleContext, files: float, size: float, ideal: int | None = None,
                  ideal_means: str = "total size / target file size") -> Savings:
    """The per-file overhead of the files beyond `ideal` (by default what the bytes need at the target file size):
    what compacting or writing fewer files (the code change) saves."""
    t = ctx.thresholds
    ideal = ideal or max(math.ceil(size / t.target_file_bytes), 1)
    saved = (files - ideal) * t.per_file_overhead_ms
    return Savings(
        core_ms=saved,
        wall_ms=ctx.spread(saved),
        method=f"Assumed {t.per_file_overhead_ms:g} ms open/list/commit overhead per file, for the files beyond "
        f"{ideal_means}.",
        code_change_only=True,
    )


def _file_evidence(ctx: RuleContext, files: float, size: float, verb: str) -> list[Evidence]:
    """The numbers of a small-files finding: file count, average size and bytes, read or written."""
    t = ctx.thresholds
    return [
        ev(f"files {verb}", files, "count", t.small_file_min_count),
        ev("average file size", size / files, "bytes", t.small_file_bytes),
        ev(f"bytes {verb}", size, "bytes"),
    ]


@rule(
    "small_input_files",
    "Many small input files",
    "small_files",
    Severity.moderate,
    ("small_file_bytes", "small_file_min_count", "target_file_bytes", "per_file_overhead_ms"),
)
def small_input_files(ctx: RuleContext) -> Iterator[Finding]:
    """A scan read more than 100 files averaging under 3 MiB: listing and opening files dominates the read."""
    for execution in ctx.sql_executions:
        for node in nodes(execution, "Scan", "FileScan", "BatchScan"):
            files, size = metric(node, *FILES_READ), metric(node, *BYTES_READ)
            if not _too_small(ctx, files, size):
                continue
            assert files is not None and size is not None
            yield ctx.finding(
                title=f"{node.name}: {int(files)} files averaging {human_size(size / files)}",
                evidence=_file_evidence(ctx, files, size, "read"),
                recommendation=Recommendation(
                    # no read setting is offered: every file is listed and opened however the read packs files
                    # into tasks, and spark.sql.files.openCostInBytes (the packing weight per file) only moves
                    # files between tasks; raising it spreads them over more tasks
                    summary="Compact the table into files of about 128 MiB: each file is listed and opened "
                    "separately, however the read packs files into tasks.",
                    code_change="Compact the source (Delta: OPTIMIZE; Parquet: rewrite with repartition by size); "
                    "fix the writer that produces small files.",
                ),
                savings=_file_savings(ctx, files, size),
                doc_query="small files problem compaction OPTIMIZE file size",
                sql_execution_ids=[execution.execution_id],
            )


@rule(
    "small_output_files",
    "Many small output files written",
    "small_files",
    Severity.moderate,
    ("small_file_bytes", "small_file_min_count", "target_file_bytes", "per_file_overhead_ms"),
)
def small_output_files(ctx: RuleContext) -> Iterator[Finding]:
    """A write produced more than 100 files averaging under 3 MiB: slow commits now, slow reads later."""
    t = ctx.thresholds
    for execution in ctx.sql_executions:
        for node in execution.nodes:
            files, size = metric(node, *FILES_WRITTEN), metric(node, *BYTES_WRITTEN)
            if not _too_small(ctx, files, size):
                continue
            assert files is not None and size is not None
            parts, columns = metric(node, "number of dynamic part"), written_partition_columns(node)
            if parts and columns:
                yield _partitioned_write(ctx, execution, files, size, int(parts), columns)
                continue
            ideal = max(math.ceil(size / t.target_file_bytes), 1)
            yield ctx.finding(
                title=f"Write produced {int(files)} files averaging {human_size(size / files)}",
                evidence=[*_file_evidence(ctx, files, size, "written"),
                          ev("files at the target file size", ideal, "count")],
                recommendation=Recommendation(
                    summary=f"Write about {count(ideal, 'file')} instead of {int(files)}.",
                    config_changes=aqe_feature_changes(ctx, "spark.sql.adaptive.coalescePartitions.enabled"),
                    code_change=f"coalesce({ideal}) or repartition by the table's partition columns before "
                    ".write; on Delta enable optimized writes (delta.autoOptimize.optimizeWrite).",
                ),
                savings=_file_savings(ctx, files, size),
                doc_query="small output files coalesce before write optimize write",
                sql_execution_ids=[execution.execution_id],
            )


def written_partition_columns(node: PlanNode) -> list[str]:
    """The partition columns of a file write ('Execute InsertIntoHadoopFsRelationCommand file:/t, false, [day#4L],
    Parquet, ...': day); [] for an unpartitioned write or another operator."""
    found = _WRITE_PARTITIONS.search(node.description)
    return [EXPRESSION_ID.sub("", c) for c in top_level_split(found[1])] if found else []


def _partitioned_write(ctx: RuleContext, execution: SqlExecution, files: float, size: float, parts: int,
                       columns: list[str]) -> Finding:
    """Small files from a write partitioned by `columns`: every writing task writes a file into each partition it has
    rows for. Partitions too small for one good file need a coarser partitioning; otherwise one task per partition."""
    t = ctx.thresholds
    named, listed, per_part = ", ".join(columns), ", ".join(repr(c) for c in columns), size / parts
    too_fine = per_part < t.small_file_bytes
    evidence = [*_file_evidence(ctx, files, size, "written"), ev("partition columns", named),
                ev("partitions written", parts, "count"), ev("files per partition", files / parts, "ratio")]
    if too_fine:
        ideal = max(math.ceil(size / t.target_file_bytes), 1)
        evidence.append(ev("average bytes per partition", per_part, "bytes", t.small_file_bytes))
        summary = (f"Partition the table by a coarser column: {named} split {human_size(size)} into {parts} partitions "
                   f"of {human_size(per_part)} on average, too small for one good file each, and each writing task "
                   f"wrote a file into every partition it had rows for ({int(files)} files).")
        code = (f"Partition by a column with few values (a date rather than a timestamp, a region rather than a "
                f"customer), or not at all, and order the rows by {named} within the files instead "
                f"(.sortWithinPartitions({listed}) before .write; Delta: ZORDER BY or liquid clustering); if the "
                f"partitioning must stay, .repartition({listed}) before .write writes "
                f"one file per partition ({parts} files).")
        means = "total size / target file size (a coarser partitioning)"
    else:
        ideal = max(parts, math.ceil(size / t.target_file_bytes))
        summary = (f"Write about {count(ideal, 'file')} instead of {int(files)}: each writing task wrote a file into "
                   f"every partition of {named} it had rows for ({files / parts:.1f} files per partition).")
        code = (f".repartition({listed}) before .write, so each partition's rows are "
                "written by one task (add a second column or a salt to split a partition larger than the target file "
                "size); on Delta, optimized writes (delta.autoOptimize.optimizeWrite) do the same.")
        means = "one file per partition, or total size / target file size where that is more"
    evidence.append(ev("files at the target file size", ideal, "count"))
    return ctx.finding(
        title=f"Write produced {int(files)} files averaging {human_size(size / files)} into {parts} partitions of {named}",
        evidence=evidence,
        recommendation=Recommendation(summary=summary, code_change=code),
        savings=_file_savings(ctx, files, size, ideal, means),
        doc_query="partitionBy too many partitions small files high cardinality partition column",
        sql_execution_ids=[execution.execution_id],
    )


@rule(
    "full_partitioned_scan",
    "Partitioned table scanned without partition filters",
    "config",
    Severity.low,
    ("full_scan_min_partitions", "full_scan_min_bytes"),
)
def full_partitioned_scan(ctx: RuleContext) -> Iterator[Finding]:
    """A scan of a partitioned table had no partition filter and read many partitions and bytes."""
    t = ctx.thresholds
    # scans filtered by a Python UDF of their partition columns: that rule's finding
    filtered_by_udf = {(f.execution.execution_id, f.scan.node_id) for f in udf_partition_filters(ctx.sql_executions)}
    for execution in ctx.sql_executions:
        for node in nodes(execution, "Scan", "FileScan", "BatchScan"):
            if (execution.execution_id, node.node_id) in filtered_by_udf:
                continue
            partitions = metric(node, "number of partitions read")
            size = metric(node, *BYTES_READ)
            if partitions is None or size is None or "PartitionFilters: []" not in node.description:
                continue
            if partitions < t.full_scan_min_partitions or size < t.full_scan_min_bytes:
                continue
            yield ctx.finding(
                title=f"{node.name} read all {int(partitions)} partitions ({human_size(size)}) without a partition filter",
                evidence=[
                    ev("partitions read", partitions, "count", t.full_scan_min_partitions),
                    ev("bytes read", size, "bytes", t.full_scan_min_bytes),
                    ev("partition filters", "none"),
                ],
                recommendation=Recommendation(
                    summary="If the query needs only some of the partitions, filter on the partition columns so Spark "
                    "prunes the rest; a query over the whole table reads them all by design, and then this does not "
                    "apply.",
                    code_change="Add a WHERE clause on the table's partition column(s) (literal values or a "
                    "join that allows dynamic partition pruning).",
                    config_changes=[ctx.change("spark.sql.optimizer.dynamicPartitionPruning.enabled", "true")]
                    if not ctx.bool_property("spark.sql.optimizer.dynamicPartitionPruning.enabled", True)
                    else [],
                ),
                savings=Savings(method="Depends on the filter's selectivity; not estimated."),
                doc_query="partition pruning partition filters dynamic partition pruning",
                sql_execution_ids=[execution.execution_id],
            )
