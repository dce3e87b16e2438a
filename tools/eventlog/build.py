"""Turn the aggregated event state into an AppProfile; every derived number is computed here.

Derived numbers: durations, stage status, driver vs executor wall time, the
critical path through the stage DAG, allocated vs used core-milliseconds,
task totals, streaming summaries. Free text is redacted here, once.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from tools.eventlog.aggregate import Aggregator, SqlState, StageState, StreamState
from tools.eventlog.cache import cached_data
from tools.eventlog.events import SparkPlanInfo
from tools.eventlog.master import local_master
from tools.eventlog.model import (
    PLAN_WRAPPERS,
    SCAN_OPERATORS,
    AppProfile,
    ExecutorProfile,
    JobProfile,
    LogSource,
    PlanNode,
    SqlExecution,
    StageProfile,
    StreamingProgress,
    failure_line,
    task_cpus,
)
from tools.redact import redact_properties, redact_text

DETAILS_LINES = 5
NODE_DESCRIPTION_CHARS = 400
# A file scan's description carries what it read (Format, Location, PartitionFilters, PushedFilters, DataFilters)
# after up to 25 column names; Spark cuts each of those entries to 100 characters (spark.sql.debug.maxToStringFields,
# spark.sql.maxMetadataStringLength), so about 1,200 characters hold all of it.
SCAN_DESCRIPTION_CHARS = 2000
TEXT_CHARS = 2000


def build_profile(agg: Aggregator, *, app_key: str, source: LogSource, truncated_tail: bool,
                  max_plan_chars: int) -> AppProfile:
    app = agg.app
    warnings = list(agg.warnings)
    complete = agg.app_end_ms is not None and not truncated_tail
    if truncated_tail:
        warnings.append("the last line of the log is cut off (log still being written or copied partially); it was skipped")
    if agg.app_end_ms is None:
        warnings.append("the log has no ApplicationEnd event: the application was still running or did not stop cleanly")
    spark_props, hadoop_props, system_props = _properties(agg)
    start_ms = app.timestamp if app and app.timestamp else agg.first_timestamp_ms
    end_ms = agg.app_end_ms or agg.last_timestamp_ms
    stages = _stages(agg)
    ran_in = _accumulator_stages(agg)
    sql_executions = [_sql(s, agg.accumulator_values, ran_in, _own_stages(s, agg), max_plan_chars)
                      for s in sorted(agg.sql.values(), key=lambda s: s.execution_id)]
    _set_stage_operators(stages, sql_executions)
    jobs = _jobs(agg, end_ms)
    executors = _executors(agg, spark_props.get("spark.master"))
    executor_time = _union_ms([(j.submission_time_ms, j.completion_time_ms or end_ms) for j in jobs])
    duration = end_ms - start_ms if start_ms is not None and end_ms is not None else None
    return AppProfile(
        app_id=(app.app_id if app and app.app_id else app_key),
        attempt_id=app.attempt_id if app else None,
        app_name=app.app_name if app else "",
        user=(app.user if app and app.user else system_props.get("user.name")),
        spark_version=agg.spark_version,
        master=spark_props.get("spark.master"),
        start_time_ms=start_ms,
        end_time_ms=end_ms,
        duration_ms=duration,
        complete=complete,
        spark_properties=spark_props,
        hadoop_properties=hadoop_props,
        system_properties=system_props,
        executors=executors,
        jobs=jobs,
        stages=stages,
        sql_executions=sql_executions,
        streaming=[_stream(s) for s in agg.streams.values()],
        cached=cached_data((s.info for s in agg.stages.values() if s.info is not None), agg.stage_jobs,
                           {j.job_id: j.sql_execution_id for j in jobs}, agg.unpersisted),
        driver_time_ms=(max(0, duration - executor_time) if duration is not None else None),
        executor_time_ms=executor_time if jobs else (0 if duration is not None else None),
        critical_path_ms=_critical_path_ms(stages),
        allocated_core_ms=_allocated_core_ms(executors, end_ms),
        used_core_ms=task_cpus(spark_props) * sum(e.task_time_ms for e in executors),
        total_tasks=sum(s.tasks_succeeded + s.tasks_failed + s.tasks_killed for s in stages),
        failed_tasks=sum(s.tasks_failed for s in stages),
        killed_tasks=sum(s.tasks_killed for s in stages),
        warnings=warnings,
        source=source.model_copy(update={"events": agg.events, "unknown_events": agg.unknown_events,
                                         "bad_lines": agg.bad_lines}),
    )


# ---------------------------------------------------------------- properties


def _pairs(raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):
        return {str(k): "" if v is None else str(v) for k, v in raw.items()}
    if isinstance(raw, list):  # very old logs: [[key, value], ...]
        return {str(p[0]): str(p[1]) for p in raw if isinstance(p, list | tuple) and len(p) == 2}
    return {}


def _properties(agg: Aggregator) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    env = agg.environment
    if env is None:
        return {}, {}, {}
    spark = _pairs(env.spark_properties)
    extra = spark.get("spark.redaction.regex")
    return (redact_properties(spark, extra), redact_properties(_pairs(env.hadoop_properties), extra),
            redact_properties(_pairs(env.system_properties), extra))


# ---------------------------------------------------------------- stages and jobs


def _stage_profile(agg: Aggregator, stage: StageState) -> StageProfile:
    info = stage.info
    tasks = stage.tasks
    profile = StageProfile(
        stage_id=stage.stage_id,
        attempt_id=stage.attempt_id,
        job_ids=list(agg.stage_jobs.get(stage.stage_id, [])),
        tasks_succeeded=tasks.succeeded,
        tasks_failed=tasks.failed,
        tasks_killed=tasks.killed,
        tasks_speculative=tasks.speculative,
        task_failure_reasons=dict(tasks.failure_reasons),
        task_failure_time_ms=dict(tasks.failure_time_ms),
        metrics=tasks.distributions,
        duration_sample_ms=tasks.duration_sample,
        task_time_by_executor_ms=tasks.task_time_by_executor,
    )
    if info is None:
        info = agg.job_stage_infos.get(stage.stage_id)
    if info is not None:
        profile.name = info.name
        profile.details = redact_text("\n".join(info.details.splitlines()[:DETAILS_LINES]))
        profile.num_tasks = info.num_tasks
        profile.parent_ids = list(info.parent_ids)
        profile.rdd_names = [redact_text(r.name) for r in info.rdds[:50] if r.name]
        profile.submission_time_ms = info.submission_time
        profile.completion_time_ms = info.completion_time
        if info.failure_reason:
            profile.failure_reason = redact_text(failure_line(info.failure_reason, TEXT_CHARS))
        profile.accumulables = _named_accumulables(info)
    if profile.submission_time_ms and profile.completion_time_ms:
        profile.duration_ms = max(0, profile.completion_time_ms - profile.submission_time_ms)
    if stage.completed:
        profile.status = "failed" if profile.failure_reason else "complete"
    elif stage.submitted or tasks.succeeded or tasks.failed:
        profile.status = "active"
    return profile


def _named_accumulables(info: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    for acc in info.accumulables:
        if not acc.name or acc.name.startswith("internal."):
            continue
        value = acc.value
        if isinstance(value, str):
            try:
                value = float(value.replace(",", ""))
            except ValueError:
                continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            key = acc.name if acc.name not in out else f"{acc.name} #{acc.id}"
            out[key] = float(value)
    return out


def _stages(agg: Aggregator) -> list[StageProfile]:
    stages = [_stage_profile(agg, s) for s in agg.stages.values()]
    seen = {s.stage_id for s in stages}
    for stage_id, info in agg.job_stage_infos.items():
        if stage_id not in seen:  # declared by a job, never submitted: skipped (already computed)
            profile = _stage_profile(agg, StageState(stage_id, info.attempt_id, info=info))
            profile.status = "skipped"
            profile.submission_time_ms = profile.completion_time_ms = profile.duration_ms = None
            stages.append(profile)
    return sorted(stages, key=lambda s: (s.stage_id, s.attempt_id))


def _jobs(agg: Aggregator, end_ms: int | None) -> list[JobProfile]:
    jobs = sorted(agg.jobs.values(), key=lambda j: j.job_id)
    for job in jobs:
        if job.submission_time_ms and job.completion_time_ms:
            job.duration_ms = max(0, job.completion_time_ms - job.submission_time_ms)
        if job.description:
            job.description = redact_text(job.description[:TEXT_CHARS])
        if job.failure_reason:
            job.failure_reason = redact_text(job.failure_reason)
    return jobs


# ---------------------------------------------------------------- executors


def _executors(agg: Aggregator, master: str | None) -> list[ExecutorProfile]:
    """Executors by id; the driver only when it ran tasks itself (local mode)."""
    out = []
    for executor in agg.executors.values():
        if executor.executor_id == "driver":
            if executor.task_count == 0:
                continue
            local = local_master(master)
            if executor.cores is None and local is not None and not local.cluster:
                executor.cores = local.cores
        out.append(executor)
    return sorted(out, key=lambda e: (not e.executor_id.isdigit(), int(e.executor_id) if e.executor_id.isdigit() else 0, e.executor_id))


def _allocated_core_ms(executors: list[ExecutorProfile], end_ms: int | None) -> float | None:
    total = 0.0
    counted = False
    for executor in executors:
        if executor.cores and executor.added_time_ms:
            until = executor.removed_time_ms or end_ms
            if until and until >= executor.added_time_ms:
                total += executor.cores * (until - executor.added_time_ms)
                counted = True
    return total if counted else None


# ---------------------------------------------------------------- time accounting


def merge_intervals(intervals: list[tuple[int | None, int | None]]) -> list[tuple[int, int]]:
    """The union of [start, end] intervals as sorted disjoint intervals (missing ends ignored)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted((s, e) for s, e in intervals if s is not None and e is not None and e >= s):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _union_ms(intervals: list[tuple[int | None, int | None]]) -> int:
    """Total length of the union of [start, end] intervals (missing ends ignored)."""
    return sum(end - start for start, end in merge_intervals(intervals))


