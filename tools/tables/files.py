"""List the data files of a dataset path (local or any fsspec URL) and read their Parquet footers.

Hidden entries (`_SUCCESS`, `_delta_log`, `.crc`, `_temporary`) are not data. Hive-style
partition values come from `key=value` directory names between the root and the file.
"""

from __future__ import annotations

from collections import Counter
from pathlib import PurePosixPath
from urllib.parse import unquote

import numpy as np
from pydantic import BaseModel, Field

from tools.errors import ConfigurationError
from tools.tables.model import ColumnProfile, ParquetSummary, SizeStats
from tools.tables.skipping import point_lookup_file_ratio

COMPRESSED_TEXT_SUFFIXES = (".gz", ".bz2", ".xz", ".zst", ".zstd", ".lz4", ".snappy", ".deflate", ".br")
FORMAT_SUFFIXES = {".parquet": "parquet", ".orc": "orc", ".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json"}
HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"


class DataFile(BaseModel):
    """One data file below the root: its path relative to the root, size and partition values."""

    relative_path: str
    size_bytes: int
    format: str
    partition_values: dict[str, str | None] = Field(default_factory=dict)
    compressed_text: bool = False


def open_filesystem(path: str):
    """(fsspec filesystem, root path in that filesystem) for a local path or URL."""
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(path)
    except (ImportError, ValueError) as exc:
        raise ConfigurationError(f"cannot open {path}: {exc}") from exc
    root = root.rstrip("/") or "/"
    if not fs.exists(root):
        raise ConfigurationError(f"no such table path: {path}")
    return fs, root


def is_hidden(relative_path: str) -> bool:
    return any(part.startswith(("_", ".")) for part in PurePosixPath(relative_path).parts)


def file_format(name: str) -> tuple[str, bool]:
    """(format, compressed text?) from a file name such as `part-0.snappy.parquet` or `x.csv.gz`."""
    lowered = name.lower()
    compressed = lowered.endswith(COMPRESSED_TEXT_SUFFIXES)
    if compressed:
        lowered = lowered.rsplit(".", 1)[0]
    for suffix, fmt in FORMAT_SUFFIXES.items():
        if lowered.endswith(suffix):
            return fmt, compressed and fmt in ("csv", "json")
    return "unknown", False


def partition_values(relative_path: str) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for part in PurePosixPath(relative_path).parts[:-1]:
        if "=" in part:
            key, _, value = part.partition("=")
            value = unquote(value)
            values[unquote(key)] = None if value == HIVE_DEFAULT_PARTITION else value
    return values


def list_data_files(fs, root: str) -> list[DataFile]:
    """Every visible data file below `root` (a single file path lists itself)."""
    if fs.isfile(root):
        info = fs.info(root)
        fmt, compressed = file_format(root)
        return [DataFile(relative_path=PurePosixPath(root).name, size_bytes=int(info.get("size") or 0), format=fmt, compressed_text=compressed)]
    found = fs.find(root, detail=True)
    files: list[DataFile] = []
    prefix = root.rstrip("/") + "/"
    for full_path, info in sorted(found.items()):
        if info.get("type") == "directory":
            continue
        relative = full_path[len(prefix):] if full_path.startswith(prefix) else PurePosixPath(full_path).name
        if is_hidden(relative):
            continue
        fmt, compressed = file_format(relative)
        files.append(
            DataFile(
                relative_path=relative,
                size_bytes=int(info.get("size") or 0),
                format=fmt,
                partition_values=partition_values(relative),
                compressed_text=compressed,
            )
        )
    return files


def size_stats(sizes: list[int] | list[float]) -> SizeStats:
    if not sizes:
        return SizeStats()
    values = np.asarray(sizes, dtype=float)
    p25, median, p75, p95 = np.percentile(values, [25, 50, 75, 95])
    return SizeStats(
        count=len(values),
        total_bytes=int(values.sum()),
        min_bytes=int(values.min()),
        p25_bytes=float(p25),
        median_bytes=float(median),
        p75_bytes=float(p75),
        p95_bytes=float(p95),
        max_bytes=int(values.max()),
        mean_bytes=float(values.mean()),
    )


class FooterScan(BaseModel):
    summary: ParquetSummary
    columns: list[ColumnProfile]
    rows_by_file: dict[str, int]


