"""`diagnose_table`: findings about a table's file layout, each with the numbers and the change to make.

Rules: small files, Delta auto compaction / optimized writes off, Z-order / clustering
candidates (from the application's filters when a profile is given), skewed partitions,
over-partitioning, oversized or unsplittable files, VACUUM due, unsafe retention, and
uncompressed Parquet.
"""

from __future__ import annotations

import math
import re

from tools.findings import ConfigChange, Evidence, Finding, Severity, advice_finding
from tools.tables.model import TableProfile, TableThresholds
from tools.tables.plan_filters import filter_columns
from tools.units import human_size

MAX_ZORDER_COLUMNS = 4
NOT_ESTIMATED = "not estimated: the gain depends on how often the table is read"


def diagnose_table(table: TableProfile, profile=None, thresholds: TableThresholds | None = None) -> list[Finding]:
    """Every layout finding for `table`; `profile` (AppProfile) adds Z-order candidates from its SQL filters."""
    thresholds = thresholds or TableThresholds()
    candidates = _zorder_candidates(table, profile, thresholds)
    findings = [
        _small_files(table, thresholds, candidates),
        _delta_auto_optimize_off(table, thresholds),
        _data_skipping(table, thresholds, candidates, profile),
        _partition_skew(table, thresholds),
        _over_partitioned(table, thresholds, candidates),
        _oversized_files(table, thresholds),
        _vacuum_due(table, thresholds),
        _unsafe_retention(table, thresholds),
        _uncompressed(table),
    ]
    return [finding for finding in findings if finding is not None]


def table_name(table: TableProfile) -> str:
    """How SQL should name the table: delta.`path` for Delta, the path otherwise."""
    return f"delta.`{table.path}`" if table.format == "delta" else f"`{table.path}`"


def _zorder_candidates(table: TableProfile, profile, thresholds: TableThresholds) -> list[str]:
    if profile is None:
        return []
    skip = set(table.partitions.columns)
    names = [c.name for c in table.columns if c.name not in skip and not _clustered(c, thresholds)]
    return [c.name for c in filter_columns(profile, names, table.path)][:MAX_ZORDER_COLUMNS]


def _clustered(column, thresholds: TableThresholds) -> bool:
    """File statistics already skip most files for this column."""
    return column.point_lookup_file_ratio is not None and column.point_lookup_file_ratio <= thresholds.clustered_file_ratio


def _small_files(table: TableProfile, t: TableThresholds, zorder: list[str]) -> Finding | None:
    if table.file_count < t.min_files_for_small_file_finding or table.small_file_ratio < t.small_file_ratio:
        return None
    ideal_files = max(1, math.ceil(table.total_bytes / t.target_file_bytes), table.partitions.count)
    reduction = table.file_count / ideal_files
    if reduction < 2:
        return None
    severity = Severity.severe if reduction >= 100 else Severity.moderate if reduction >= 10 else Severity.low
    evidence = [
        Evidence(name="data files", value=table.file_count, unit="count"),
        Evidence(name="files smaller than the small-file threshold", value=table.small_files, unit="count"),
        Evidence(name="small-file ratio", value=round(table.small_file_ratio, 3), unit="ratio", threshold=t.small_file_ratio),
        Evidence(name="median file size", value=table.files.median_bytes, unit="bytes", threshold=t.small_file_bytes),
        Evidence(name="files after compaction to the target size", value=ideal_files, unit="count"),
    ]
    if table.format == "delta":
        statement = f"OPTIMIZE {table_name(table)}" + (f" ZORDER BY ({', '.join(zorder)})" if zorder else "")
        summary = f"Compact {table.file_count} files into about {ideal_files}: run `{statement}`."
        code = statement
    else:
        by = f", {', '.join(repr(c) for c in table.partitions.columns)}" if table.partitions.columns else ""
        summary = (
            f"Rewrite the {table.file_count} files as about {ideal_files} files of ~{human_size(t.target_file_bytes)}, "
            f"and make the writer produce fewer files (repartition before write{' by the partition columns' if by else ''})."
        )
        code = f"df.repartition({ideal_files}{by}).write.partitionBy(...).{table.format}(new_path)" if by else f"df.repartition({ideal_files}).write.{table.format}(new_path)"
    return advice_finding(
        rule_id="table_small_files",
        category="small_files",
        severity=severity,
        title=f"{table.small_files} of {table.file_count} files are smaller than {human_size(t.small_file_bytes)}",
        evidence=evidence,
        summary=summary,
        code_change=code,
        savings_method=NOT_ESTIMATED,
        doc_query="small files compaction OPTIMIZE maxPartitionBytes openCostInBytes",
    )


