"""The specialists' tools: read-only functions bound to one application, and their LangChain wrappers.

`Toolbox` methods are plain typed functions over the lower packages (via `graph.adapters`);
`langchain_tools()` wraps each in one line with a typed argument schema. The offline
policy, the LLM and the chat agent all call the same methods, and every result that
feeds the report (findings, what-if, cost, table) is recorded as it is produced.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field, ValidationError

from graph import adapters, sql_plans
from graph.adapters import ToolUnavailable
from graph.config import GraphConfig
from graph.report import AppFacts, Citation, Cost, PredictedEffect, StageSummary, TableSummary, WhatIfPoint
from graph.sql_plans import SqlPlan, id_ranges, one_line, query_executions
from tools.compare import RunComparison, compare_profiles
from tools.eventlog.model import AppProfile, CachedData, ExecutorProfile, StageProfile, stage_label
from tools.eventlog.slots import peak_cores, peak_executors
from tools.findings import Category, Finding
from tools.redact import redact_text


# ----------------------------------------------------------------- argument schemas

class NoArgs(BaseModel):
    model_config = {"extra": "forbid"}


class StageArgs(BaseModel):
    stage_id: int = Field(description="Spark stage id")


class SqlArgs(BaseModel):
    execution_id: int = Field(description="SQL execution id (the 'SQL N' of findings and of sql_executions)")


class ConfigArgs(BaseModel):
    prefix: str = Field("spark.", description="only properties whose key starts with this")


class DiagnoseArgs(BaseModel):
    categories: list[Category] | None = Field(None, description="finding categories to keep; all when omitted")


class PredictArgs(BaseModel):
    changes: dict[str, str] = Field(description="Spark properties to change, e.g. {'spark.executor.instances': '8'}")


class TableArgs(BaseModel):
    path: str = Field(description="table directory (Parquet/ORC/CSV/Delta)")


class SearchArgs(BaseModel):
    query: str = Field(description="what to look up in the Spark/Databricks documentation")
    k: int = Field(3, ge=1, le=8)


# ----------------------------------------------------------------- views of the profile

class SqlSummary(BaseModel):
    execution_id: int
    description: str = ""
    duration_ms: int | None = None
    job_ids: list[int] = Field(default_factory=list)
    operators: dict[str, int] = Field(default_factory=dict)  # physical operator -> count
    error: str | None = None


class AppOverview(AppFacts):
    driver_time_ms: int | None = None
    longest_stages: list[StageSummary] = Field(default_factory=list)


def _sum(q: Any) -> float | None:
    return None if q is None else q.sum


def stage_summary(stage: StageProfile, profile: AppProfile | None = None) -> StageSummary:
    """A stage's figures; with its profile, also the operators that ran in it and theirs, and the input its Parquet
    scans read where the tasks' input metric missed it (`AppProfile.input_bytes`)."""
    m = stage.metrics
    return StageSummary(
        stage_id=stage.stage_id, attempt_id=stage.attempt_id, name=stage_label(stage)[:80], status=stage.status,
        num_tasks=stage.num_tasks, duration_ms=stage.duration_ms,
        task_duration_median_ms=m.duration_ms.median if m.duration_ms else None,
        task_duration_p95_ms=m.duration_ms.p95 if m.duration_ms else None,
        task_duration_max_ms=m.duration_ms.max if m.duration_ms else None,
        input_bytes=profile.input_bytes(stage) if profile else _sum(m.input_bytes),
        shuffle_read_bytes=_sum(m.shuffle_read_bytes),
        shuffle_write_bytes=_sum(m.shuffle_write_bytes), memory_bytes_spilled=_sum(m.memory_bytes_spilled),
        disk_bytes_spilled=_sum(m.disk_bytes_spilled), jvm_gc_time_ms=_sum(m.jvm_gc_time_ms),
        executor_run_time_ms=_sum(m.executor_run_time_ms), tasks_failed=stage.tasks_failed,
        failure_reason=stage.failure_reason,
        operators=sql_plans.operator_figures(sql_plans.stage_operators(profile, stage.stage_id)) if profile else "",
    )


