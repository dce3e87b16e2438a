"""The feature table: one row of `RunFeatures` per event log in a folder (Parquet or CSV).

Users rebuild it from their own history (`copilot models dataset LOG_DIR --out FILE`);
the shipped one comes from our workload-shape suite. Its hash (over the canonical
row content, not the file bytes) goes into the model card.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from models.features import RunFeatures, run_features
from tools.errors import CopilotError, ModelError

_NOT_LOGS = {"manifest.jsonl", "_warehouse", "SOURCES.tsv"}


class DatasetResult(BaseModel):
    """What building a feature table produced and what it had to skip (with why)."""

    rows: list[RunFeatures] = Field(default_factory=list)
    skipped: dict[str, str] = Field(default_factory=dict)  # log name -> reason
    out_path: str | None = None
    table_sha256: str | None = None


def candidate_logs(log_dir: Path) -> list[Path]:
    """Entries of a folder that may be event logs (files or rolling-log directories)."""
    if not log_dir.is_dir():
        raise ModelError(f"{log_dir} is not a directory of event logs")
    return sorted(
        p
        for p in log_dir.iterdir()
        if p.name not in _NOT_LOGS and not p.name.startswith((".", "_")) and not p.name.endswith(".inprogress")
    )


def build_feature_table(log_dirs: Path | Sequence[Path], progress: Callable[[str], None] | None = None) -> DatasetResult:
    """Parse every log in the folder(s) into a feature row; unreadable or unusable logs are skipped with a reason."""
    from tools.eventlog import load_profile

    dirs = [log_dirs] if isinstance(log_dirs, Path) else list(log_dirs)
    paths = [path for log_dir in dirs for path in candidate_logs(log_dir)]  # every folder checked before parsing
    result = DatasetResult()
    for path in paths:
        try:
            profile = load_profile(path)
            result.rows.append(run_features(profile))
        except CopilotError as exc:
            result.skipped[path.name] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if progress:
            progress(path.name)
    result.rows.sort(key=lambda r: (r.workload, r.scale, r.app_id))
    result.table_sha256 = table_hash(result.rows)
    return result


def table_hash(rows: list[RunFeatures]) -> str:
    """SHA-256 of the rows' canonical JSON (stable across Parquet writer versions)."""
    canonical = json.dumps([r.model_dump() for r in sorted(rows, key=lambda r: r.app_id)], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def write_table(rows: list[RunFeatures], path: Path) -> Path:
    """Write rows as Parquet (`.parquet`) or CSV (anything else)."""
    import pyarrow as pa

    if not rows:
        raise ModelError("no usable event logs: the feature table would be empty")
    path.parent.mkdir(parents=True, exist_ok=True)
    # list fields as JSON text: CSV has no list type, and one table layout serves both formats
    records = [{k: json.dumps(v) if isinstance(v, list) else v for k, v in r.model_dump().items()} for r in rows]
    table = pa.Table.from_pylist(records)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path, compression="zstd")
    else:
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path)
    return path


def read_table(path: Path) -> list[RunFeatures]:
    """Read a feature table written by `write_table`; a wrong or damaged file is a ModelError."""
    if not path.is_file():
        raise ModelError(f"feature table {path} does not exist (build one with `copilot models dataset`)")
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            records = pq.read_table(path).to_pylist()
        else:
            import pyarrow.csv as pacsv

            records = pacsv.read_csv(path).to_pylist()
        return [RunFeatures(**r) for r in records]
    except (OSError, ValueError, TypeError) as exc:
        raise ModelError(f"feature table {path} is not readable: {str(exc).splitlines()[0]}") from None


def dataset_from_logs(
    log_dirs: Path | Sequence[Path], out_path: Path, progress: Callable[[str], None] | None = None
) -> DatasetResult:
    """Build the feature table from one or more folders of event logs and write it (`copilot models dataset`)."""
    result = build_feature_table(log_dirs, progress)
    write_table(result.rows, out_path)
    result.out_path = str(out_path)
    return result
