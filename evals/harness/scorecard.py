"""The scorecard of one evaluation run: per-suite metrics, tables, misses, gate verdict, change since last run."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, computed_field

SuiteStatus = Literal["ok", "not_available", "error"]
Better = Literal["higher", "lower"]


class Metric(BaseModel):
    """One score of a suite; `better` says which direction is an improvement."""

    name: str  # e.g. "f1", "hybrid.recall@5", "model.median_ape"
    value: float
    better: Better = "higher"
    unit: Literal["ratio", "count", "percent"] = "ratio"  # ratio = 0..1 score


class ResultTable(BaseModel):
    """A detail table of a suite (per category, per retriever, per case ...)."""

    title: str
    columns: list[str]
    rows: list[list[str | float | int | None]] = Field(default_factory=list)


class SuiteResult(BaseModel):
    """What one suite measured, or why it could not measure (never a made-up score)."""

    suite: str
    status: SuiteStatus
    reason: str = ""  # why not available / what went wrong
    items: int = 0  # cases or questions scored
    metrics: list[Metric] = Field(default_factory=list)
    tables: list[ResultTable] = Field(default_factory=list)
    misses: list[str] = Field(default_factory=list)  # per-case misses, one line each
    notes: list[str] = Field(default_factory=list)
    duration_s: float = 0.0

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)


class MetricChange(BaseModel):
    """A metric of this run next to the same metric of the previous comparable run."""

    suite: str
    metric: str
    previous: float | None
    current: float | None
    better: Better = "higher"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def delta(self) -> float | None:
        if self.previous is None or self.current is None:
            return None
        return self.current - self.previous

    @computed_field  # type: ignore[prop-decorator]
    @property
    def verdict(self) -> str:
        """'better', 'worse', 'same', 'new' or 'gone' in the metric's own direction."""
        if self.previous is None:
            return "new"
        if self.current is None:
            return "gone"
        delta = self.delta or 0.0
        if abs(delta) < 1e-9:
            return "same"
        improved = delta > 0 if self.better == "higher" else delta < 0
        return "better" if improved else "worse"


class Comparison(BaseModel):
    """The change since the previous stored run over the same cases."""

    previous_run_id: str | None = None
    previous_started_at: str | None = None
    changes: list[MetricChange] = Field(default_factory=list)
    note: str = ""


class GateViolation(BaseModel):
    suite: str
    metric: str | None = None
    value: float | None = None
    bound: float | None = None
    kind: Literal["min", "max", "missing", "unavailable", "error"]
    message: str


class GateResult(BaseModel):
    """The verdict of `--gate`: every threshold in evals/thresholds.toml checked."""

    thresholds_file: str
    checked: int = 0
    violations: list[GateViolation] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return not self.violations


class Scorecard(BaseModel):
    """Everything one `copilot eval` run produced."""

    run_id: str
    started_at: str
    duration_s: float = 0.0
    git_commit: str | None = None
    suites_requested: list[str]
    cases_dir: str
    questions_path: str
    llm_model: str | None = None  # set when an LLM judged the reports
    results: list[SuiteResult] = Field(default_factory=list)
    comparison: Comparison | None = None
    gate: GateResult | None = None
    outputs: dict[str, str] = Field(default_factory=dict)  # "json"/"markdown" -> path

    def result(self, suite: str) -> SuiteResult | None:
        return next((r for r in self.results if r.suite == suite), None)