def read_parquet_footers(fs, root: str, files: list[DataFile], max_files: int) -> tuple[FooterScan, list[str]]:
    """Row groups, codecs, rows and column statistics from the footers of up to `max_files` Parquet files."""
    import pyarrow.parquet as pq

    warnings: list[str] = []
    parquet_files = [f for f in files if f.format == "parquet"]
    if len(parquet_files) > max_files:
        step = len(parquet_files) / max_files
        parquet_files = [parquet_files[int(i * step)] for i in range(max_files)]
        warnings.append(f"read the footers of {max_files} evenly spaced Parquet files out of {len([f for f in files if f.format == 'parquet'])}")
    codecs: Counter[str] = Counter()
    created_by: set[str] = set()
    row_group_sizes: list[int] = []
    row_groups_per_file: list[int] = []
    rows_by_file: dict[str, int] = {}
    columns: dict[str, ColumnProfile] = {}
    schema_text: dict[str, str] = {}
    ranges: dict[str, list[tuple[object, object]]] = {}
    for data_file in parquet_files:
        full = root if fs.isfile(root) else f"{root.rstrip('/')}/{data_file.relative_path}"
        try:
            with fs.open(full, "rb") as handle:
                parquet = pq.ParquetFile(handle)
                metadata = parquet.metadata
                if not schema_text:
                    schema_text = {field.name: str(field.type) for field in parquet.schema_arrow}
        except Exception as exc:  # a damaged file is reported, the rest still profiled
            warnings.append(f"unreadable Parquet footer {data_file.relative_path}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            continue
        rows_by_file[data_file.relative_path] = metadata.num_rows
        if metadata.created_by:
            created_by.add(metadata.created_by.split(" (")[0])
        row_groups_per_file.append(metadata.num_row_groups)
        file_ranges: dict[str, tuple[object, object]] = {}
        for rg_index in range(metadata.num_row_groups):
            row_group = metadata.row_group(rg_index)
            row_group_sizes.append(row_group.total_byte_size)
            for col_index in range(row_group.num_columns):
                chunk = row_group.column(col_index)
                name = chunk.path_in_schema
                codecs[chunk.compression] += 1
                column = columns.setdefault(name, ColumnProfile(name=name, type=chunk.physical_type, compressed_bytes=0, uncompressed_bytes=0, null_count=0))
                column.compressed_bytes = (column.compressed_bytes or 0) + chunk.total_compressed_size
                column.uncompressed_bytes = (column.uncompressed_bytes or 0) + chunk.total_uncompressed_size
                if chunk.compression not in column.codecs:
                    column.codecs.append(chunk.compression)
                _merge_statistics(column, chunk.statistics)
                file_ranges[name] = _widen(file_ranges.get(name), chunk.statistics)
        for name, file_range in file_ranges.items():
            ranges.setdefault(name, []).append(file_range)
    for name, column in columns.items():
        column.type = schema_text.get(name, column.type)
        column.point_lookup_file_ratio = point_lookup_file_ratio(ranges.get(name, []))
    summary = ParquetSummary(
        files_read=len(rows_by_file),
        rows=sum(rows_by_file.values()),
        row_groups=len(row_group_sizes),
        row_groups_per_file_median=float(np.median(row_groups_per_file)) if row_groups_per_file else 0.0,
        row_group_bytes=size_stats(row_group_sizes),
        codecs=dict(codecs),
        created_by=sorted(created_by),
    )
    return FooterScan(summary=summary, columns=list(columns.values()), rows_by_file=rows_by_file), warnings


def _merge_statistics(column: ColumnProfile, statistics) -> None:
    """Fold one column chunk's min/max/null count into the column (unknown stays unknown)."""
    if statistics is None:
        column.null_count = None
        return
    if column.null_count is not None:
        column.null_count = column.null_count + statistics.null_count if statistics.has_null_count else None
    if not statistics.has_min_max:
        return
    low, high = statistics.min, statistics.max
    try:
        if column.min_value is None or low < _typed_like(column.min_value, low):
            column.min_value = str(low)
        if column.max_value is None or high > _typed_like(column.max_value, high):
            column.max_value = str(high)
    except (TypeError, ValueError):
        column.min_value = column.min_value or str(low)
        column.max_value = column.max_value or str(high)


def _widen(current: tuple[object, object] | None, statistics) -> tuple[object, object]:
    """A file's [min, max] for one column, widened by one row group; (None, None) once a group lacks statistics."""
    if statistics is None or not statistics.has_min_max or current == (None, None):
        return (None, None)
    if current is None:
        return (statistics.min, statistics.max)
    try:
        return (min(current[0], statistics.min), max(current[1], statistics.max))
    except TypeError:
        return (None, None)


def _typed_like(text: str, sample: object) -> object:
    """The stored string value converted back to the type of `sample` for comparison."""
    if isinstance(sample, bool):
        return text == "True"
    if isinstance(sample, int):
        return int(text)
    if isinstance(sample, float):
        return float(text)
    if isinstance(sample, bytes):
        return text.encode()
    if hasattr(sample, "isoformat"):
        return type(sample).fromisoformat(text) if hasattr(type(sample), "fromisoformat") else text
    return text


def read_orc_rows(fs, root: str, files: list[DataFile], max_files: int) -> tuple[dict[str, int], list[str]]:
    """Rows of up to `max_files` ORC files, from their footers."""
    from pyarrow import orc

    rows: dict[str, int] = {}
    warnings: list[str] = []
    for data_file in [f for f in files if f.format == "orc"][:max_files]:
        full = root if fs.isfile(root) else f"{root.rstrip('/')}/{data_file.relative_path}"
        try:
            with fs.open(full, "rb") as handle:
                rows[data_file.relative_path] = orc.ORCFile(handle).nrows
        except Exception as exc:  # a damaged file is reported, the rest still profiled
            warnings.append(f"unreadable ORC footer {data_file.relative_path}: {type(exc).__name__}")
    return rows, warnings