def core_utilization(profile: AppProfile) -> float | None:
    if profile.used_core_ms and profile.allocated_core_ms:
        return min(1.0, profile.used_core_ms / profile.allocated_core_ms)
    return None


def lost_core_share(profile: AppProfile) -> float | None:
    """The part of the used core time spent in task attempts that failed or were killed."""
    held = sum(e.task_time_ms for e in profile.executors)
    return sum(sum(s.task_failure_time_ms.values()) for s in profile.stages) / held if held else None


def app_facts(profile: AppProfile) -> dict[str, Any]:
    """The AppFacts fields of a profile (the overview tool and the report's AppSummary both start from them)."""
    return dict(
        app_id=profile.app_id, app_name=profile.app_name, spark_version=profile.spark_version,
        master=profile.master, interactive_shell=profile.interactive_shell, duration_ms=profile.duration_ms,
        executors=len(profile.executors),
        peak_executors=peak_executors(profile.executors), total_cores=peak_cores(profile), jobs=len(profile.jobs), stages=len(profile.stages),
        tasks=profile.total_tasks, failed_tasks=profile.failed_tasks, core_utilization=core_utilization(profile),
        lost_core_share=lost_core_share(profile),
    )


def app_overview(profile: AppProfile, top: int = 5) -> AppOverview:
    longest = sorted(profile.stages, key=lambda s: s.duration_ms or 0, reverse=True)[:top]
    return AppOverview(**app_facts(profile), driver_time_ms=profile.driver_time_ms,
                       longest_stages=[stage_summary(s) for s in longest])


# ----------------------------------------------------------------- the toolbox

def not_in_app(kind: str, wanted: int, ids: list[int]) -> ToolUnavailable:
    """'stage 99 is not in this application (it has stages 0-5)': what to ask for instead."""
    has = id_ranges(ids, kind) if ids else f"no {kind}s"
    return ToolUnavailable(f"{kind} {wanted} is not in this application (it has {has})")


class Recorded(BaseModel):
    """Everything the tools produced in one specialist run (what the report is built from)."""

    findings: list[Finding] = Field(default_factory=list)
    table_findings: list[Finding] = Field(default_factory=list)
    what_if: list[WhatIfPoint] = Field(default_factory=list)
    cost: Cost | None = None
    table_summary: TableSummary | None = None
    calls: list[str] = Field(default_factory=list)
    caveats: list[str] = Field(default_factory=list)


