"""The typed `Report` the graph produces and every renderer (terminal, Markdown, JSON, HTML) reads.

Its JSON form is a stable, documented schema (docs/report-schema.md); bump
`SCHEMA_VERSION` on any incompatible change.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field, computed_field

from tools.eventlog.model import StreamingProgress
from tools.findings import Finding
from tools.units import runtime_direction

SCHEMA_VERSION = "1.0"

ReportPath = Literal["llm", "llm-retry", "template"]


class Citation(BaseModel):
    """A passage of documentation that backs a recommendation."""

    source: str  # document title or file
    heading: str = ""
    url: str | None = None
    excerpt: str = ""
    score: float | None = None
    kind: str = "docs"  # docs, card (knowledge card), config (a setting's catalog entry), report (a past report)


class Cost(BaseModel):
    """What the application cost (or would cost) to run."""

    amount: float
    currency: str = "USD"
    core_hours: float | None = None
    idle_amount: float | None = None  # the part paid for cores no task used
    method: str = ""  # how it was priced, in a sentence
    assumptions: list[str] = Field(default_factory=list)


class WhatIfPoint(BaseModel):
    """Predicted runtime of the same work with a different executor count."""

    executors: int
    cores_per_executor: int | None = None
    runtime_ms: float
    runtime_low_ms: float | None = None
    runtime_high_ms: float | None = None
    cost: float | None = None
    current: bool = False  # the configuration the log was recorded with


LOCAL_MODE_WHAT_IF = ("This run is in local mode: one JVM runs every task, so there is no executor count to change; "
                      "the simulator varies its cores instead.")


def what_if_axis(points: list[WhatIfPoint]) -> str:
    """'core' when the curve varies the cores of one JVM (local mode), else 'executor'."""
    one_jvm = len({p.executors for p in points}) == 1 and len({p.cores_per_executor for p in points}) > 1
    return "core" if one_jvm else "executor"


def what_if_size(point: WhatIfPoint, axis: str) -> int:
    """The point's position on the curve: its cores on a local-mode curve, else its executor count."""
    return (point.cores_per_executor or 0) if axis == "core" else point.executors


class PredictedEffect(BaseModel):
    """Runtime before and after a recommendation, with an interval when the model gives one."""

    runtime_before_ms: float
    runtime_after_ms: float
    runtime_low_ms: float | None = None
    runtime_high_ms: float | None = None
    method: str = ""  # "runtime model", "task-scheduling simulation", "rule estimate"
    caveats: list[str] = Field(default_factory=list)  # e.g. a change outside the model's training range
    cost_before: float | None = None  # the run's cost, and what the model predicts it would cost after the change
    cost_after: float | None = None
    currency: str | None = None

    @computed_field  # in the JSON, so a consumer need not compare the interval with the observed runtime itself
    @property
    def direction(self) -> str:
        """"faster", "slower", "unchanged", or "uncertain" when the interval includes the observed runtime."""
        return runtime_direction(self.runtime_before_ms, self.runtime_after_ms, self.runtime_low_ms, self.runtime_high_ms)


class StageSpan(BaseModel):
    stage_id: int
    name: str = ""
    start_ms: float  # relative to application start
    end_ms: float
    status: str = "complete"
    tasks: int = 0


class UtilizationPoint(BaseModel):
    time_ms: float  # relative to application start
    allocated_cores: float
    busy_cores: float


class StageDistribution(BaseModel):
    """Task durations of one stage (order statistics) for the distribution chart."""

    stage_id: int
    durations_ms: list[float]
    median_ms: float | None = None
    max_ms: float | None = None


class Charts(BaseModel):
    """Series for the HTML charts, derived from the profile (no raw tasks)."""

    stage_timeline: list[StageSpan] = Field(default_factory=list)
    utilization: list[UtilizationPoint] = Field(default_factory=list)
    skewed_stages: list[StageDistribution] = Field(default_factory=list)


