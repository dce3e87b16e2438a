"""History queries: list, show, compare two runs, a job's trend with regressions, export.

Everything reads the DuckDB store the batch wrote; nothing re-reads a log. A
regression is a run slower than the job's median by more than a threshold; it is
explained by the stages that grew most against the typical run and by the
stage metrics (input, shuffle, spill, tasks) that grew with them.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from copilot.store.db import Store
from tools.compare import SettingChange, StageDelta, StageSummary, compare_stages, ratio, setting_changes, setting_text
from tools.errors import ConfigurationError
from tools.findings import Finding
from tools.units import human_duration

APP_COLUMNS = (
    "log_hash, log_path, app_id, attempt_id, app_name, start_time_ms, duration_ms, executors, peak_executors, "
    "interactive_shell, total_tasks, failed_tasks, cost, currency, findings, savings_core_ms, complete, analyzed_at"
)
EXPORT_TABLES = ("applications", "stages", "settings", "findings", "predictions", "reports", "batch_runs", "batch_failures")
ExportFormat = Literal["parquet", "csv", "json"]


class AppRow(BaseModel):
    """One stored application, as listed."""

    log_hash: str
    log_path: str
    app_id: str
    attempt_id: str | None = None
    app_name: str | None = None
    start_time_ms: int | None = None
    duration_ms: int | None = None
    executors: int | None = None
    peak_executors: int | None = None  # null for rows stored before schema version 5
    interactive_shell: str | None = None
    total_tasks: int | None = None
    failed_tasks: int | None = None
    cost: float | None = None
    currency: str | None = None
    findings: int | None = None
    savings_core_ms: float | None = None
    complete: bool | None = None
    analyzed_at: str | None = None


class AppDetail(BaseModel):
    app: AppRow
    stages: list[StageSummary] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)


class Comparison(BaseModel):
    a: AppRow
    b: AppRow
    duration_ratio: float | None = None
    cost_ratio: float | None = None
    stages: list[StageDelta] = Field(default_factory=list)  # biggest duration change first
    stages_only_in_a: list[int] = Field(default_factory=list)
    stages_only_in_b: list[int] = Field(default_factory=list)
    findings_only_in_a: list[str] = Field(default_factory=list)  # rule ids
    findings_only_in_b: list[str] = Field(default_factory=list)
    settings: list[SettingChange] | None = None  # None: a run was stored before the store kept settings


class TrendRun(BaseModel):
    app: AppRow
    vs_median: float | None = None  # duration / median duration of the job's other runs
    regression: bool = False
    baseline_app_id: str | None = None
    grown_stages: list[StageDelta] = Field(default_factory=list)
    changed_settings: list[SettingChange] = Field(default_factory=list)  # against the baseline run
    explanation: str = ""


class Trend(BaseModel):
    job_name: str
    threshold: float
    median_duration_ms: float | None = None
    median_cost: float | None = None
    runs: list[TrendRun] = Field(default_factory=list)  # oldest first

    @property
    def regressions(self) -> list[TrendRun]:
        return [r for r in self.runs if r.regression]


class BatchRun(BaseModel):
    run_id: str
    source: str | None = None
    engine: str | None = None
    workers: int | None = None
    status: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    discovered: int | None = None
    analyzed: int | None = None
    skipped: int | None = None
    failed: int | None = None


class FailedLogRow(BaseModel):
    log_path: str
    reason: str | None = None
    run_id: str | None = None
    failed_at: str | None = None


def _rows(con, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _app_rows(con, where: str = "TRUE", params: list | None = None, order: str = "start_time_ms DESC NULLS LAST",
              limit: int | None = None) -> list[AppRow]:
    sql = f"SELECT {APP_COLUMNS} FROM applications WHERE {where} ORDER BY {order}"
    if limit:
        sql += f" LIMIT {int(limit)}"
    rows = _rows(con, sql, params or [])
    for row in rows:
        row["analyzed_at"] = str(row["analyzed_at"]) if row["analyzed_at"] is not None else None
    return [AppRow(**row) for row in rows]


def list_applications(store: Store, limit: int = 50, job_name: str | None = None) -> list[AppRow]:
    """The most recent applications (by start time), optionally of one job."""
    with store.connect() as con:
        if job_name:
            return _app_rows(con, "app_name = ?", [job_name], limit=limit)
        return _app_rows(con, limit=limit)


def list_runs(store: Store, limit: int = 20) -> list[BatchRun]:
    """The most recent batch runs with their counts and status (running, complete, interrupted)."""
    with store.connect() as con:
        rows = _rows(con, "SELECT run_id, source, engine, workers, status, started_at, finished_at, discovered, "
                          "analyzed, skipped, failed FROM batch_runs ORDER BY started_at DESC LIMIT ?", [limit])
    return [BatchRun(**{k: (str(v) if k.endswith("_at") and v is not None else v) for k, v in r.items()})
            for r in rows]


def list_failures(store: Store) -> list[FailedLogRow]:
    """Logs that could not be analyzed, with the one-line reason (retried by `copilot batch --retry-failed`)."""
    with store.connect() as con:
        rows = _rows(con, "SELECT log_path, reason, run_id, failed_at FROM batch_failures ORDER BY log_path", [])
    return [FailedLogRow(**{**r, "failed_at": str(r["failed_at"]) if r["failed_at"] else None}) for r in rows]


def _resolve(con, key: str) -> AppRow:
    """An application by app id, log hash (or its prefix) or log path; the latest one when several match."""
    matches = _app_rows(con, "app_id = ? OR log_hash LIKE ? || '%' OR log_path = ?", [key, key, key])
    if not matches:
        raise ConfigurationError(f"no stored application matches {key!r}; `copilot history list` shows what is stored")
    return matches[0]


def _stages(con, log_hash: str) -> list[StageSummary]:
    rows = _rows(
        con,
        "SELECT * EXCLUDE (log_hash) FROM stages WHERE log_hash = ? ORDER BY stage_id, attempt_id",
        [log_hash],
    )
    return [StageSummary(**row) for row in rows]


def _settings(con, log_hash: str) -> dict[str, str]:
    return dict(con.execute("SELECT key, value FROM settings WHERE log_hash = ?", [log_hash]).fetchall())


def _stored_setting_changes(a: dict[str, str], b: dict[str, str]) -> list[SettingChange] | None:
    """The properties that differ between two stored runs; None when either was stored without its settings."""
    return setting_changes(a, b) if a and b else None


def _findings(con, log_hash: str) -> list[Finding]:
    rows = con.execute("SELECT finding_json FROM findings WHERE log_hash = ? ORDER BY rank", [log_hash]).fetchall()
    return [Finding.model_validate_json(r[0]) for r in rows]


def show_application(store: Store, key: str) -> AppDetail:
    with store.connect() as con:
        app = _resolve(con, key)
        return AppDetail(app=app, stages=_stages(con, app.log_hash), findings=_findings(con, app.log_hash))


def compare_applications(store: Store, key_a: str, key_b: str) -> Comparison:
    """Run B against run A: runtime and cost ratio, stage deltas, findings that appeared or went away."""
    with store.connect() as con:
        a, b = _resolve(con, key_a), _resolve(con, key_b)
        deltas, only_a, only_b = compare_stages(_stages(con, a.log_hash), _stages(con, b.log_hash))
        rules_a = {f.rule_id for f in _findings(con, a.log_hash)}
        rules_b = {f.rule_id for f in _findings(con, b.log_hash)}
        settings = _stored_setting_changes(_settings(con, a.log_hash), _settings(con, b.log_hash))
    return Comparison(
        a=a,
        b=b,
        duration_ratio=ratio(b.duration_ms, a.duration_ms),
        cost_ratio=ratio(b.cost, a.cost),
        stages=deltas,
        stages_only_in_a=only_a,
        stages_only_in_b=only_b,
        findings_only_in_a=sorted(rules_a - rules_b),
        findings_only_in_b=sorted(rules_b - rules_a),
        settings=settings,
    )


def job_trend(store: Store, job_name: str, threshold: float = 0.4, max_stages: int = 3) -> Trend:
    """Runtime and cost of every stored run of a job, with runs slower than the median by > threshold flagged."""
    with store.connect() as con:
        runs = _app_rows(con, "app_name = ? AND duration_ms IS NOT NULL", [job_name],
                         order="start_time_ms ASC NULLS LAST, analyzed_at ASC")
        if not runs:
            names = [r[0] for r in con.execute(
                "SELECT app_name FROM applications WHERE app_name ILIKE '%' || ? || '%' GROUP BY app_name "
                "ORDER BY count(*) DESC LIMIT 5", [job_name]).fetchall()]
            hint = f"; similar job names: {', '.join(names)}" if names else ""
            raise ConfigurationError(f"no stored runs of job {job_name!r}{hint}")
        stages = {r.log_hash: _stages(con, r.log_hash) for r in runs}
        settings = {r.log_hash: _settings(con, r.log_hash) for r in runs}
    durations = [r.duration_ms for r in runs]
    costs = [r.cost for r in runs if r.cost is not None]
    trend = Trend(
        job_name=job_name,
        threshold=threshold,
        median_duration_ms=statistics.median(durations),
        median_cost=statistics.median(costs) if costs else None,
    )
    for index, run in enumerate(runs):
        others = [r for i, r in enumerate(runs) if i != index]
        item = TrendRun(app=run)
        if others:
            median_ms = statistics.median(r.duration_ms for r in others)
            item.vs_median = run.duration_ms / median_ms if median_ms else None
            if item.vs_median is not None and item.vs_median > 1 + threshold:
                baseline = min(others, key=lambda r: abs(r.duration_ms - median_ms))
                deltas, _, _ = compare_stages(stages[baseline.log_hash], stages[run.log_hash])
                grown = [d for d in deltas if d.duration_delta_ms > 0][:max_stages]
                item.regression = True
                item.baseline_app_id = baseline.app_id
                item.grown_stages = grown
                item.changed_settings = _stored_setting_changes(settings[baseline.log_hash], settings[run.log_hash]) or []
                item.explanation = _explain(run, item.vs_median, baseline, grown, item.changed_settings)
        trend.runs.append(item)
    return trend


def _explain(run: AppRow, vs_median: float, baseline: AppRow, grown: list[StageDelta],
             changed: list[SettingChange]) -> str:
    text = (
        f"{run.app_id} took {human_duration(run.duration_ms)}, {100 * (vs_median - 1):.0f}% slower than the job's "
        f"median (compared with {baseline.app_id}, {human_duration(baseline.duration_ms)})"
    )
    if grown:
        stages = "; ".join(
            f"{d.label(baseline.app_id)} +{human_duration(d.duration_delta_ms)}: {d.reason}" for d in grown
        )
        text += f". Stages that grew: {stages}"
    if changed:
        text += ". Settings changed since that run: " + "; ".join(setting_text(c) for c in changed[:5]) + (
            f" (+{len(changed) - 5} more)" if len(changed) > 5 else "")
    return text


def export_history(store: Store, out_dir: Path, fmt: ExportFormat, tables: tuple[str, ...] = EXPORT_TABLES) -> list[Path]:
    """Write each store table to `out_dir/<table>.<fmt>`; returns the files written."""
    if fmt not in ("parquet", "csv", "json"):
        raise ConfigurationError(f"unknown export format {fmt!r}; use parquet, csv or json")
    unknown = [t for t in tables if t not in EXPORT_TABLES]
    if unknown:
        raise ConfigurationError(f"unknown table {unknown[0]!r}; tables: {', '.join(EXPORT_TABLES)}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"cannot create {out_dir}: {exc}") from exc
    options = {"parquet": "FORMAT parquet", "csv": "FORMAT csv, HEADER true", "json": "FORMAT json, ARRAY true"}[fmt]
    written = []
    with store.connect() as con:
        for table in tables:
            target = out_dir / f"{table}.{fmt}"
            con.execute(f"COPY (SELECT * FROM {table}) TO '{_sql_path(target)}' ({options})")
            written.append(target)
    return written


def _sql_path(path: Path) -> str:
    return str(path.resolve()).replace("'", "''")
