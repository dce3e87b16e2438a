"""Absent metrics mean "not evaluated": old logs and stripped profiles never produce metric-based findings."""

from __future__ import annotations

import pytest

from tests.rules.conftest import load
from tools.eventlog.model import TaskMetricDistributions
from tools.rules import diagnose

SPARK_1X_LOGS = [
    "apache__spark/spark-events/local-1422981759269",
    "apache__spark/spark-events/local-1422981780767",
    "apache__spark/spark-events/local-1425081759269",
    "apache__spark/spark-events/local-1426533911241",
    "apache__spark/spark-events/local-1426633911242",
    "apache__spark/spark-events/local-1430917381534",
    "apache__spark/spark-events/local-1430917381535_1",
    "apache__spark/spark-events/local-1430917381535_2",
    "linkedin__dr-elephant/event_log_1",
]
# categories that need per-task or per-executor metrics which Spark 1.x logs lack or report partially
METRIC_CATEGORIES = {
    "skew", "spill", "gc_pressure", "too_few_partitions", "too_many_small_tasks", "oversized_partitions",
    "memory_overprovisioned", "memory_underprovisioned", "shuffle_heavy", "speculation", "small_files",
    "broadcast_join_opportunity", "cartesian_join", "python_udf", "aqe_disabled",
}
# rules that read only the scheduler's record (failures, properties, timings), not task metrics
NON_METRIC_RULES = {
    "task_failures", "stage_failures", "job_failures", "executor_loss", "dynamic_allocation_settings",
    "config_hygiene", "aqe_disabled", "aqe_skew_join_off", "aqe_coalesce_off", "driver_bound", "idle_executors",
}


@pytest.mark.parametrize("log", SPARK_1X_LOGS)
def test_spark_1x_logs_raise_no_metric_based_finding(log):
    categories = {f.category for f in diagnose(load(log))}
    assert not categories & METRIC_CATEGORIES


@pytest.mark.parametrize("log", ["spilling_sort", "skewed_join", "apache__spark/spark-events/application_1538416563558_0014"])
def test_profile_stripped_of_metrics_yields_only_scheduler_findings(log):
    profile = load(log).model_copy(deep=True)
    for stage in profile.stages:
        stage.metrics = TaskMetricDistributions()
        stage.duration_sample_ms = []
    for executor in profile.executors:
        executor.peak_jvm_heap_bytes = None
        executor.disk_bytes_spilled = 0.0
    for execution in profile.sql_executions:
        execution.nodes = []
    profile.used_core_ms = profile.allocated_core_ms = None
    rules = {f.rule_id for f in diagnose(profile)}
    assert rules <= NON_METRIC_RULES


def test_findings_on_every_stored_log_are_strict_json():
    import json

    from tests.rules.conftest import WORKLOAD_LOGS, public_logs
    from tools.eventlog import load_profile

    logs = public_logs() + sorted(WORKLOAD_LOGS.glob("*.zstd"))
    assert len(logs) >= 40
    for path in logs:
        for finding in diagnose(load_profile(str(path))):
            json.dumps(finding.model_dump(mode="json"), allow_nan=False)  # no NaN / Infinity anywhere
