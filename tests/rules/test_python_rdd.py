"""A DataFrame's rows handed to Python RDD code (df.rdd.map, df.rdd.isEmpty())."""

from __future__ import annotations

import pytest

from tools.rules import RuleThresholds, diagnose
from tools.rules.python_rdd import dataframe_python_stages
from tools.rules.registry import RuleContext


def _rdd_findings(profile, thresholds: RuleThresholds | None = None):
    return [f for f in diagnose(profile, thresholds) if f.rule_id == "dataframe_rows_through_python_rdd"]


def test_a_dataframe_mapped_through_a_python_lambda_is_found_with_its_side_jobs(profile_of):
    """dataframe_through_rdd (real PySpark 4.3 log): df.rdd.isEmpty() (stage 0), toDF() sampling rows for the types
    (stage 1), and the df.rdd.map taxing 2M rows before the aggregation (stage 2, SQL 0, where the plan reads the
    Python output as `Scan ExistingRDD`). Stage 4, the aggregation after the shuffle, runs no Python."""
    profile = profile_of("dataframe_through_rdd")
    stages = dataframe_python_stages(RuleContext(profile, RuleThresholds()))
    assert [s.stage_id for s in stages] == [0, 1, 2]
    assert [s.name for s in stages[:2]] == ["runJob at PythonRDD.scala:218"] * 2
    assert "Scan ExistingRDD" in profile.stage(2).operators
    [finding] = _rdd_findings(profile)
    assert (finding.stage_ids, finding.sql_execution_ids) == ([0, 1, 2], [0])
    task_ms = sum(s.metrics.executor_run_time_ms.sum for s in stages)
    facts = {e.name: e.value for e in finding.evidence}
    assert facts["task time of those stages"] == task_ms
    assert finding.estimated_savings.core_ms == pytest.approx(task_ms * 0.7)
    assert finding.severity.value == "moderate"  # 64% of the run
    rec = finding.recommendation
    assert not rec.config_changes
    assert "stage 2 (SQL 0, 7.3 s)" in rec.summary and "stage 0 (runJob at PythonRDD.scala:218" in rec.summary
    assert "df.mapInPandas" in rec.code_change and "df.isEmpty()" in rec.code_change


def test_pure_python_rdd_programs_and_dataframes_without_rdd_code_are_not_reported(profile_of):
    """lost_shuffle_files and retried_tasks run Python RDD code on parallelized Python data (PythonRDD without a
    DataFrame under it); python_row_udf sends rows to Python through a UDF (another rule's)."""
    for name in ("lost_shuffle_files", "retried_tasks", "python_row_udf", "healthy"):
        profile = profile_of(name)
        assert not dataframe_python_stages(RuleContext(profile, RuleThresholds()))
    assert any("PythonRDD" in s.rdd_names for s in profile_of("lost_shuffle_files").stages)


def test_the_floor_is_task_time(profile_of):
    profile = profile_of("dataframe_through_rdd")
    assert not _rdd_findings(profile, RuleThresholds(python_rdd_min_task_ms=20_000))  # 16.4 s
