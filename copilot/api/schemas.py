"""Request and response models of the HTTP API (they are its OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.store.jobs import AppMetrics, Depth, JobStatus, SourceKind
from copilot.store.records import StageSummary
from graph.report import ReportFinding
from tools.findings import Finding
from tools.tables.model import TableProfile

MAX_TEXT = 4000


class AnalyzeJobRequest(BaseModel):
    """What to analyze (exactly one of an uploaded `file`, `path` or `app_id`) and what to ask."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(None, max_length=MAX_TEXT, description="an event log inside the allowed directories")
    app_id: str | None = Field(None, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)?$",
                               description="an application of the configured History Server (app-id[/attempt])")
    question: str | None = Field(None, max_length=MAX_TEXT, description="your question or a description of the job")
    table: str | None = Field(None, max_length=MAX_TEXT, description="a table the job reads or writes (allowed dirs)")
    depth: Depth = Field("full", description="full (cited report) or findings (ranked findings, effects and "
                                             "what-if; no citations or narrative, faster)")


class JobView(BaseModel):
    """A job's status, timings and outcome."""

    job_id: str
    status: JobStatus
    source_kind: SourceKind
    source: str = ""
    question: str | None = None
    table: str | None = None
    depth: Depth = "full"
    app_ids: list[str] = Field(default_factory=list)
    findings: int | None = None
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    queued_ms: float | None = None
    run_ms: float | None = None
    links: dict[str, str] = Field(default_factory=dict)


class Recommendations(BaseModel):
    """The ranked findings of a finished job, each with evidence, config changes, predicted effect and citations."""

    job_id: str
    headline: str = ""
    total_savings_core_ms: float = 0.0
    findings: list[ReportFinding] = Field(default_factory=list)


class Metrics(BaseModel):
    """The profile metrics of the applications a job analyzed (from the history store)."""

    job_id: str
    apps: list[AppMetrics] = Field(default_factory=list)


class PartitionRequest(BaseModel):
    """A table path (layout) and/or an application (a finished job or a log path) whose shuffle stages to check."""

    model_config = ConfigDict(extra="forbid")

    table: str | None = Field(None, max_length=MAX_TEXT, description="a Parquet/ORC/CSV/Delta table in the allowed dirs")
    job_id: str | None = Field(None, max_length=64, description="a finished analyze job")
    path: str | None = Field(None, max_length=MAX_TEXT, description="an event log inside the allowed directories")


class PartitionAnalysis(BaseModel):
    """Table layout findings and shuffle-stage partitioning findings."""

    table: TableProfile | None = None
    table_findings: list[Finding] = Field(default_factory=list)
    shuffle_stages: list[StageSummary] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)


ComponentState = Literal["ok", "degraded", "not configured", "unavailable"]


class ComponentHealth(BaseModel):
    status: ComponentState
    detail: str = ""


class Health(BaseModel):
    """Overall status (`ok`, `degraded`: usable with less, `unavailable`: not usable) and each component's."""

    status: Literal["ok", "degraded", "unavailable"]
    components: dict[str, ComponentHealth]
    jobs_active: int = 0