def _delta_auto_optimize_off(table: TableProfile, t: TableThresholds) -> Finding | None:
    delta = table.delta
    if delta is None or (delta.auto_compact and delta.optimize_write):
        return None
    many_small_now = table.file_count >= t.min_files_for_small_file_finding and table.small_file_ratio >= t.small_file_ratio
    per_write = delta.median_files_added_per_write or 0
    per_write_bytes = (delta.median_bytes_added_per_write or 0) / per_write if per_write else None
    small_writes = per_write >= 8 and per_write_bytes is not None and per_write_bytes < t.small_file_bytes
    if not (many_small_now or small_writes):
        return None
    changes = [
        ConfigChange(key=key, value="true", current=None if current is None else str(current).lower())
        for key, current in (("delta.autoOptimize.autoCompact", delta.auto_compact), ("delta.autoOptimize.optimizeWrite", delta.optimize_write))
        if not current
    ]
    properties = ", ".join(f"'{c.key}' = 'true'" for c in changes)
    evidence = [
        Evidence(name="small-file ratio", value=round(table.small_file_ratio, 3), unit="ratio", threshold=t.small_file_ratio),
        Evidence(name="delta.autoOptimize.autoCompact", value=str(delta.auto_compact).lower() if delta.auto_compact is not None else "not set"),
        Evidence(name="delta.autoOptimize.optimizeWrite", value=str(delta.optimize_write).lower() if delta.optimize_write is not None else "not set"),
    ]
    if delta.median_files_added_per_write is not None:
        evidence.append(Evidence(name="median files added per write", value=delta.median_files_added_per_write, unit="count"))
    return advice_finding(
        rule_id="delta_auto_optimize_off",
        category="config",
        severity=Severity.moderate if many_small_now else Severity.low,
        title="Writes keep adding small files and the table does not compact them itself",
        evidence=evidence,
        summary="Enable optimized writes and auto compaction on the table so each write produces right-sized files.",
        code_change=f"ALTER TABLE {table_name(table)} SET TBLPROPERTIES ({properties})",
        config_changes=changes,
        savings_method=NOT_ESTIMATED,
        doc_query="Delta auto compaction optimized writes autoOptimize",
    )


