"""Profile numbers agree with values computed independently (standard json module) from the same real logs."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import zstandard

from tests.conftest import FIXTURES_DIR
from tests.eventlog.logs import FAILING_APP, FIXTURES, ROLLING_APP, SQL_APP, YARN_APP
from tools.cost import app_cost, load_pricing
from tools.eventlog import load_profile
from tools.eventlog.model import PLAN_WRAPPERS

AQE_SPILL_APP = FIXTURES / "NVIDIA__spark-rapids-tools" / "aqeshuffle_eventlog.zstd"


def read_events(path: Path) -> list[dict]:
    """All events of a log, decompressing zstd parts and reading rolling parts in index order."""
    parts = sorted(path.glob("events_*"), key=lambda p: int(p.name.split("_")[1])) if path.is_dir() else [path]
    out = []
    for part in parts:
        data = part.read_bytes()
        if part.suffix == ".zstd":
            data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True).read()
        out.extend(json.loads(line) for line in data.splitlines() if line.strip())
    return out


def successful_tasks(events: list[dict]) -> dict[tuple[int, int], list[dict]]:
    by_stage = defaultdict(list)
    for e in events:
        if e["Event"] == "SparkListenerTaskEnd" and e["Task End Reason"]["Reason"] == "Success":
            by_stage[(e["Stage ID"], e["Stage Attempt ID"])].append(e)
    return by_stage


LOGS = [AQE_SPILL_APP, FAILING_APP, YARN_APP, ROLLING_APP, SQL_APP]


@pytest.mark.parametrize("log", LOGS, ids=[p.name for p in LOGS])
def test_task_counts_match_task_end_events(log):
    events = read_events(log)
    task_ends = [e for e in events if e["Event"] == "SparkListenerTaskEnd"]
    failed = [e for e in task_ends if e["Task End Reason"]["Reason"] not in ("Success", "TaskKilled")]
    profile = load_profile(log)
    assert profile.total_tasks == len(task_ends)
    assert profile.failed_tasks == len(failed)
    assert len(profile.jobs) == len({e["Job ID"] for e in events if e["Event"] == "SparkListenerJobStart"})


@pytest.mark.parametrize("log", LOGS, ids=[p.name for p in LOGS])
def test_stage_spill_sums_max_duration_and_median(log):
    profile = load_profile(log)
    stages = successful_tasks(read_events(log))
    assert stages
    for (stage_id, attempt), tasks in stages.items():
        stage = profile.stage(stage_id, attempt)
        metrics = [t["Task Metrics"] for t in tasks]
        durations = [t["Task Info"]["Finish Time"] - t["Task Info"]["Launch Time"] for t in tasks]
        assert stage.tasks_succeeded == len(tasks)
        assert stage.metrics.duration_ms.max == max(durations)
        assert stage.metrics.duration_ms.median == pytest.approx(float(np.median(durations)))
        assert stage.metrics.duration_ms.p95 == pytest.approx(float(np.quantile(durations, 0.95)))
        assert stage.metrics.disk_bytes_spilled.sum == sum(m["Disk Bytes Spilled"] for m in metrics)
        assert stage.metrics.memory_bytes_spilled.sum == sum(m["Memory Bytes Spilled"] for m in metrics)
        assert stage.metrics.executor_run_time_ms.sum == sum(m["Executor Run Time"] for m in metrics)
        assert stage.metrics.result_size_bytes.max == max(m["Result Size"] for m in metrics)
        if "Peak Execution Memory" in metrics[0]:
            assert stage.metrics.peak_execution_memory_bytes.max == max(m["Peak Execution Memory"] for m in metrics)
        if "Executor CPU Time" in metrics[0]:
            assert stage.metrics.executor_cpu_time_ms.sum == pytest.approx(sum(m["Executor CPU Time"] for m in metrics) / 1e6)
        if "Input Metrics" in metrics[0]:
            assert stage.metrics.input_records.sum == sum(m["Input Metrics"]["Records Read"] for m in metrics)
        if "Shuffle Read Metrics" in metrics[0]:
            expected = sum(m["Shuffle Read Metrics"]["Remote Bytes Read"] + m["Shuffle Read Metrics"]["Local Bytes Read"]
                           for m in metrics)
            assert stage.metrics.shuffle_read_bytes.sum == expected


def test_spill_is_found_where_the_log_has_it():
    profile = load_profile(AQE_SPILL_APP)
    assert sum(s.metrics.disk_bytes_spilled.sum for s in profile.stages if s.metrics.disk_bytes_spilled) > 0


def test_executor_totals_add_up_to_task_totals():
    profile = load_profile(YARN_APP)
    events = read_events(YARN_APP)
    added = {e["Executor ID"] for e in events if e["Event"] == "SparkListenerExecutorAdded"}
    assert {e.executor_id for e in profile.executors} == added
    assert sum(e.task_count for e in profile.executors) == profile.total_tasks
    removed = {e["Executor ID"]: e["Removed Reason"] for e in events if e["Event"] == "SparkListenerExecutorRemoved"}
    for executor in profile.executors:
        assert executor.removed_reason == removed.get(executor.executor_id)
    assert profile.stages and sum(s.task_failure_reasons.get("ExecutorLostFailure", 0) for s in profile.stages) > 0


def test_failure_reason_classes_count_exceptions():
    profile = load_profile(FAILING_APP)
    events = read_events(FAILING_APP)
    exceptions = [e["Task End Reason"]["Class Name"] for e in events
                  if e["Event"] == "SparkListenerTaskEnd" and e["Task End Reason"]["Reason"] == "ExceptionFailure"]
    reasons = profile.stages[0].task_failure_reasons
    assert reasons == {f"ExceptionFailure:{name}": exceptions.count(name) for name in set(exceptions)}


def test_sql_node_metrics_come_from_stage_accumulables():
    events = read_events(SQL_APP)
    final = {}
    for e in events:
        if e["Event"] == "SparkListenerStageCompleted":
            for acc in e["Stage Info"]["Accumulables"]:
                final[acc["ID"]] = float(acc["Value"])
        elif e["Event"].endswith("SparkListenerDriverAccumUpdates"):
            final.update({acc_id: float(value) for acc_id, value in e["accumUpdates"]})
    final_plans = {}
    for e in events:
        if e["Event"].endswith(("SparkListenerSQLExecutionStart", "SparkListenerSQLAdaptiveExecutionUpdate")):
            final_plans[e["executionId"]] = e["sparkPlanInfo"]
    profile = load_profile(SQL_APP)
    checked = 0
    for execution_id, plan in final_plans.items():
        execution = next(x for x in profile.sql_executions if x.execution_id == execution_id)
        stack = [plan]
        while stack:
            node = stack.pop()
            stack.extend(node["children"])
            for metric in node["metrics"]:
                if metric["accumulatorId"] in final:
                    assert any(n.name == node["nodeName"].strip() and n.metrics.get(metric["name"]) == final[metric["accumulatorId"]]
                               for n in execution.nodes)
                    checked += 1
    assert checked > 5
    assert all(x.job_ids for x in profile.sql_executions if x.duration_ms)


def _preorder(plan: dict) -> list[dict]:
    """Plan nodes root first, children left to right (the order of `SqlExecution.nodes`)."""
    out, stack = [], [plan]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node["children"]))
    return out


@pytest.mark.parametrize("path", [SQL_APP, FIXTURES_DIR / "workloads" / "skewed_join.zstd",
                                  FIXTURES_DIR / "workloads" / "cache_read_once.zstd"],
                         ids=["spark3-sql", "aqe-join", "cached-plan"])
def test_plan_operators_ran_in_the_stages_that_updated_their_metrics(path):
    """A plan node ran in the stages that updated its SQL metrics, counting only the stages of its execution's own
    jobs (as Spark's SQL tab does): a query reading a cache holds the cached plan's nodes, whose metrics the stages
    of the query that built the cache updated."""
    events = read_events(path)
    updated_by: dict[int, set[int]] = defaultdict(set)  # accumulator id -> stages whose tasks updated it
    own: dict[int, set[int]] = defaultdict(set)  # execution id -> the stages of its jobs
    final_plans = {}
    for e in events:
        if e["Event"] == "SparkListenerJobStart" and "spark.sql.execution.id" in (e.get("Properties") or {}):
            own[int(e["Properties"]["spark.sql.execution.id"])].update(e["Stage IDs"])
        elif e["Event"] == "SparkListenerStageCompleted":
            for acc in e["Stage Info"].get("Accumulables", []):
                if not acc.get("Name", "").startswith("internal."):
                    updated_by[acc["ID"]].add(e["Stage Info"]["Stage ID"])
        elif e["Event"].endswith(("SparkListenerSQLExecutionStart", "SparkListenerSQLAdaptiveExecutionUpdate")):
            final_plans[e["executionId"]] = e["sparkPlanInfo"]
    profile = load_profile(path)
    operators_of: dict[int, set[str]] = defaultdict(set)
    for execution_id, plan in final_plans.items():
        execution = next(x for x in profile.sql_executions if x.execution_id == execution_id)
        nodes = _preorder(plan)
        assert [n.name for n in execution.nodes] == [n["nodeName"].strip() for n in nodes]
        for node, profiled in zip(nodes, execution.nodes):
            stages = sorted({s for m in node["metrics"] for s in updated_by.get(m["accumulatorId"], ())
                             if execution_id not in own or s in own[execution_id]})
            assert profiled.stage_ids == stages, node["nodeName"]
            if not node["nodeName"].startswith(PLAN_WRAPPERS):
                for stage_id in stages:
                    operators_of[stage_id].add(node["nodeName"].strip())
    assert operators_of  # the log's SQL metrics do tie operators to stages
    for stage in profile.stages:
        assert set(stage.operators) == operators_of.get(stage.stage_id, set())
        assert (stage.sql_execution_id is not None) == bool(stage.operators)


def test_time_accounting_is_consistent():
    profile = load_profile(YARN_APP)
    assert profile.driver_time_ms + profile.executor_time_ms == profile.duration_ms
    assert 0 < profile.critical_path_ms <= profile.duration_ms
    assert profile.allocated_core_ms > profile.used_core_ms > 0
    # used core time: what every task attempt held, launch to finish (failed ones too), as the cost model counts it
    events = read_events(YARN_APP)
    held_ms = sum(e["Task Info"]["Finish Time"] - e["Task Info"]["Launch Time"] for e in events
                  if e["Event"] == "SparkListenerTaskEnd" and e["Task Info"]["Finish Time"])
    assert any(e["Event"] == "SparkListenerTaskEnd" and e["Task Info"]["Failed"] for e in events)
    assert profile.used_core_ms == held_ms
    lost_ms = sum(e["Task Info"]["Finish Time"] - e["Task Info"]["Launch Time"] for e in events
                  if e["Event"] == "SparkListenerTaskEnd" and e["Task Info"]["Finish Time"]
                  and (e["Task Info"]["Failed"] or e["Task Info"].get("Killed")))
    assert 0 < lost_ms < held_ms
    assert sum(sum(s.task_failure_time_ms.values()) for s in profile.stages) == lost_ms
    assert app_cost(profile, load_pricing()).used_core_hours * 3_600_000 == pytest.approx(held_ms)


def test_streaming_progress_summarizes_query_progress_events():
    log = FIXTURES / "NVIDIA__spark-rapids-tools" / "streaming_eventlog.zstd"
    progress = [e["progress"] for e in read_events(log) if e["Event"].endswith("QueryProgressEvent")]
    profile = load_profile(log)
    assert len(profile.streaming) == len({p["id"] for p in progress}) == 1
    query = profile.streaming[0]
    assert query.batches == len(progress)
    assert query.batch_duration_ms_max == max(p["durationMs"]["triggerExecution"] for p in progress)
    assert query.sources == [s["description"] for s in progress[0]["sources"]]
    assert query.sinks == [progress[0]["sink"]["description"]]
