"""Analyses submitted through the HTTP API: one row per job with its status, timings, error and report.

DuckDB takes one writer at a time, so `JobStore` funnels every store access of the
API process through one lock, each a short connection (a write one short transaction).
Reads take the lock too: concurrent opens and closes of the same file by several
threads race in DuckDB's instance cache (a connection can come up without the Python
table functions), and holding no connection between calls leaves the store free for
`copilot history` and `copilot batch`. Finished jobs survive a restart; jobs that were
queued or running when their server died are marked failed when the next server starts.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field

from copilot.store.db import Store
from copilot.store.history import AppRow, _app_rows, _stages
from copilot.store.records import LogOutcome, StageSummary
from copilot.store.writer import _alive, write_outcomes

JobStatus = Literal["queued", "running", "succeeded", "failed"]
SourceKind = Literal["upload", "path", "history_server"]
Depth = Literal["full", "findings"]
INTERRUPTED = "interrupted by server restart"

_COLUMNS = ("job_id, status, source_kind, source, log_path, question, table_path, depth, app_ids, log_hashes, "
            "findings, error, created_at, started_at, finished_at")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class JobRecord(BaseModel):
    """One API analysis job as stored (times are UTC)."""

    job_id: str
    status: JobStatus
    source_kind: SourceKind
    source: str = ""  # what the caller gave: the upload's file name, the path, or the History Server app id
    log_path: str = ""
    question: str | None = None
    table_path: str | None = None
    depth: Depth = "full"  # "findings": no citations or narrative (graph.analyze depth)
    app_ids: list[str] = Field(default_factory=list)
    log_hashes: list[str] = Field(default_factory=list)
    findings: int | None = None
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed")


class AppMetrics(BaseModel):
    """The stored profile metrics of one application a job analyzed."""

    app: AppRow
    stages: list[StageSummary] = Field(default_factory=list)


def _job(values: dict) -> JobRecord:
    return JobRecord(**{**values, "app_ids": values["app_ids"] or [], "log_hashes": values["log_hashes"] or [],
                        "depth": values["depth"] or "full"})


class JobStore:
    """Serialized reads and writes of the `api_jobs` table and the analyses it points to."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ writes
    def add(self, job: JobRecord) -> None:
        with self._lock, self.store.transaction() as con:
            con.execute(
                "INSERT INTO api_jobs (job_id, status, source_kind, source, log_path, question, table_path, depth, "
                "host, pid, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [job.job_id, job.status, job.source_kind, job.source, job.log_path, job.question, job.table_path,
                 job.depth, socket.gethostname(), os.getpid(), job.created_at],
            )

    def mark_running(self, job_id: str) -> None:
        with self._lock, self.store.transaction() as con:
            con.execute("UPDATE api_jobs SET status = 'running', started_at = ? WHERE job_id = ?", [_now(), job_id])

    def mark_succeeded(self, job_id: str, outcomes: list[LogOutcome], report_json: str, findings: int) -> None:
        """Store the analyzed applications (history tables), then the job's report and status."""
        records = [o.record for o in outcomes if o.record is not None]
        with self._lock:
            write_outcomes(self.store, outcomes)
            with self.store.transaction() as con:
                con.execute(
                    "UPDATE api_jobs SET status = 'succeeded', finished_at = ?, app_ids = ?, log_hashes = ?, "
                    "findings = ?, report_json = ?, error = NULL WHERE job_id = ?",
                    [_now(), [r.app_id for r in records], [r.log.log_hash for r in records], findings,
                     report_json, job_id],
                )

    def mark_failed(self, job_id: str, error: str) -> None:
        with self._lock, self.store.transaction() as con:
            con.execute("UPDATE api_jobs SET status = 'failed', finished_at = ?, error = ? WHERE job_id = ?",
                        [_now(), error, job_id])

    def fail_interrupted(self) -> list[str]:
        """Mark jobs left queued or running by a dead server as failed; returns their ids."""
        host, me = socket.gethostname(), os.getpid()
        with self._lock, self.store.transaction() as con:
            rows = con.execute(
                "SELECT job_id, host, pid FROM api_jobs WHERE status IN ('queued', 'running')").fetchall()
            doomed = [job_id for job_id, job_host, pid in rows
                      if not (job_host == host and pid != me and _alive(pid))]
            if doomed:
                con.execute(
                    "UPDATE api_jobs SET status = 'failed', error = ?, finished_at = ? "
                    "WHERE job_id IN (SELECT unnest(?::VARCHAR[]))", [INTERRUPTED, _now(), doomed])
        return doomed

    # ------------------------------------------------------------------ reads
    def get(self, job_id: str) -> JobRecord | None:
        with self._lock, self.store.connect() as con:
            cursor = con.execute(f"SELECT {_COLUMNS} FROM api_jobs WHERE job_id = ?", [job_id])
            names = [d[0] for d in cursor.description]
            row = cursor.fetchone()
        return _job(dict(zip(names, row))) if row is not None else None

    def recent(self, limit: int = 50, status: str | None = None) -> list[JobRecord]:
        """The newest jobs first, optionally only those in one status."""
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        with self._lock, self.store.connect() as con:
            cursor = con.execute(f"SELECT {_COLUMNS} FROM api_jobs {where} ORDER BY created_at DESC LIMIT ?",
                                 [*params, limit])
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        return [_job(dict(zip(names, row))) for row in rows]

    def report_json(self, job_id: str) -> str | None:
        with self._lock, self.store.connect() as con:
            row = con.execute("SELECT report_json FROM api_jobs WHERE job_id = ?", [job_id]).fetchone()
        return row[0] if row else None

    def app_metrics(self, log_hashes: list[str]) -> list[AppMetrics]:
        """Application totals and per-stage figures of the given stored logs, in the given order."""
        if not log_hashes:
            return []
        with self._lock, self.store.connect() as con:
            rows = {r.log_hash: r for r in _app_rows(con, "log_hash IN (SELECT unnest(?::VARCHAR[]))", [log_hashes])}
            return [AppMetrics(app=rows[h], stages=_stages(con, h)) for h in log_hashes if h in rows]

    def schema_version(self) -> int:
        with self._lock, self.store.connect() as con:
            return con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