def _data_skipping(table: TableProfile, t: TableThresholds, candidates: list[str], profile) -> Finding | None:
    if profile is None or not candidates or table.file_count < 2:
        return None
    delta = table.delta
    already = set(delta.zorder_columns + delta.clustering_columns) if delta else set()
    missing = [c for c in candidates if c not in already]
    if not missing:
        return None
    columns = filter_columns(profile, [c.name for c in table.columns], table.path)
    counts = {c.name: c for c in columns}
    evidence = [
        Evidence(name=f"filter predicates on {name}", value=counts[name].occurrences, unit="count")
        for name in missing
        if name in counts
    ]
    ratios = {c.name: c.point_lookup_file_ratio for c in table.columns}
    evidence += [
        Evidence(name=f"share of files an equality filter on {name} reads", value=round(ratios[name], 3), unit="ratio", threshold=t.clustered_file_ratio)
        for name in missing
        if ratios.get(name) is not None
    ]
    sql_ids = sorted({i for name in missing if name in counts for i in counts[name].sql_execution_ids})
    cols = ", ".join(missing)
    if delta is not None and delta.clustering_columns:
        summary = f"Add the filtered columns to the table's liquid clustering keys: ALTER TABLE ... CLUSTER BY ({cols}), then OPTIMIZE."
        code = f"ALTER TABLE {table_name(table)} CLUSTER BY ({cols}); OPTIMIZE {table_name(table)}"
    elif delta is not None:
        summary = (
            f"Co-locate rows by the columns the application filters on so file statistics skip files: "
            f"OPTIMIZE ... ZORDER BY ({cols}); on Delta 3.1+ / Databricks prefer liquid clustering (CLUSTER BY ({cols}))."
        )
        code = f"OPTIMIZE {table_name(table)} ZORDER BY ({cols})"
    else:
        summary = (
            f"Sort the data by ({cols}) within each output file so Parquet min/max statistics skip row groups, "
            f"or convert the table to Delta and Z-order / cluster it by these columns."
        )
        code = f"df.repartition(...).sortWithinPartitions({', '.join(repr(c) for c in missing)}).write.parquet(new_path)"
    return advice_finding(
        rule_id="table_data_skipping_candidates",
        category="config",
        severity=Severity.low,
        title=f"The application filters on {cols}, which the table's layout does not cluster by",
        sql_execution_ids=sql_ids,
        evidence=evidence,
        summary=summary,
        code_change=code,
        savings_method=NOT_ESTIMATED,
        doc_query="Z-order data skipping liquid clustering OPTIMIZE ZORDER BY",
    )


def _partition_skew(table: TableProfile, t: TableThresholds) -> Finding | None:
    parts = table.partitions
    ratio = parts.bytes_max_to_median
    if parts.count < 2 or ratio is None or ratio < t.partition_skew_ratio or parts.bytes.max_bytes < t.partition_skew_min_bytes:
        return None
    largest = parts.largest[0]
    where = ", ".join(f"{k}={v}" for k, v in largest.values.items())
    changes = []
    if largest.rows and largest.bytes:
        rows_per_file = max(1, int(t.target_file_bytes / (largest.bytes / largest.rows)))
        changes.append(ConfigChange(key="spark.sql.files.maxRecordsPerFile", value=str(rows_per_file), current=None))
    evidence = [
        Evidence(name="largest / median partition bytes", value=round(ratio, 1), unit="ratio", threshold=t.partition_skew_ratio),
        Evidence(name=f"largest partition ({where}) bytes", value=largest.bytes, unit="bytes", threshold=t.partition_skew_min_bytes),
        Evidence(name="median partition bytes", value=parts.bytes.median_bytes, unit="bytes"),
        Evidence(name="partitions", value=parts.count, unit="count"),
    ]
    if largest.rows is not None:
        evidence.append(Evidence(name=f"largest partition ({where}) rows", value=largest.rows, unit="rows"))
    return advice_finding(
        rule_id="table_partition_skew",
        category="skew",
        severity=Severity.severe if ratio >= t.partition_skew_ratio * 8 else Severity.moderate,
        title=f"Partition {where} holds {ratio:.0f}x the median partition's data",
        evidence=evidence,
        summary=(
            f"Readers of {where} get few, huge tasks. Split its files when writing (maxRecordsPerFile, or repartition by the "
            f"partition column plus a salt), keep AQE skew handling on for joins on it, or partition by a column with an even "
            f"distribution (or none, clustering instead)."
        ),
        config_changes=changes + [ConfigChange(key="spark.sql.adaptive.skewJoin.enabled", value="true", current=None)],
        code_change="df.repartition(n, 'partition_col', (F.rand() * k).cast('int')).write.partitionBy('partition_col')...",
        savings_method=NOT_ESTIMATED,
        doc_query="skewed partitions maxRecordsPerFile AQE skew join",
    )