class Toolbox:
    """Read-only tools bound to one application profile (and optional table path)."""

    def __init__(self, profile: AppProfile | None, config: GraphConfig | None = None, table: str | None = None,
                 baseline: AppProfile | None = None):
        self.profile = profile
        self.baseline = baseline  # the application loaded before this one, when the chat has two
        self.config = config or GraphConfig()
        self.table = table
        self.recorded = Recorded()
        self._lock = threading.Lock()
        self._tables: dict[str, Any] = {}

    def _need_profile(self) -> AppProfile:
        if self.profile is None:
            raise ToolUnavailable("no event log is loaded")
        return self.profile

    def _record_call(self, name: str, **kwargs: Any) -> None:
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if v not in (None, {}, []))
        with self._lock:
            self.recorded.calls.append(f"{name}({args})")

    # --- the tools -------------------------------------------------------
    def app_overview(self) -> AppOverview:
        """Application identity, runtime, executors, cores, utilization and the longest stages."""
        self._record_call("app_overview")
        return app_overview(self._need_profile())

    def stage_details(self, stage_id: int) -> StageSummary:
        """Task-time, shuffle, spill and GC figures of one stage."""
        self._record_call("stage_details", stage_id=stage_id)
        stage = self._need_profile().stage(stage_id)
        if stage is None:
            raise not_in_app("stage", stage_id, [s.stage_id for s in self._need_profile().stages])
        return stage_summary(stage, self._need_profile())

    def sql_executions(self, top: int = 10) -> list[SqlSummary]:
        """The longest SQL executions: description, duration, jobs and the physical operators they ran."""
        self._record_call("sql_executions")
        sqls = query_executions(self._need_profile())[:top]
        out = []
        for q in sqls:
            operators: dict[str, int] = {}
            for node in q.nodes:
                operators[node.name] = operators.get(node.name, 0) + 1
            out.append(SqlSummary(execution_id=q.execution_id, description=redact_text(one_line(q.description, 160)), duration_ms=q.duration_ms,
                                  job_ids=q.job_ids, operators=operators, error=redact_text(q.error[:160]) if q.error else None))
        return out

    def sql_plan(self, execution_id: int) -> SqlPlan:
        """One SQL execution: its jobs and stages, its operators in plan order with their row counts, sizes,
        spill and memory, and the physical plan's tree."""
        self._record_call("sql_plan", execution_id=execution_id)
        plan = sql_plans.sql_plan(self._need_profile(), execution_id)
        if plan is None:
            executions = [x.execution_id for x in self._need_profile().sql_executions]
            raise not_in_app("SQL execution", execution_id, executions)
        return plan

    def compare_runs(self) -> RunComparison:
        """This application against the one loaded before it: runtime, executors and cores, data volumes, the
        settings that differ, the stages that changed most and the metrics that grew with them."""
        self._record_call("compare_runs")
        if self.baseline is None:
            raise ToolUnavailable("only one application is loaded; load the run to compare with (/load PATH) and the "
                                  "earlier one is the baseline")
        profile = self._need_profile()
        return compare_profiles(self.baseline, profile, adapters.diagnose(self.baseline, self.config),
                                adapters.diagnose(profile, self.config))

    def executors(self) -> list[ExecutorProfile]:
        """Per-executor cores, task time, GC, spill, peak memory and why it was removed."""
        self._record_call("executors")
        return self._need_profile().executors[:50]

    def cached_data(self) -> list[CachedData]:
        """Persisted RDDs and cached DataFrames: what each holds, storage level, the stages, jobs and SQL executions
        that ran through it, how many actions did, whether it was unpersisted."""
        self._record_call("cached_data")
        return self._need_profile().cached[:50]

    def spark_config(self, prefix: str = "spark.") -> dict[str, str]:
        """Spark properties the application ran with (secrets already redacted)."""
        self._record_call("spark_config", prefix=prefix if prefix != "spark." else None)
        props = self._need_profile().spark_properties
        return {k: redact_text(v) for k, v in sorted(props.items()) if k.startswith(prefix)}

    def diagnose(self, categories: list[str] | None = None) -> list[Finding]:
        """Findings of the diagnostic rules (with evidence and config changes), optionally by category."""
        self._record_call("diagnose", categories=categories)
        findings = adapters.diagnose(self._need_profile(), self.config)
        if categories:
            findings = [f for f in findings if f.category in categories]
        with self._lock:
            self.recorded.findings.extend(f for f in findings if f not in self.recorded.findings)
        return findings

    def priced(self, findings: list[Finding]) -> list[Finding]:
        """`findings` with their savings in money (the report's prices); as they are without the cost tool."""
        return adapters.price_findings(findings, self._need_profile(), self.config)

    def what_if_executors(self) -> list[WhatIfPoint]:
        """Simulated runtime of the same tasks with other executor counts."""
        self._record_call("what_if_executors")
        points, caveats = adapters.what_if(self._need_profile(), self.config)
        self.recorded.what_if = points
        self.recorded.caveats += caveats
        return points

    def predict_runtime(self, changes: dict[str, str]) -> PredictedEffect:
        """Runtime-model prediction for the application with the given Spark properties changed."""
        self._record_call("predict_runtime", changes=changes)
        return adapters.predict(self._need_profile(), changes, self.config)

    def app_cost(self) -> Cost:
        """What the application cost to run (executor-hours x price)."""
        self._record_call("app_cost")
        cost = adapters.app_cost(self._need_profile(), self.config)
        self.recorded.cost = cost
        return cost

    def inspect_table(self, path: str) -> TableSummary:
        """Layout of a table: format, files, sizes, partitions."""
        self._record_call("inspect_table", path=path)
        table = self._table_profile(path)
        delta = getattr(table, "delta", None)
        summary = TableSummary(
            path=table.path, format=table.format, file_count=table.file_count, total_bytes=table.total_bytes,
            rows=table.rows, median_file_bytes=table.files.median_bytes, small_files=table.small_files,
            small_file_ratio=table.small_file_ratio, partition_columns=table.partitions.columns,
            partitions=table.partitions.count, delta_version=getattr(delta, "version", None),
        )
        self.recorded.table_summary = summary
        return summary

    def diagnose_table(self, path: str) -> list[Finding]:
        """Findings about a table's layout (small files, skewed partitions, Delta maintenance)."""
        self._record_call("diagnose_table", path=path)
        findings = adapters.diagnose_table(self._table_profile(path), self.profile, self.config)
        with self._lock:
            self.recorded.table_findings = findings
        return findings

    def _table_profile(self, path: str):
        if self.table is not None and path != self.table:  # the model may not steer reads to other paths
            raise ToolUnavailable(f"only the table given by the user ({self.table}) can be inspected")
        with self._lock:
            cached = self._tables.get(path)
        if cached is None:
            cached = adapters.inspect_table(path, self.profile, self.config)
            with self._lock:
                self._tables[path] = cached
        return cached

    def search_docs(self, query: str, k: int = 3, filters: dict | None = None) -> list[Citation]:
        """Passages of Spark/Databricks documentation relevant to the query (`filters`: knowledge metadata)."""
        self._record_call("search_docs", query=query)
        return adapters.search(query, k, filters, self.config)

    # --- LangChain wrappers ---------------------------------------------
    def langchain_tools(self, names: list[str] | tuple[str, ...] | None = None) -> list[BaseTool]:
        """The named tools as LangChain tools (all by default)."""
        return [_wrap(name, getattr(self, name), TOOL_SCHEMAS[name]) for name in (names or list(TOOL_SCHEMAS))]

    def call(self, name: str, args: dict[str, Any]) -> str:
        """Run a tool by name with arguments checked against its schema; the result (or the error) as JSON text."""
        schema = TOOL_SCHEMAS.get(name)
        if schema is None:
            return json.dumps({"error": f"unknown tool {name}"})
        try:
            checked = schema.model_validate(args)
        except ValidationError as exc:
            return json.dumps({"error": f"bad arguments for {name}: {exc.errors()[0]['msg']} ({exc.errors()[0]['loc']})"})
        try:
            return to_json(getattr(self, name)(**checked.model_dump(exclude_unset=True)))
        except ToolUnavailable as exc:
            return json.dumps({"error": str(exc)})


TOOL_SCHEMAS: dict[str, type[BaseModel]] = {
    "app_overview": NoArgs,
    "stage_details": StageArgs,
    "spark_config": ConfigArgs,
    "sql_executions": NoArgs,
    "sql_plan": SqlArgs,
    "compare_runs": NoArgs,
    "executors": NoArgs,
    "cached_data": NoArgs,
    "diagnose": DiagnoseArgs,
    "what_if_executors": NoArgs,
    "predict_runtime": PredictArgs,
    "app_cost": NoArgs,
    "inspect_table": TableArgs,
    "diagnose_table": TableArgs,
    "search_docs": SearchArgs,
}


def to_json(value: Any) -> str:
    """Compact, secret-scrubbed JSON of a tool result (pydantic models, lists, dicts)."""
    def plain(v: Any) -> Any:
        if isinstance(v, BaseModel):
            return v.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        if isinstance(v, list):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return redact_text(json.dumps(plain(value), default=str))


def _wrap(name: str, func: Any, schema: type[BaseModel]) -> BaseTool:
    """One LangChain tool over one toolbox method (results as JSON text)."""
    return StructuredTool.from_function(lambda **kw: to_json(func(**kw)), name=name, description=func.__doc__, args_schema=schema)

