"""Read a Delta table's snapshot and history with delta-rs (no Spark needed).

Gives the active files (with their partition values and row counts), the table
properties that matter for file layout, clustering / Z-order columns when the log
records them, and a summary of recent commits (writes, OPTIMIZE, VACUUM).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import PurePosixPath

import numpy as np
from pydantic import BaseModel

from tools.errors import ConfigurationError
from tools.tables.files import DataFile, file_format
from tools.tables.model import CommitSummary, DeltaProfile
from tools.tables.skipping import point_lookup_file_ratio
from tools.units import parse_size

HISTORY_LIMIT = 1000
DOMAIN_SCAN_COMMITS = 200
WRITE_OPERATIONS = {"WRITE", "STREAMING UPDATE", "MERGE", "UPDATE", "DELETE", "CREATE TABLE AS SELECT", "REPLACE TABLE AS SELECT", "COPY INTO"}


class DeltaSnapshot(BaseModel):
    profile: DeltaProfile
    files: list[DataFile]
    rows_by_file: dict[str, int]
    partition_columns: list[str]
    schema_fields: list[tuple[str, str]]
    stats_by_column: dict[str, tuple[str | None, str | None, int | None]]  # name -> (min, max, nulls)
    point_lookup_ratios: dict[str, float | None]  # name -> share of files an equality filter must read


def is_delta_table(fs, root: str) -> bool:
    return fs.isdir(f"{root.rstrip('/')}/_delta_log")


def read_delta(path: str, fs, root: str) -> DeltaSnapshot:
    """The current snapshot and history of the Delta table at `path`."""
    from deltalake import DeltaTable
    from deltalake.exceptions import DeltaError

    try:
        table = DeltaTable(path)
        actions = _add_actions(table)
        history = table.history(limit=HISTORY_LIMIT)
        metadata = table.metadata()
        protocol = table.protocol()
        schema_fields = [(field.name, _type_name(field.type)) for field in table.schema().fields]
        version = table.version()
    except (DeltaError, OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read Delta table {path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc

    partition_columns = list(metadata.partition_columns)
    properties = {str(k): str(v) for k, v in (metadata.configuration or {}).items()}
    files: list[DataFile] = []
    rows_by_file: dict[str, int] = {}
    stats: dict[str, tuple[str | None, str | None, int | None]] = {}
    for action in actions:
        relative = _unquoted(str(action["path"]))
        fmt, _ = file_format(relative)
        values = {col: _str_or_none(action.get(f"partition.{col}")) for col in partition_columns}
        files.append(DataFile(relative_path=relative, size_bytes=int(action.get("size_bytes") or 0), format=fmt if fmt != "unknown" else "parquet", partition_values=values))
        if action.get("num_records") is not None:
            rows_by_file[relative] = int(action["num_records"])
        _fold_column_stats(stats, action)

    profile = DeltaProfile(
        version=version,
        min_reader_version=protocol.min_reader_version,
        min_writer_version=protocol.min_writer_version,
        reader_features=list(protocol.reader_features or []),
        writer_features=list(protocol.writer_features or []),
        properties=properties,
        auto_compact=_flag(properties, "delta.autoOptimize.autoCompact"),
        optimize_write=_flag(properties, "delta.autoOptimize.optimizeWrite"),
        deletion_vectors=_flag(properties, "delta.enableDeletionVectors"),
        target_file_size_bytes=_bytes_or_none(properties.get("delta.targetFileSize")),
        log_retention=properties.get("delta.logRetentionDuration"),
        deleted_file_retention=properties.get("delta.deletedFileRetentionDuration"),
        checkpoint_interval=_int_or_none(properties.get("delta.checkpointInterval")),
    )
    _summarize_history(profile, history)
    profile.clustering_columns = _clustering_columns(fs, root, history)
    active = {f.relative_path for f in files} | {_unquoted(f.relative_path) for f in files}
    _count_unreferenced(profile, fs, root, active)
    return DeltaSnapshot(
        profile=profile,
        files=files,
        rows_by_file=rows_by_file,
        partition_columns=partition_columns,
        schema_fields=schema_fields,
        stats_by_column=stats,
        point_lookup_ratios={
            name: point_lookup_file_ratio([(a.get(f"min.{name}"), a.get(f"max.{name}")) for a in actions])
            for name, _ in schema_fields
            if name not in partition_columns
        },
    )


def _add_actions(table) -> list[dict]:
    import pyarrow as pa

    return pa.table(table.get_add_actions(flatten=True)).to_pylist()


def _type_name(data_type) -> str:
    return str(getattr(data_type, "type", None) or data_type)


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _flag(properties: dict[str, str], key: str) -> bool | None:
    value = properties.get(key)
    if value is None:
        return None
    return value.strip().lower() in ("true", "auto", "legacy")


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _bytes_or_none(value: str | None) -> int | None:
    """`delta.targetFileSize` as bytes (`134217728`, `128mb`, `1gb`)."""
    size = parse_size(value)
    return None if size is None else int(size)


def _fold_column_stats(stats: dict[str, tuple[str | None, str | None, int | None]], action: dict) -> None:
    for key, value in action.items():
        if value is None:
            continue
        for prefix, slot in (("min.", 0), ("max.", 1), ("null_count.", 2)):
            if key.startswith(prefix):
                name = key[len(prefix):]
                current = list(stats.get(name, (None, None, 0)))
                if slot == 0:
                    current[0] = str(value) if current[0] is None or _less(value, current[0]) else current[0]
                elif slot == 1:
                    current[1] = str(value) if current[1] is None or _less(current[1], value) else current[1]
                else:
                    current[2] = (current[2] or 0) + int(value)
                stats[name] = (current[0], current[1], current[2])


def _less(a: object, b: object) -> bool:
    """a < b, comparing numbers as numbers and anything else as text."""
    try:
        return float(a) < float(b)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(a) < str(b)


def _summarize_history(profile: DeltaProfile, history: list[dict]) -> None:
    operations: Counter[str] = Counter()
    files_added: list[int] = []
    bytes_added: list[int] = []
    timestamps: list[int] = []
    commits: list[CommitSummary] = []
    for entry in history:
        operation = str(entry.get("operation") or "UNKNOWN")
        operations[operation] += 1
        timestamp = entry.get("timestamp")
        if timestamp is not None:
            timestamps.append(int(timestamp))
        metrics = entry.get("operationMetrics") or {}
        params = entry.get("operationParameters") or {}
        added = _metric(metrics, "numAddedFiles", "num_added_files", "numFiles", "numTargetFilesAdded")
        removed = _metric(metrics, "numRemovedFiles", "num_removed_files", "numTargetFilesRemoved")
        rows = _metric(metrics, "numOutputRows", "num_added_rows")
        size = _metric(metrics, "numOutputBytes", "numAddedBytes", "num_added_bytes")
        if operation in WRITE_OPERATIONS:
            if added is not None:
                files_added.append(added)
            if size is not None:
                bytes_added.append(size)
        if operation == "OPTIMIZE":
            if profile.last_optimize_ms is None and timestamp is not None:
                profile.last_optimize_ms = int(timestamp)
            zorder = _json_list(params.get("zOrderBy"))
            if zorder and not profile.zorder_columns:
                profile.zorder_columns = zorder
        if operation.startswith("VACUUM") and profile.last_vacuum_ms is None and timestamp is not None:
            profile.last_vacuum_ms = int(timestamp)
        if len(commits) < 10:
            commits.append(
                CommitSummary(
                    version=int(entry.get("version", -1)),
                    timestamp_ms=int(timestamp) if timestamp is not None else None,
                    operation=operation,
                    files_added=added,
                    files_removed=removed,
                    rows_added=rows,
                    bytes_added=size,
                )
            )
    profile.commits_read = len(history)
    profile.operations = dict(operations)
    profile.recent_commits = commits
    if files_added:
        profile.median_files_added_per_write = float(np.median(files_added))
    if bytes_added:
        profile.median_bytes_added_per_write = float(np.median(bytes_added))
    if timestamps:
        profile.first_commit_ms, profile.last_commit_ms = min(timestamps), max(timestamps)
        span_days = (profile.last_commit_ms - profile.first_commit_ms) / 86_400_000
        profile.commits_per_day = len(timestamps) / span_days if span_days >= 1 / 24 else None


def _metric(metrics: dict, *names: str) -> int | None:
    for name in names:
        if metrics.get(name) is not None:
            try:
                return int(metrics[name])
            except (TypeError, ValueError):
                continue
    return None


def _json_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        parsed = json.loads(str(value))
    except json.JSONDecodeError:
        return [part.strip() for part in str(value).strip("[]").split(",") if part.strip()]
    return [str(v) for v in parsed] if isinstance(parsed, list) else []


def _clustering_columns(fs, root: str, history: list[dict]) -> list[str]:
    """Liquid clustering columns: the newest `delta.clustering` domain metadata, else `clusterBy` in history."""
    log_dir = f"{root.rstrip('/')}/_delta_log"
    try:
        commits = sorted(p for p in fs.ls(log_dir, detail=False) if str(p).endswith(".json") and PurePosixPath(str(p)).stem.isdigit())
    except OSError:
        commits = []
    for commit in reversed(commits[-DOMAIN_SCAN_COMMITS:]):
        with fs.open(commit, "rt") as handle:
            for line in handle:
                if '"domainMetadata"' not in line:
                    continue
                domain = json.loads(line).get("domainMetadata", {})
                if domain.get("domain") == "delta.clustering" and not domain.get("removed"):
                    config = json.loads(domain.get("configuration") or "{}")
                    return [".".join(col) if isinstance(col, list) else str(col) for col in config.get("clusteringColumns", [])]
    for entry in history:
        columns = _json_list((entry.get("operationParameters") or {}).get("clusterBy"))
        if columns:
            return columns
    return []


def _count_unreferenced(profile: DeltaProfile, fs, root: str, active: set[str]) -> None:
    """Data files under the table that the current snapshot no longer references (what VACUUM would consider)."""
    prefix = root.rstrip("/") + "/"
    for full_path, info in fs.find(root, detail=True).items():
        relative = full_path[len(prefix):] if full_path.startswith(prefix) else full_path
        if info.get("type") == "directory" or relative.startswith("_") or PurePosixPath(relative).name.startswith((".", "_")):
            continue
        if file_format(relative)[0] != "parquet":  # deletion vectors and other side files are not data files
            continue
        if relative not in active and _unquoted(relative) not in active:
            profile.unreferenced_files += 1
            profile.unreferenced_bytes += int(info.get("size") or 0)


def _unquoted(relative: str) -> str:
    from urllib.parse import unquote

    return unquote(relative)