def _over_partitioned(table: TableProfile, t: TableThresholds, candidates: list[str]) -> Finding | None:
    parts = table.partitions
    if parts.count < t.over_partitioned_min_partitions or parts.bytes.median_bytes >= t.over_partitioned_median_bytes:
        return None
    finest = max(parts.distinct_values, key=lambda c: parts.distinct_values[c])
    coarser = [c for c in parts.columns if c != finest]
    if coarser:
        advice = f"Partition by ({', '.join(coarser)}) only, dropping {finest} ({parts.distinct_values[finest]} values)"
    else:
        advice = f"Do not partition by {finest} ({parts.distinct_values[finest]} values)"
    cluster = ", ".join([finest] + [c for c in candidates if c != finest][:2])
    layout = f"liquid clustering (CLUSTER BY ({cluster}))" if table.format == "delta" else f"sorting by {cluster} within files"
    return advice_finding(
        rule_id="table_over_partitioned",
        category="config",
        severity=Severity.moderate,
        title=f"{parts.count} partitions with a median of {human_size(parts.bytes.median_bytes)}: the partition column is too fine",
        evidence=[
            Evidence(name="partitions", value=parts.count, unit="count", threshold=t.over_partitioned_min_partitions),
            Evidence(name="median partition bytes", value=parts.bytes.median_bytes, unit="bytes", threshold=t.over_partitioned_median_bytes),
            *[Evidence(name=f"distinct values of {c}", value=n, unit="count") for c, n in parts.distinct_values.items()],
        ],
        summary=f"{advice}; keep data skipping on that column with {layout}.",
        code_change=f"df.write.partitionBy({', '.join(repr(c) for c in coarser)})..." if coarser else "df.write (no partitionBy) ...",
        savings_method=NOT_ESTIMATED,
        doc_query="partitioning too many partitions liquid clustering partition column choice",
    )


def _oversized_files(table: TableProfile, t: TableThresholds) -> Finding | None:
    big = table.files.max_bytes >= t.oversized_file_bytes
    unsplittable = table.compressed_text_files > 0 and table.files.max_bytes > t.target_file_bytes
    if not (big or unsplittable):
        return None
    evidence = [
        Evidence(name="largest file", value=table.files.max_bytes, unit="bytes", threshold=t.oversized_file_bytes if big else t.target_file_bytes),
        Evidence(name="p95 file size", value=table.files.p95_bytes, unit="bytes"),
    ]
    if unsplittable:
        evidence.append(Evidence(name="compressed CSV/JSON files (one task each)", value=table.compressed_text_files, unit="count"))
        summary = "Compressed CSV/JSON files cannot be split: each is read by one task. Convert the data to Parquet/Delta, or store it as files of at most the target size."
        code = "spark.read.csv(path).write.parquet(new_path)"
        changes: list[ConfigChange] = []
    else:
        target_rows = None
        if table.rows and table.total_bytes:
            target_rows = max(1, int(t.target_file_bytes / (table.total_bytes / table.rows)))
        summary = f"Write files of about {human_size(t.target_file_bytes)}: cap rows per file, or set the Delta target file size."
        code = f"ALTER TABLE {table_name(table)} SET TBLPROPERTIES ('delta.targetFileSize' = '{t.target_file_bytes}')" if table.format == "delta" else None
        changes = [ConfigChange(key="spark.sql.files.maxRecordsPerFile", value=str(target_rows), current=None)] if target_rows else []
    return advice_finding(
        rule_id="table_oversized_files",
        category="oversized_partitions",
        severity=Severity.moderate,
        title=f"Files up to {human_size(table.files.max_bytes)} limit read parallelism",
        evidence=evidence,
        summary=summary,
        code_change=code,
        config_changes=changes,
        savings_method=NOT_ESTIMATED,
        doc_query="large files splittable compression maxRecordsPerFile target file size",
    )


def retention_hours(text: str | None) -> float | None:
    """Hours in a Delta interval string such as `interval 7 days` or `interval 168 hours`."""
    if not text:
        return None
    match = re.search(r"(\d+(?:\.\d+)?)\s*(week|day|hour|minute|second)", text.lower())
    if not match:
        return None
    factor = {"week": 168, "day": 24, "hour": 1, "minute": 1 / 60, "second": 1 / 3600}[match.group(2)]
    return float(match.group(1)) * factor


def _safe_retention_hours(table: TableProfile, t: TableThresholds) -> int:
    configured = retention_hours(table.delta.deleted_file_retention) if table.delta else None
    return int(max(t.safe_retention_hours, configured or 0))


