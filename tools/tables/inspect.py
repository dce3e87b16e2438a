"""`inspect_table`: layout statistics of a dataset path (Delta, Parquet, ORC, CSV/JSON, Hive partitions)."""

from __future__ import annotations

import os
from collections import Counter, defaultdict

import numpy as np

from tools.errors import ConfigurationError
from tools.tables.delta import is_delta_table, read_delta
from tools.tables.files import DataFile, list_data_files, open_filesystem, read_orc_rows, read_parquet_footers, size_stats
from tools.tables.model import ColumnProfile, PartitionProfile, PartitionSummary, TableProfile, TableThresholds

DELTA_FOOTERS_READ = 200  # row groups and codecs of a Delta table come from a sample of its files


def inspect_table(path: str, profile=None, thresholds: TableThresholds | None = None) -> TableProfile:
    """Profile the files under `path`. `profile` (an AppProfile) is accepted for symmetry with
    `diagnose_table`; the layout itself does not depend on it."""
    thresholds = thresholds or TableThresholds()
    if "://" not in path:
        path = os.path.abspath(os.path.expanduser(path))
    fs, root = open_filesystem(path)
    warnings: list[str] = []
    rows_by_file: dict[str, int] = {}
    columns: list[ColumnProfile] = []
    delta = None
    parquet = None
    snapshot = None
    if is_delta_table(fs, root):
        try:
            snapshot = read_delta(path, fs, root)
        except ConfigurationError as exc:  # e.g. a table feature delta-rs cannot read: fall back to the files
            warnings.append(f"{exc}; listing the files instead (files no longer in the table are counted too)")
    if snapshot is not None:
        files, rows_by_file, delta = snapshot.files, snapshot.rows_by_file, snapshot.profile
        partition_columns = snapshot.partition_columns
        columns = [
            ColumnProfile(
                name=name,
                type=type_name,
                min_value=snapshot.stats_by_column.get(name, (None, None, None))[0],
                max_value=snapshot.stats_by_column.get(name, (None, None, None))[1],
                null_count=snapshot.stats_by_column.get(name, (None, None, None))[2],
                point_lookup_file_ratio=snapshot.point_lookup_ratios.get(name),
            )
            for name, type_name in snapshot.schema_fields
        ]
        table_format = "delta"
        scan, footer_warnings = read_parquet_footers(fs, root, files, min(thresholds.max_footers_read, DELTA_FOOTERS_READ))
        warnings.extend(footer_warnings)
        parquet = scan.summary
    else:
        files = list_data_files(fs, root)
        partition_columns = _partition_columns(files)
        table_format = _dominant_format(files)
        if any(f.format == "parquet" for f in files):
            scan, footer_warnings = read_parquet_footers(fs, root, files, thresholds.max_footers_read)
            warnings.extend(footer_warnings)
            parquet, columns, rows_by_file = scan.summary, scan.columns, scan.rows_by_file
            columns.extend(ColumnProfile(name=name, type="partition") for name in partition_columns)
        if any(f.format == "orc" for f in files):
            orc_rows, orc_warnings = read_orc_rows(fs, root, files, thresholds.max_footers_read)
            rows_by_file.update(orc_rows)
            warnings.extend(orc_warnings)
    if not files:
        warnings.append("no data files found")
    sizes = [f.size_bytes for f in files]
    small = sum(1 for size in sizes if size < thresholds.small_file_bytes)
    rows_known = bool(files) and all(f.relative_path in rows_by_file for f in files)
    return TableProfile(
        path=path,
        format=table_format,
        formats=dict(Counter(f.format for f in files)),
        file_count=len(files),
        total_bytes=sum(sizes),
        rows=sum(rows_by_file.values()) if rows_known else None,
        files=size_stats(sizes),
        small_file_bytes=thresholds.small_file_bytes,
        small_files=small,
        small_file_ratio=small / len(files) if files else 0.0,
        compressed_text_files=sum(1 for f in files if f.compressed_text),
        partitions=_partition_summary(files, partition_columns, rows_by_file),
        parquet=parquet,
        columns=columns,
        delta=delta,
        warnings=warnings,
    )


def _dominant_format(files: list[DataFile]) -> str:
    formats = Counter(f.format for f in files if f.format != "unknown")
    if not formats:
        return "unknown"
    if len(formats) > 1:
        return "mixed"
    return next(iter(formats))


def _partition_columns(files: list[DataFile]) -> list[str]:
    """Partition keys in directory order, kept only when every file has them."""
    if not files:
        return []
    first = list(files[0].partition_values)
    return [key for key in first if all(key in f.partition_values for f in files)]


def _partition_summary(files: list[DataFile], columns: list[str], rows_by_file: dict[str, int]) -> PartitionSummary:
    if not columns:
        return PartitionSummary()
    grouped: dict[tuple, list[DataFile]] = defaultdict(list)
    for data_file in files:
        grouped[tuple(data_file.partition_values.get(c) for c in columns)].append(data_file)
    partitions = []
    for key, members in grouped.items():
        rows = [rows_by_file.get(m.relative_path) for m in members]
        partitions.append(
            PartitionProfile(
                values=dict(zip(columns, key)),
                files=len(members),
                bytes=sum(m.size_bytes for m in members),
                rows=sum(r for r in rows if r is not None) if all(r is not None for r in rows) else None,
            )
        )
    partitions.sort(key=lambda p: p.bytes, reverse=True)
    byte_stats = size_stats([p.bytes for p in partitions])
    row_counts = [p.rows for p in partitions if p.rows is not None]
    distinct = {c: len({p.values.get(c) for p in partitions}) for c in columns}
    return PartitionSummary(
        columns=columns,
        count=len(partitions),
        bytes=byte_stats,
        rows_median=float(np.median(row_counts)) if row_counts else None,
        rows_max=max(row_counts) if row_counts else None,
        bytes_max_to_median=byte_stats.max_bytes / byte_stats.median_bytes if byte_stats.median_bytes else None,
        largest=partitions[:10],
        smallest=sorted(partitions[-5:], key=lambda p: p.bytes),
        distinct_values=distinct,
    )