def _critical_path_ms(stages: list[StageProfile]) -> int | None:
    """Longest chain of stage durations through the parent DAG (attempts of a stage add up)."""
    duration: dict[int, int] = {}
    parents: dict[int, set[int]] = {}
    for stage in stages:
        if stage.duration_ms is not None:
            duration[stage.stage_id] = duration.get(stage.stage_id, 0) + stage.duration_ms
        parents.setdefault(stage.stage_id, set()).update(stage.parent_ids)
    if not duration:
        return None
    longest: dict[int, int] = {}
    for stage_id in sorted(parents):  # Spark creates parents before children: ids ascend along edges
        best_parent = max((longest.get(p, 0) for p in parents[stage_id] if p < stage_id), default=0)
        longest[stage_id] = duration.get(stage_id, 0) + best_parent
    return max(longest.values())


# ---------------------------------------------------------------- SQL


def _accumulator_stages(agg: Aggregator) -> dict[int, set[int]]:
    """Accumulator id -> the stages whose tasks updated it. SQL metrics are accumulators, so this says which stage
    each plan operator ran in (Spark's own internal task metrics are left out: no plan node owns them)."""
    out: dict[int, set[int]] = {}
    for stage in agg.stages.values():
        for acc in stage.info.accumulables if stage.info is not None else ():
            if acc.name and not acc.name.startswith("internal."):
                out.setdefault(acc.id, set()).add(stage.stage_id)
    return out