def _vacuum_due(table: TableProfile, t: TableThresholds) -> Finding | None:
    delta = table.delta
    if delta is None or delta.unreferenced_files < t.vacuum_min_unreferenced_files:
        return None
    ratio = delta.unreferenced_bytes / table.total_bytes if table.total_bytes else float("inf")
    if ratio < t.vacuum_min_unreferenced_ratio:
        return None
    hours = _safe_retention_hours(table, t)
    return advice_finding(
        rule_id="delta_vacuum_due",
        category="config",
        severity=Severity.low,
        title=f"{delta.unreferenced_files} files ({human_size(delta.unreferenced_bytes)}) are no longer in the table but still stored",
        evidence=[
            Evidence(name="unreferenced data files", value=delta.unreferenced_files, unit="count", threshold=t.vacuum_min_unreferenced_files),
            Evidence(name="unreferenced / active bytes", value=round(ratio, 2), unit="ratio", threshold=t.vacuum_min_unreferenced_ratio),
            Evidence(name="last VACUUM", value="never (in the history read)" if delta.last_vacuum_ms is None else delta.last_vacuum_ms, unit="" if delta.last_vacuum_ms is None else "epoch ms"),
        ],
        summary=f"Run VACUUM with a retention of at least {hours} hours so time travel and running readers keep working (never below 168 hours).",
        code_change=f"VACUUM {table_name(table)} RETAIN {hours} HOURS",
        savings_method="storage only: frees the unreferenced bytes",
        doc_query="Delta VACUUM retention deletedFileRetentionDuration",
    )


def _unsafe_retention(table: TableProfile, t: TableThresholds) -> Finding | None:
    delta = table.delta
    if delta is None:
        return None
    deleted = retention_hours(delta.deleted_file_retention)
    log = retention_hours(delta.log_retention)
    problems = []
    if deleted is not None and deleted < t.safe_retention_hours:
        problems.append(Evidence(name="delta.deletedFileRetentionDuration", value=delta.deleted_file_retention or "", unit="", threshold=f"interval {t.safe_retention_hours} hours"))
    if log is not None and log < max(deleted or t.safe_retention_hours, t.safe_retention_hours):
        problems.append(Evidence(name="delta.logRetentionDuration", value=delta.log_retention or "", unit="", threshold="at least delta.deletedFileRetentionDuration"))
    if not problems:
        return None
    return advice_finding(
        rule_id="delta_retention_unsafe",
        category="config",
        severity=Severity.moderate,
        title="Retention shorter than 7 days can break long-running readers, streaming sources and time travel",
        evidence=problems,
        summary="Keep deleted files at least 7 days and the log at least as long as deleted files.",
        config_changes=[ConfigChange(key=e.name, value="interval 7 days" if "deleted" in e.name else "interval 30 days", current=str(e.value)) for e in problems],
        savings_method="reliability, not speed",
        doc_query="Delta logRetentionDuration deletedFileRetentionDuration VACUUM safety",
    )


def _uncompressed(table: TableProfile) -> Finding | None:
    parquet = table.parquet
    if parquet is None or not parquet.codecs:
        return None
    chunks = sum(parquet.codecs.values())
    plain = parquet.codecs.get("UNCOMPRESSED", 0)
    if plain / chunks < 0.5:
        return None
    return advice_finding(
        rule_id="table_parquet_uncompressed",
        category="config",
        severity=Severity.low,
        title=f"{plain} of {chunks} Parquet column chunks are uncompressed",
        evidence=[Evidence(name="uncompressed column chunks", value=plain, unit="count"), Evidence(name="column chunks read", value=chunks, unit="count")],
        summary="Write Parquet with zstd (or snappy): less I/O for every reader at little CPU cost.",
        config_changes=[ConfigChange(key="spark.sql.parquet.compression.codec", value="zstd", current=None)],
        savings_method=NOT_ESTIMATED,
        doc_query="parquet compression codec zstd snappy",
    )
