"""Writing batch results: every application's rows land in one transaction, exactly once.

Rows are keyed by the log's content hash. Writing a log that is already stored
replaces its rows in the same transaction, so a re-run, a `--force` run or two
batches racing over the same folder never duplicate anything, and a process
killed mid-write leaves either all of an application's rows or none.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

import pyarrow as pa
import duckdb

from copilot.store.db import Store
from copilot.store.records import AppRecord, LogOutcome

CHILD_TABLES = ("stages", "settings", "findings", "predictions", "reports")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _application_row(record: AppRecord, run_id: str | None, analyzed_at: datetime) -> dict:
    return {
        "log_hash": record.log.log_hash,
        "log_path": record.log.log_path,
        "log_bytes": record.log.log_bytes,
        **record.model_dump(include={
            "app_id", "attempt_id", "app_name", "user_name", "spark_version", "master", "start_time_ms",
            "end_time_ms", "duration_ms", "complete", "executors", "peak_executors", "interactive_shell",
            "total_tasks", "failed_tasks", "allocated_core_ms", "used_core_ms", "cost", "currency", "analysis_ms", "analyzer",
        }),
        "findings": len(record.findings),
        "savings_core_ms": record.savings_core_ms,
        "savings_cost": record.savings_cost,
        "run_id": run_id,
        "analyzed_at": analyzed_at,
    }


def _child_rows(record: AppRecord) -> dict[str, list[dict]]:
    log_hash = record.log.log_hash
    findings = [
        {
            "log_hash": log_hash,
            "rank": rank,
            "rule_id": f.rule_id,
            "category": f.category,
            "severity": f.severity.value,
            "title": f.title,
            "stage_ids": list(f.stage_ids),
            "savings_core_ms": f.estimated_savings.core_ms,
            "savings_wall_ms": f.estimated_savings.wall_ms,
            "savings_cost": f.estimated_savings.cost,
            "currency": f.estimated_savings.currency,
            "recommendation": f.recommendation.summary,
            "finding_json": f.model_dump_json(),
        }
        for rank, f in enumerate(record.findings, start=1)
    ]
    return {
        "stages": [{"log_hash": log_hash, **s.model_dump()} for s in record.stages],
        "settings": [{"log_hash": log_hash, "key": key, "value": value} for key, value in record.settings.items()],
        "findings": findings,
        "predictions": [
            {"log_hash": log_hash, "ordinal": i, **p.model_dump()} for i, p in enumerate(record.predictions)
        ],
        "reports": (
            [{"log_hash": log_hash, "produced_by": record.analyzer, "report_json": record.report_json}]
            if record.report_json
            else []
        ),
    }


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    incoming = pa.Table.from_pylist(rows)
    con.register("incoming_rows", incoming)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming_rows")
    finally:
        con.unregister("incoming_rows")


def _delete(con: duckdb.DuckDBPyConnection, table: str, hashes: Sequence[str]) -> None:
    if hashes:
        con.execute(f"DELETE FROM {table} WHERE log_hash IN (SELECT unnest(?::VARCHAR[]))", [list(hashes)])


def _superseded(con: duckdb.DuckDBPyConnection, records: Sequence[AppRecord]) -> list[str]:
    """Stored snapshots of still-running applications that a newer log of the same attempt replaces."""
    if not records:
        return []
    incoming = pa.table({
        "app_id": pa.array([r.app_id for r in records], pa.string()),
        "attempt_id": pa.array([r.attempt_id for r in records], pa.string()),
        "log_hash": pa.array([r.log.log_hash for r in records], pa.string()),
    })
    con.register("incoming_apps", incoming)
    try:
        rows = con.execute(
            "SELECT a.log_hash FROM applications a JOIN incoming_apps i ON a.app_id = i.app_id "
            "AND a.attempt_id IS NOT DISTINCT FROM i.attempt_id WHERE NOT a.complete AND a.log_hash <> i.log_hash"
        ).fetchall()
    finally:
        con.unregister("incoming_apps")
    return [r[0] for r in rows]


def write_outcomes(store: Store, outcomes: Iterable[LogOutcome], run_id: str | None = None) -> int:
    """Store analyzed applications, failures and file fingerprints in one transaction; returns rows written."""
    outcomes = list(outcomes)
    if not outcomes:
        return 0
    now = _now()
    records = [o.record for o in outcomes if o.status == "analyzed" and o.record is not None]
    failures = [o for o in outcomes if o.status == "failed"]
    with store.transaction() as con:
        hashes = [r.log.log_hash for r in records]
        doomed = hashes + _superseded(con, records)
        for table in ("applications", *CHILD_TABLES):
            _delete(con, table, doomed)
        _delete(con, "batch_failures", hashes + [f.log.log_hash for f in failures if f.log.log_hash])
        _insert(con, "applications", [_application_row(r, run_id, now) for r in records])
        children: dict[str, list[dict]] = {t: [] for t in CHILD_TABLES}
        for record in records:
            for table, rows in _child_rows(record).items():
                children[table].extend(rows)
        for table, rows in children.items():
            _insert(con, table, rows)
        _insert(
            con,
            "batch_failures",
            [
                {"log_hash": f.log.log_hash, "log_path": f.log.log_path, "reason": f.reason,
                 "run_id": run_id, "failed_at": now}
                for f in failures
                if f.log.log_hash
            ],
        )
        fingerprints = {
            o.log.log_path: o.log for o in outcomes if o.log.log_hash and o.log.log_mtime_ns is not None
        }
        _delete_paths(con, list(fingerprints))
        _insert(
            con,
            "log_files",
            [
                {"log_path": log.log_path, "log_bytes": log.log_bytes, "log_mtime_ns": log.log_mtime_ns,
                 "log_hash": log.log_hash, "seen_at": now}
                for log in fingerprints.values()
            ],
        )
    return len(records) + len(failures)


def _delete_paths(con: duckdb.DuckDBPyConnection, paths: list[str]) -> None:
    if paths:
        con.execute("DELETE FROM log_files WHERE log_path IN (SELECT unnest(?::VARCHAR[]))", [paths])


def stored_hashes(store: Store, include_failed: bool = True) -> set[str]:
    """Content hashes a re-run can skip: analyzed logs, and (unless retrying) logs that failed."""
    with store.connect() as con:
        hashes = {r[0] for r in con.execute("SELECT log_hash FROM applications").fetchall()}
        if include_failed:
            hashes |= {r[0] for r in con.execute("SELECT log_hash FROM batch_failures").fetchall()}
    return hashes


def file_fingerprints(store: Store) -> dict[str, tuple[int, int, str]]:
    """log path -> (bytes, mtime_ns, content hash) as last seen, to skip unchanged files without reading them."""
    with store.connect() as con:
        rows = con.execute("SELECT log_path, log_bytes, log_mtime_ns, log_hash FROM log_files").fetchall()
    return {path: (size, mtime, digest) for path, size, mtime, digest in rows}


def start_run(store: Store, source: str, engine: str, workers: int) -> str:
    """Record a batch run as running (and mark runs whose process died as interrupted)."""
    run_id = f"{_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    host = socket.gethostname()
    with store.transaction() as con:
        for stale_id, pid in con.execute(
            "SELECT run_id, pid FROM batch_runs WHERE status = 'running' AND host = ?", [host]
        ).fetchall():
            if not _alive(pid):
                con.execute("UPDATE batch_runs SET status = 'interrupted' WHERE run_id = ?", [stale_id])
        con.execute(
            "INSERT INTO batch_runs (run_id, source, engine, workers, host, pid, status, started_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'running', ?)",
            [run_id, source, engine, workers, host, os.getpid(), _now()],
        )
    return run_id


def finish_run(
    store: Store, run_id: str, status: str, *, discovered: int, analyzed: int, skipped: int, failed: int,
    bytes_analyzed: int,
) -> None:
    with store.transaction() as con:
        con.execute(
            "UPDATE batch_runs SET status = ?, finished_at = ?, discovered = ?, analyzed = ?, skipped = ?, "
            "failed = ?, bytes_analyzed = ? WHERE run_id = ?",
            [status, _now(), discovered, analyzed, skipped, failed, bytes_analyzed, run_id],
        )


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