def _own_stages(state: SqlState, agg: Aggregator) -> set[int] | None:
    """The stages of the execution's own jobs, the ones Spark's SQL tab counts for it (None when the log ties no job
    to it): a query that reads a cache shows the cached plan's nodes, whose metrics the stages of the query that built
    the cache updated; those stages did not run this query."""
    own = {stage for job_id in state.job_ids if job_id in agg.jobs for stage in agg.jobs[job_id].stage_ids}
    return own or None


def _set_stage_operators(stages: list[StageProfile], executions: list[SqlExecution]) -> None:
    """Give each stage the SQL execution and the working operators that ran in it, in data-flow order (leaves
    first: the plan nodes are in pre-order, so reversed)."""
    found: dict[int, tuple[int, list[str]]] = {}
    for execution in executions:
        for node in reversed(execution.nodes):
            if node.name.startswith(PLAN_WRAPPERS):
                continue
            for stage_id in node.stage_ids:
                _, names = found.setdefault(stage_id, (execution.execution_id, []))
                if node.name not in names:
                    names.append(node.name)
    for stage in stages:
        if stage.stage_id in found:
            stage.sql_execution_id, stage.operators = found[stage.stage_id][0], list(found[stage.stage_id][1])


def _plan_nodes(info: SparkPlanInfo | None, values: dict[int, float], ran_in: dict[int, set[int]],
                own: set[int] | None) -> list[PlanNode]:
    if info is None:
        return []
    nodes: list[PlanNode] = []
    stack: list[tuple[SparkPlanInfo, int | None]] = [(info, None)]
    while stack:  # pre-order, children left to right
        node, parent_id = stack.pop()
        metrics = {m.name: values[m.accumulator_id] for m in node.metrics if m.accumulator_id in values}
        stage_ids = sorted({s for m in node.metrics for s in ran_in.get(m.accumulator_id, ()) if own is None or s in own})
        node_id = len(nodes)
        # Spark's name ends in a space when a scan names no table ('Scan parquet '); a JDBC scan's name holds its
        # table option, which may be a subquery with literals
        nodes.append(PlanNode(node_id=node_id, parent_id=parent_id, name=redact_text(node.node_name.strip()),
                              description=redact_text(node.simple_string)[:_description_chars(node.node_name)],
                              metrics=metrics, stage_ids=stage_ids))
        stack.extend((child, node_id) for child in reversed(node.children))
    return nodes


