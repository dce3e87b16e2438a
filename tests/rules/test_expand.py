"""Aggregations that copy their input rows (an Expand): several DISTINCT aggregates, cube / rollup."""

from __future__ import annotations

import pytest

from tools.rules import RuleThresholds, diagnose
from tools.rules.expand import expanded_aggregates
from tools.rules.registry import RuleContext


def _expand_findings(profile, thresholds: RuleThresholds | None = None):
    return [f for f in diagnose(profile, thresholds) if f.rule_id == "aggregate_copies_rows"]


def test_distinct_counts_on_four_columns_copy_each_row_five_times(profile_of):
    """expanded_aggregates (real PySpark 4.3 log), SQL 0: count(DISTINCT) of four id columns and a sum per day over
    4M rows. The Expand emits 20M rows (one copy per distinct column, one for the sum); the partial aggregation keeps
    12.7M of them, so the shuffle and the next stage carry the copies too."""
    profile = profile_of("expanded_aggregates")
    distinct, cube = expanded_aggregates(RuleContext(profile, RuleThresholds()))
    assert (distinct.execution.execution_id, distinct.kind) == (0, "distinct")
    assert (distinct.rows_in, distinct.rows_out, distinct.copies) == (4_000_000, 20_000_000, 5)
    assert [s.stage_id for s in distinct.stages] == [0, 2]  # the Expand's stage and the one reading its shuffle
    first, second = _expand_findings(profile)
    assert first.sql_execution_ids == [0] and first.stage_ids == [0, 2]
    facts = {e.name: e.value for e in first.evidence}
    assert facts["rows the partial aggregation kept"] == 12_720_360
    assert facts["disk bytes spilled by those stages"] == sum(profile.stage(i).metrics.disk_bytes_spilled.sum for i in (0, 2))
    task_ms = sum(profile.stage(i).metrics.executor_run_time_ms.sum for i in (0, 2))
    assert facts["task time of the stages handling the copies"] == task_ms
    assert first.estimated_savings.core_ms == pytest.approx(task_ms * (1 - 1 / 5))
    assert first.title == "SQL 0 (save): DISTINCT aggregates on several columns copied each of 4,000,000 input rows 5 times"
    assert first.severity.value == "moderate"  # its stages took 62% of the run
    rec = first.recommendation
    assert not rec.config_changes and "approx_count_distinct(col, rsd)" in rec.code_change
    assert ".distinct().groupBy(keys...).count()" in rec.code_change and "cube" not in rec.code_change


def test_a_cube_over_four_dimensions_copies_each_row_sixteen_times(profile_of):
    """SQL 1: cube(day, region, product, channel) over 8M rows: 16 grouping sets, 128M rows out of the Expand; the
    partial aggregation reduces them to 9,512, so the stage reading its shuffle (8) has little left to do."""
    profile = profile_of("expanded_aggregates")
    cube = expanded_aggregates(RuleContext(profile, RuleThresholds()))[1]
    assert (cube.execution.execution_id, cube.kind, cube.copies) == (1, "grouping sets", 16)
    [_, finding] = _expand_findings(profile)
    assert finding.title == "SQL 1 (save): grouping sets (cube, rollup) copied each of 8,000,000 input rows 16 times"
    assert finding.severity.value == "low"  # 13% of the run
    assert "groupBy(dims...).agg(sum(x), count(*))" in finding.recommendation.code_change
    assert "GROUPING SETS ((a, b), (a), ())" in finding.recommendation.code_change


def test_an_unpivot_copies_rows_as_asked_and_is_not_reported(profile_of):
    """SQL 2 unpivots two columns of 200k rows and sums per shop and measure: an Expand emitting 400k rows under an
    aggregation, but the aggregation groups by no copy id (gid, spark_grouping_id): the copies are the answer."""
    profile = profile_of("expanded_aggregates")
    unpivot = profile.sql_executions[2]
    [expand] = [n for n in unpivot.nodes if n.name == "Expand"]
    assert expand.metrics["number of output rows"] == 400_000
    found = expanded_aggregates(RuleContext(profile, RuleThresholds()))
    assert [f.execution.execution_id for f in found] == [0, 1]
    assert not any(2 in f.sql_execution_ids for f in _expand_findings(profile, RuleThresholds(expand_min_task_ms=0)))


def test_the_floor_is_task_time_and_plans_without_an_expand_find_nothing(profile_of):
    profile = profile_of("expanded_aggregates")
    assert len(_expand_findings(profile, RuleThresholds(expand_min_task_ms=10_000))) == 1  # the cube: 7.9 s
    for name in ("healthy", "sorted_aggregate", "exploding_join"):
        assert not expanded_aggregates(RuleContext(profile_of(name), RuleThresholds()))


def test_the_spill_of_the_copies_points_at_them(profile_of):
    """Stages 0 and 2 spill while aggregating the 20M copies: their spill findings name the copies before the
    partition and memory settings."""
    spills = [f for f in diagnose(profile_of("expanded_aggregates")) if f.rule_id == "stage_spill"]
    assert [f.stage_ids for f in spills] == [[0], [2]]
    for finding in spills:
        assert finding.recommendation.summary.startswith(
            "This stage aggregates rows an Expand copied 5 times (DISTINCT aggregates on several columns, SQL 0)")
    others = [f for f in diagnose(profile_of("spilling_sort")) if f.rule_id == "stage_spill"]
    assert others and not any("Expand" in f.recommendation.summary for f in others)


def test_the_copy_id_is_spark_s_own_column_not_a_user_column_ending_in_gid():
    from tools.eventlog.model import PlanNode, SqlExecution
    from tools.rules.expand import copy_kind

    def kind(aggregate: str) -> str | None:
        execution = SqlExecution(execution_id=0, physical_plan="")
        return copy_kind(execution, PlanNode(name="Expand", description="Expand [[a#1, 0], [b#2, 1]]"),
                         PlanNode(name="HashAggregate", description=aggregate))

    assert kind("HashAggregate(keys=[day#1L, user_id#26L, gid#23], functions=[])") == "distinct"
    assert kind("HashAggregate(keys=[day#86L, spark_grouping_id#85L], functions=[])") == "grouping sets"
    assert kind("HashAggregate(keys=[shop#96L, user_gid#99], functions=[sum(value#100L)])") is None
