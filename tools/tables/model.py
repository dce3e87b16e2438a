"""Typed layout profile of one dataset (Parquet, ORC, CSV/JSON or Delta) and the thresholds that judge it.

`TableProfile` holds summaries (quantiles, counts, the largest partitions), never
one row per file, so it stays small for tables with millions of files.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

TableFormat = Literal["delta", "parquet", "orc", "csv", "json", "mixed", "unknown"]

MiB = 1024 * 1024
GiB = 1024 * MiB


class SizeStats(BaseModel):
    """Distribution of a size in bytes (files, row groups or partitions)."""

    count: int = 0
    total_bytes: int = 0
    min_bytes: int = 0
    p25_bytes: float = 0.0
    median_bytes: float = 0.0
    p75_bytes: float = 0.0
    p95_bytes: float = 0.0
    max_bytes: int = 0
    mean_bytes: float = 0.0


class ColumnProfile(BaseModel):
    """One column of the schema with what the Parquet footers (or Delta stats) say about it."""

    name: str
    type: str
    null_count: int | None = None
    min_value: str | None = None
    max_value: str | None = None
    compressed_bytes: int | None = None
    uncompressed_bytes: int | None = None
    codecs: list[str] = Field(default_factory=list)
    point_lookup_file_ratio: float | None = None  # share of files an equality filter must still read (1.0 = no skipping)


class PartitionProfile(BaseModel):
    """One Hive-style partition (a `key=value/...` directory or a Delta partition value tuple)."""

    values: dict[str, str | None]
    files: int
    bytes: int
    rows: int | None = None  # None when no footer / Delta stats were read


class PartitionSummary(BaseModel):
    columns: list[str] = Field(default_factory=list)
    count: int = 0
    bytes: SizeStats = Field(default_factory=SizeStats)
    rows_median: float | None = None
    rows_max: int | None = None
    bytes_max_to_median: float | None = None  # skew of partition sizes
    largest: list[PartitionProfile] = Field(default_factory=list)  # up to 10, largest first
    smallest: list[PartitionProfile] = Field(default_factory=list)  # up to 5, smallest first
    distinct_values: dict[str, int] = Field(default_factory=dict)  # partition column -> distinct values


class ParquetSummary(BaseModel):
    """What the Parquet footers say (over the files read, see `files_read`)."""

    files_read: int = 0
    rows: int = 0
    row_groups: int = 0
    row_groups_per_file_median: float = 0.0
    row_group_bytes: SizeStats = Field(default_factory=SizeStats)
    codecs: dict[str, int] = Field(default_factory=dict)  # codec -> column chunks
    created_by: list[str] = Field(default_factory=list)


class CommitSummary(BaseModel):
    version: int
    timestamp_ms: int | None = None
    operation: str
    files_added: int | None = None
    files_removed: int | None = None
    rows_added: int | None = None
    bytes_added: int | None = None


class DeltaProfile(BaseModel):
    """Delta-specific facts from the transaction log (via delta-rs)."""

    version: int
    min_reader_version: int | None = None
    min_writer_version: int | None = None
    reader_features: list[str] = Field(default_factory=list)
    writer_features: list[str] = Field(default_factory=list)
    properties: dict[str, str] = Field(default_factory=dict)
    auto_compact: bool | None = None  # None = not set on the table
    optimize_write: bool | None = None
    deletion_vectors: bool | None = None
    target_file_size_bytes: int | None = None
    log_retention: str | None = None
    deleted_file_retention: str | None = None
    checkpoint_interval: int | None = None
    clustering_columns: list[str] = Field(default_factory=list)  # liquid clustering
    zorder_columns: list[str] = Field(default_factory=list)  # from the last OPTIMIZE ZORDER BY
    commits_read: int = 0
    commits_per_day: float | None = None
    first_commit_ms: int | None = None
    last_commit_ms: int | None = None
    operations: dict[str, int] = Field(default_factory=dict)  # operation -> count in the history read
    median_files_added_per_write: float | None = None
    median_bytes_added_per_write: float | None = None
    last_optimize_ms: int | None = None
    last_vacuum_ms: int | None = None
    recent_commits: list[CommitSummary] = Field(default_factory=list)  # up to 10, newest first
    unreferenced_files: int = 0  # data files on storage not in the current snapshot (VACUUM candidates)
    unreferenced_bytes: int = 0


class TableProfile(BaseModel):
    """Layout statistics of one dataset path."""

    path: str
    format: TableFormat
    formats: dict[str, int] = Field(default_factory=dict)  # format -> data files
    file_count: int = 0
    total_bytes: int = 0
    rows: int | None = None
    files: SizeStats = Field(default_factory=SizeStats)
    small_file_bytes: int = 0  # threshold used for the two fields below
    small_files: int = 0
    small_file_ratio: float = 0.0
    compressed_text_files: int = 0  # .gz/.bz2/... CSV/JSON: one task per file
    partitions: PartitionSummary = Field(default_factory=PartitionSummary)
    parquet: ParquetSummary | None = None
    columns: list[ColumnProfile] = Field(default_factory=list)
    delta: DeltaProfile | None = None
    warnings: list[str] = Field(default_factory=list)


class TableThresholds(BaseModel):
    """When a layout deserves a finding. Defaults follow common Spark / Delta guidance."""

    small_file_bytes: int = 32 * MiB  # a file below this is "small"
    target_file_bytes: int = 128 * MiB  # what compaction should produce (= spark.sql.files.maxPartitionBytes default)
    min_files_for_small_file_finding: int = 32
    small_file_ratio: float = 0.5
    oversized_file_bytes: int = 2 * GiB
    partition_skew_ratio: float = 8.0  # largest / median partition bytes
    partition_skew_min_bytes: int = 256 * MiB  # the largest partition must be at least this big
    over_partitioned_min_partitions: int = 200
    over_partitioned_median_bytes: int = 32 * MiB  # median partition below this, with many partitions
    vacuum_min_unreferenced_files: int = 100
    vacuum_min_unreferenced_ratio: float = 0.5  # unreferenced bytes / active bytes
    safe_retention_hours: int = 168  # Delta's default deletedFileRetentionDuration (7 days)
    clustered_file_ratio: float = 0.3  # a filter column whose point lookups read at most this share of files is clustered already
    max_footers_read: int = 2000