class StageSummary(BaseModel):
    """The figures of one stage (used by tools and for stages the question asks about)."""

    stage_id: int
    attempt_id: int = 0
    name: str = ""
    status: str = ""
    num_tasks: int = 0
    duration_ms: int | None = None
    task_duration_median_ms: float | None = None
    task_duration_p95_ms: float | None = None
    task_duration_max_ms: float | None = None
    input_bytes: float | None = None
    shuffle_read_bytes: float | None = None
    shuffle_write_bytes: float | None = None
    memory_bytes_spilled: float | None = None
    disk_bytes_spilled: float | None = None
    jvm_gc_time_ms: float | None = None
    executor_run_time_ms: float | None = None
    tasks_failed: int = 0
    failure_reason: str | None = None
    # the operators that ran only in it, with their figures: 'SortMergeJoin: 48,600,000 rows; HashAggregate: ...'
    operators: str = ""


class AppFacts(BaseModel):
    """The application's identity and size, as the profile states them (shared by the tool and the report)."""

    app_id: str
    app_name: str = ""
    spark_version: str | None = None
    master: str | None = None
    interactive_shell: str | None = None  # "spark-shell", "pyspark shell", "Scala REPL"; None for a submitted job
    duration_ms: int | None = None
    executors: int = 0  # every executor the run had
    peak_executors: int = 0  # most alive at once
    total_cores: int | None = None  # task slots at the peak
    jobs: int = 0
    stages: int = 0
    tasks: int = 0
    failed_tasks: int = 0
    core_utilization: float | None = None  # used / allocated core time, 0..1
    lost_core_share: float | None = None  # the part of used core time in failed or killed task attempts, 0..1


class AppSummary(AppFacts):
    """What the application is, how long it ran and what it cost."""

    log_path: str = ""
    user: str | None = None
    description: str = ""  # one sentence: what the app is
    cost: Cost | None = None
    what_if: list[WhatIfPoint] = Field(default_factory=list)
    streaming: list[StreamingProgress] = Field(default_factory=list)  # each structured-streaming query's progress
    asked_stages: list[StageSummary] = Field(default_factory=list)  # stages the question names
    charts: Charts = Field(default_factory=Charts)


class TableSummary(BaseModel):
    """Layout of the table given with --table (the full profile stays with the table tools)."""

    path: str
    format: str
    file_count: int = 0
    total_bytes: int = 0
    rows: int | None = None
    median_file_bytes: float | None = None
    small_files: int = 0
    small_file_ratio: float = 0.0
    partition_columns: list[str] = Field(default_factory=list)
    partitions: int = 0
    delta_version: int | None = None


class ReportFinding(BaseModel):
    """One finding as reported: the rule's evidence plus what to paste, what to expect, and why."""

    rank: int
    app_id: str
    finding: Finding
    conf_flags: list[str] = Field(default_factory=list)  # --conf key=value
    conf_set_lines: list[str] = Field(default_factory=list)  # spark.conf.set("key", "value")
    predicted_effect: PredictedEffect | None = None
    citations: list[Citation] = Field(default_factory=list)
    # what ran in the finding's stages, so 'stage 4' can be found in the code: 'stage 4: SQL 0: Sort, SortMergeJoin'
    where: list[str] = Field(default_factory=list)
    explanation: str = ""  # narrative, checked by verify
    specialist: str = ""  # which specialist produced it


class SpecialistRun(BaseModel):
    """What one specialist did: which tools it called, how, and what it concluded."""

    name: str
    mode: Literal["llm", "offline"]
    reason: str = ""  # why the router chose it
    tool_calls: list[str] = Field(default_factory=list)
    note: str = ""
    findings: int = 0


class Report(BaseModel):
    """The result of one analysis."""

    schema_version: str = SCHEMA_VERSION
    generated_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    path: ReportPath = "template"
    question: str | None = None
    headline: str = ""  # one line
    narrative: str = ""  # the summary paragraph, checked by verify
    answer: str = ""  # the answer to the question, when one was asked (checked by verify)
    apps: list[AppSummary] = Field(default_factory=list)
    findings: list[ReportFinding] = Field(default_factory=list)
    table: TableSummary | None = None  # when --table was given
    caveats: list[str] = Field(default_factory=list)
    specialists: list[SpecialistRun] = Field(default_factory=list)
    verify_violations: list[str] = Field(default_factory=list)  # what verify rejected on the way

    @property
    def total_savings_core_ms(self) -> float:
        return sum(f.finding.estimated_savings.core_ms for f in self.findings)

    def _repr_html_(self) -> str:
        """Jupyter shows the report (findings, what-if, charts) instead of the model's repr."""
        from graph.report_html import render_html_fragment

        return render_html_fragment(self)
