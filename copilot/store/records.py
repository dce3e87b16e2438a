"""What the store keeps about one analyzed log, as typed records.

Workers build an `AppRecord` (or a failure) per log and hand it to the single
writer; nothing here computes a diagnosis, it only copies numbers out of the
profile, the findings and the report into flat rows.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tools.compare import StageSummary, stage_summary
from tools.eventlog.model import AppProfile
from tools.eventlog.slots import peak_executors
from tools.findings import Finding
from tools.redact import redact_text


class PredictionRecord(BaseModel):
    """A predicted runtime: a what-if point (executor count) or a finding's predicted effect."""

    kind: Literal["what_if", "effect"]
    subject: str = ""  # "executors=8" or the finding's rule id
    executors: int | None = None
    runtime_ms: float
    runtime_low_ms: float | None = None
    runtime_high_ms: float | None = None
    cost: float | None = None
    method: str = ""


class LogIdentity(BaseModel):
    """A log file (or rolling directory) and the hash of its bytes."""

    log_path: str
    log_hash: str = ""
    log_bytes: int = 0
    log_mtime_ns: int | None = None


class AppRecord(BaseModel):
    """Everything stored for one analyzed application log."""

    log: LogIdentity
    app_id: str
    attempt_id: str | None = None
    app_name: str = ""
    user_name: str | None = None
    spark_version: str | None = None
    master: str | None = None
    start_time_ms: int | None = None
    end_time_ms: int | None = None
    duration_ms: int | None = None
    complete: bool = True
    executors: int = 0  # every executor the run had
    peak_executors: int = 0  # most alive at once
    interactive_shell: str | None = None  # AppProfile.interactive_shell
    total_tasks: int = 0
    failed_tasks: int = 0
    allocated_core_ms: float | None = None
    used_core_ms: float | None = None
    cost: float | None = None
    currency: str | None = None
    analysis_ms: float = 0.0
    analyzer: str = ""  # which analysis produced it, e.g. "graph/template" or "rules"
    stages: list[StageSummary] = Field(default_factory=list)
    settings: dict[str, str] = Field(default_factory=dict)  # Spark properties, secrets redacted by the engine
    findings: list[Finding] = Field(default_factory=list)  # ranked, biggest savings first
    predictions: list[PredictionRecord] = Field(default_factory=list)
    report_json: str | None = None

    @property
    def savings_core_ms(self) -> float:
        return sum(f.estimated_savings.core_ms for f in self.findings)

    @property
    def savings_cost(self) -> float | None:
        costs = [f.estimated_savings.cost for f in self.findings if f.estimated_savings.cost is not None]
        return sum(costs) if costs else None


class LogOutcome(BaseModel):
    """The result of handing one log to a worker."""

    status: Literal["analyzed", "skipped", "failed"]
    log: LogIdentity
    reason: str | None = None  # one line, for failures
    record: AppRecord | None = None
    elapsed_ms: float = 0.0


def app_record(
    log: LogIdentity,
    profile: AppProfile,
    findings: list[Finding],
    *,
    cost: float | None = None,
    currency: str | None = None,
    predictions: list[PredictionRecord] | None = None,
    report_json: str | None = None,
    analyzer: str = "",
    analysis_ms: float = 0.0,
) -> AppRecord:
    """Build the stored record of one application from its profile and analysis results."""
    return AppRecord(
        log=log,
        app_id=profile.app_id,
        attempt_id=profile.attempt_id,
        app_name=profile.app_name,
        user_name=profile.user,
        spark_version=profile.spark_version,
        master=profile.master,
        start_time_ms=profile.start_time_ms,
        end_time_ms=profile.end_time_ms,
        duration_ms=profile.duration_ms,
        complete=profile.complete,
        executors=len(profile.executors),
        peak_executors=peak_executors(profile.executors),
        interactive_shell=profile.interactive_shell,
        total_tasks=profile.total_tasks,
        failed_tasks=profile.failed_tasks,
        allocated_core_ms=profile.allocated_core_ms,
        used_core_ms=profile.used_core_ms,
        cost=cost,
        currency=currency,
        analysis_ms=analysis_ms,
        analyzer=analyzer,
        stages=[stage_summary(s) for s in profile.stages],
        settings={key: redact_text(value) for key, value in profile.spark_properties.items()},
        findings=list(findings),  # as ranked by the analysis
        predictions=predictions or [],
        report_json=report_json,
    )
