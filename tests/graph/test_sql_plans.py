"""One SQL execution as the chat and the LLM's `sql_plan` tool show it, on real logs written by local Spark."""

from __future__ import annotations

import json

from tests.conftest import FIXTURES_DIR
from graph.config import GraphConfig
from graph.sql_plans import plan_lines, query_executions, sql_plan
from graph.tools import Toolbox
from tools.eventlog import load_profile
from tools.eventlog.model import PLAN_WRAPPERS

SKEWED_JOIN = FIXTURES_DIR / "workloads" / "skewed_join.zstd"
LAGGING_STREAM = FIXTURES_DIR / "workloads" / "lagging_stream.zstd"


def test_a_sql_execution_shows_its_working_operators_in_tree_order_with_their_figures() -> None:
    profile = load_profile(str(SKEWED_JOIN))
    plan = sql_plan(profile, 0)
    names = [op.name for op in plan.operators]
    assert not [n for n in names if n.startswith(PLAN_WRAPPERS)]  # AQE / codegen / query-stage wrappers folded away
    join = next(op for op in plan.operators if op.name == "SortMergeJoin")
    final_aggregate = next(op for op in plan.operators if op.name == "HashAggregate")
    sorts = [op for op in plan.operators if op.name == "Sort"]
    assert final_aggregate.depth < join.depth and all(s.depth == join.depth + 1 for s in sorts)  # both join sides
    assert join.metrics["number of output rows"] == 48_600_000
    lines = plan_lines(plan)
    assert lines[names.index("SortMergeJoin")] == "  " * join.depth + "SortMergeJoin [k], [k], Inner: 48,600,000 rows [stage 4]"
    # no expression ids ('k#1L') or plan ids ('[plan_id=78]') in the descriptions
    exchanges = [line for line in lines if line.lstrip().startswith("Exchange hashpartitioning(k, 16), ENSURE_REQUIREMENTS:")]
    # written by the stage that ran the range, read by the join's stage
    assert exchanges and exchanges[0].endswith("3,000,000 records written, data size 68.7 MiB, 16 partitions [stages 0, 4]")


def test_its_stages_are_those_of_its_jobs() -> None:
    profile = load_profile(str(SKEWED_JOIN))
    plan = sql_plan(profile, 0)
    jobs = set(profile.sql_executions[0].job_ids)
    assert plan.job_ids == [0, 1, 2, 3]
    assert plan.stage_ids == sorted({s.stage_id for s in profile.stages if jobs & set(s.job_ids)})


def test_the_plan_text_is_the_final_plan_tree_spark_printed() -> None:
    plan = sql_plan(load_profile(str(SKEWED_JOIN)), 0)
    assert plan.plan_text.startswith("== Physical Plan ==\nOverwriteByExpression noop-table")
    assert "== Final Plan ==" in plan.plan_text and "+- * SortMergeJoin Inner (12)" in plan.plan_text
    assert "Initial Plan" not in plan.plan_text  # AQE's starting plan did not run
    assert "(1) Range" not in plan.plan_text  # the per-operator details after the tree are left out


def test_job_less_parent_executions_are_not_listed_as_queries() -> None:
    """Spark 3.4+ logs a streaming micro-batch's write as a job-less execution whose plan mirrors the nested one."""
    profile = load_profile(str(LAGGING_STREAM))
    listed = query_executions(profile)
    assert len(profile.sql_executions) == 14
    assert [x.execution_id for x in sorted(listed, key=lambda x: x.execution_id)] == [1, 3, 5, 7, 9, 11, 13]
    assert [x.duration_ms for x in listed] == sorted((x.duration_ms for x in listed), reverse=True)


def test_the_sql_plan_tool_answers_json_and_an_unknown_execution_is_an_error() -> None:
    toolbox = Toolbox(load_profile(str(SKEWED_JOIN)), GraphConfig())
    result = json.loads(toolbox.call("sql_plan", {"execution_id": 0}))
    assert result["execution_id"] == 0 and result["stage_ids"][0] == 0
    assert {"name": "SortMergeJoin", "depth": 5, "detail": "SortMergeJoin [k], [k], Inner",
            "metrics": {"number of output rows": 48600000.0}, "stage_ids": [4]} in result["operators"]
    assert json.loads(toolbox.call("sql_plan", {"execution_id": 9})) == {
        "error": "SQL execution 9 is not in this application (it has SQL execution 0)"}
    assert [q.execution_id for q in toolbox.sql_executions()] == [0]


def test_a_stage_lists_the_operators_that_ran_only_in_it_with_their_figures() -> None:
    """Stage 4 of the skewed join sorts both sides, joins and pre-aggregates: the aggregation's build time is where
    its 50.8 s went (48.6M joined rows), which 'why is stage 4 slow?' now says."""
    from graph.intents import answer_offline
    from graph.sql_plans import operator_figures, stage_operators

    profile = load_profile(str(SKEWED_JOIN))
    ran = stage_operators(profile, 4)
    assert [op.name for op in ran] == ["Sort", "Sort", "SortMergeJoin", "HashAggregate"]  # leaves first; no exchange
    assert ran[-1].metrics["time in aggregation build"] == 49_489  # ms
    assert operator_figures(ran[2:]) == ("SortMergeJoin: 48,600,000 rows; HashAggregate: 592 rows, peak memory 4.0 MiB, "
                                         "time in aggregation build 49.5 s")
    assert stage_operators(profile, 2) == []  # skipped: nothing ran
    answer = answer_offline("why is stage 4 slow?", Toolbox(profile, GraphConfig())).splitlines()
    assert answer[0].endswith(f"GC 1.4 s of 60.7 s task time. Its operators: {operator_figures(ran)}.")


def test_a_skipped_stage_is_said_to_have_run_nothing() -> None:
    """'what did stage 2 do?' read 'Stage 2 ($anonfun$withThreadLocalCaptured$1 at CompletableFuture.java:1768) ran
    n/a with 2 tasks.': a stage AQE's later job skipped ran no task, and Spark's name for it says nothing."""
    from graph.intents import answer_offline

    profile = load_profile(str(SKEWED_JOIN))
    assert profile.stage(2).status == "skipped"
    answer = answer_offline("what did stage 2 do?", Toolbox(profile, GraphConfig()))
    assert answer.startswith("Stage 2 was skipped: its output was already there") and "anonfun" not in answer