def _description_chars(name: str) -> int:
    return SCAN_DESCRIPTION_CHARS if name.startswith(SCAN_OPERATORS) else NODE_DESCRIPTION_CHARS


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... (truncated, {len(text) - limit} more characters)"


def _sql(state: SqlState, values: dict[int, float], ran_in: dict[int, set[int]], own: set[int] | None,
         max_plan_chars: int) -> SqlExecution:
    duration = (state.end_time_ms - state.start_time_ms) if state.start_time_ms and state.end_time_ms else None
    return SqlExecution(
        execution_id=state.execution_id,
        description=redact_text(state.description[:TEXT_CHARS]),
        details=redact_text("\n".join(state.details.splitlines()[:DETAILS_LINES])),
        physical_plan=_truncate(redact_text(state.physical_plan), max_plan_chars),
        start_time_ms=state.start_time_ms,
        end_time_ms=state.end_time_ms,
        duration_ms=max(0, duration) if duration is not None else None,
        job_ids=sorted(state.job_ids),
        nodes=_plan_nodes(state.plan_info, values, ran_in, own),
        error=redact_text(failure_line(state.error, TEXT_CHARS)) if state.error else None,
    )


# ---------------------------------------------------------------- streaming


def _stream(state: StreamState) -> StreamingProgress:
    times = []
    for stamp in state.timestamps:
        try:
            times.append(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            continue
    gaps = [b - a for a, b in zip(times, times[1:]) if b >= a]
    return StreamingProgress(
        query_id=state.query_id,
        name=state.name,
        batches=state.batches,
        input_rows_per_second_mean=statistics.fmean(state.input_rps) if state.input_rps else None,
        processed_rows_per_second_mean=statistics.fmean(state.processed_rps) if state.processed_rps else None,
        batch_duration_ms_median=statistics.median(state.batch_durations_ms) if state.batch_durations_ms else None,
        batch_duration_ms_max=max(state.batch_durations_ms) if state.batch_durations_ms else None,
        trigger_interval_ms=statistics.median(gaps) if gaps else None,
        state_rows_max=state.state_rows_max,
        state_memory_bytes_max=state.state_memory_max,
        sources=[redact_text(s) for s in state.sources],
        sinks=[redact_text(s) for s in state.sinks],
        num_input_rows_total=state.input_rows_total,
        terminated=state.terminated,
        exception=redact_text(failure_line(state.exception, TEXT_CHARS)) if state.exception else None,
    )
