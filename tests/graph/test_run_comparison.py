"""Two runs side by side (`tools.compare`, the chat's 'compare the two runs'), on logs written by real Spark."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES_DIR
from graph.config import GraphConfig
from graph.intents import answer_offline
from graph.tools import Toolbox
from graph.comparison import comparison_text
from tools.compare import StageSummary, compare_profiles, pair_stages, setting_changes
from tools.eventlog import load_profile

WORKLOADS = FIXTURES_DIR / "workloads"


def test_settings_that_differ_leave_out_ids_names_ports_and_log_paths() -> None:
    before = {"spark.app.id": "local-1", "spark.app.name": "a", "spark.driver.port": "4040", "spark.eventLog.dir": "/tmp/x",
              "spark.sql.shuffle.partitions": "200", "spark.executor.memory": "4g", "spark.serializer": "kryo"}
    after = {"spark.app.id": "local-2", "spark.app.name": "b", "spark.driver.port": "4041", "spark.eventLog.dir": "/tmp/y",
             "spark.sql.shuffle.partitions": "16", "spark.serializer": "kryo", "spark.sql.adaptive.enabled": "true",
             "spark.sql.session.timeZone": "UTC"}
    assert [(c.key, c.before, c.after) for c in setting_changes(before, after)] == [
        ("spark.executor.memory", "4g", None), ("spark.sql.adaptive.enabled", None, "true"),
        ("spark.sql.session.timeZone", None, "UTC"), ("spark.sql.shuffle.partitions", "200", "16")]


def test_run_totals_are_the_stages_sums_and_stages_pair_by_name() -> None:
    before, after = load_profile(str(WORKLOADS / "healthy.zstd")), load_profile(str(WORKLOADS / "skewed_join.zstd"))
    c = compare_profiles(before, after)
    totals = {t.metric: t for t in c.totals}
    ran = [s for s in after.stages if s.status != "skipped"]
    assert totals["shuffle_read_bytes"].after == sum(s.metrics.shuffle_read_bytes.sum for s in ran if s.metrics.shuffle_read_bytes)
    assert totals["num_tasks"].before == sum(s.num_tasks for s in before.stages if s.status != "skipped")
    assert c.duration_ratio == pytest.approx(after.duration_ms / before.duration_ms)
    # paired by what ran in them, whatever the SQL execution's number (9 in the healthy run, 0 here): the final
    # aggregation is stage 3 there and 8 after the skewed join's extra stages, the range alone 0 there and 1 here;
    # the rest by Spark's name for them (the AQE thread's call site), in run order
    assert [(d.baseline_stage_id if d.baseline_stage_id is not None else d.stage_id, d.stage_id, d.name)
            for d in c.stages] == [(1, 0, "SQL 0: Range, Filter"), (0, 1, "SQL 0: Range"), (3, 8, "SQL 0: HashAggregate")]
    assert (c.stages_only_before, c.stages_only_after) == ([], [4])
    assert "  stage 8 (stage 3 in the baseline; SQL 0: HashAggregate) +1.4 s" in comparison_text(c)


def _summary(stage_id: int, name: str, status: str = "complete") -> StageSummary:
    return StageSummary(stage_id=stage_id, name=name, status=status, duration_ms=1000)


def _pairs(before: list[StageSummary], after: list[StageSummary]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    pairs, only_before, only_after = pair_stages(before, after)
    return [(a.stage_id, b.stage_id) for a, b in pairs], only_before, only_after


def test_stages_pair_by_name_in_run_order_not_by_id() -> None:
    job = ["load at Job.scala:10", "load at Job.scala:10", "join at Job.scala:20", "write at Job.scala:30"]
    before = [_summary(i, name) for i, name in enumerate(job)]
    # a job added in front shifts every id by one; its stage pairs with nothing
    after = [_summary(0, "count at Job.scala:5")] + [_summary(i + 1, name) for i, name in enumerate(job)]
    assert _pairs(before, after) == ([(0, 1), (1, 2), (2, 3), (3, 4)], [], [0])
    # an edit above the call sites moves their line numbers: still the same stages
    moved = [_summary(i, name.replace(":10", ":12").replace(":20", ":22")) for i, name in enumerate(job)]
    assert _pairs(before, moved) == ([(0, 0), (1, 1), (2, 2), (3, 3)], [], [])
    # different code with the same ids: nothing to compare, every stage is in one run only
    other = [_summary(i, f"collect at Other.scala:{i}") for i in range(4)]
    assert _pairs(before, other) == ([], [0, 1, 2, 3], [0, 1, 2, 3])
    # skipped stages did not run; a retried stage's last attempt is the one compared
    retried = [*before, StageSummary(stage_id=2, attempt_id=1, name=job[2], duration_ms=5000)]
    skipped = [_summary(0, job[0], "skipped"), *before[1:]]  # its first stage's output was reused
    pairs, only_before, only_after = pair_stages(retried, skipped)
    assert [(a.stage_id, a.attempt_id, b.stage_id) for a, b in pairs] == [(0, 0, 1), (2, 1, 2), (3, 0, 3)]
    assert (only_before, only_after) == ([1], [])


def test_stages_pair_by_what_ran_in_them_before_their_name() -> None:
    """Spark names every stage AQE submits after the same thread: what ran in it tells them apart."""
    thread = "$anonfun$withThreadLocalCaptured$1 at CompletableFuture.java:1768"
    before = [StageSummary(stage_id=i, name=thread, what_ran=f"SQL 2: {ops}")
              for i, ops in enumerate(["Scan parquet, Filter", "Range", "SortMergeJoin, HashAggregate", "HashAggregate"])]
    # broadcast on: the range is no longer shuffled (no stage), the join runs in the scan's stage, numbered SQL 5
    after = [StageSummary(stage_id=i, name=thread, what_ran=f"SQL 5: {ops}")
             for i, ops in enumerate(["Scan parquet, Filter, BroadcastHashJoin, HashAggregate", "HashAggregate"])]
    assert _pairs(before, after) == ([(0, 0), (3, 1)], [1, 2], [])  # the final aggregation by its operators, the scan by name
    stored = [s.model_copy(update={"what_ran": None}) for s in before]  # stored by an older copilot: by name
    assert _pairs(stored, after) == ([(0, 0), (1, 1)], [2, 3], [])


def test_with_one_log_loaded_the_chat_says_what_to_load() -> None:
    toolbox = Toolbox(load_profile(str(WORKLOADS / "healthy.zstd")), GraphConfig())
    assert answer_offline("compare the two runs", toolbox) == (
        "I cannot answer that from this log: only one application is loaded; load the run to compare with "
        "(/load PATH) and the earlier one is the baseline.")


def _aggregation(spark, rows: int) -> None:
    from pyspark.sql import functions as F

    spark.range(rows, numPartitions=4).groupBy((F.col("id") % 1000).alias("k")).agg(F.sum("id")).collect()


@pytest.fixture(scope="module")
def same_job_two_settings(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same aggregation run twice by local Spark: 4 shuffle partitions, then 40 (AQE off, so the count holds)."""
    from evals.workloads.runner import run_workload

    root = tmp_path_factory.mktemp("compare_runs")
    return tuple(run_workload(_aggregation, root / str(n), f"agg-{n}", rows=200_000,
                              conf={"spark.sql.shuffle.partitions": str(n), "spark.sql.adaptive.enabled": "false"})
                 for n in (4, 40))


def _count_then_aggregation(spark, rows: int) -> None:
    spark.range(1000, numPartitions=2).count()
    _aggregation(spark, rows)


@pytest.mark.slow
def test_a_job_added_in_front_does_not_shift_the_pairing(same_job_two_settings, tmp_path) -> None:
    """Real Spark: the same aggregation after an extra count job has every stage id moved; the comparison still
    pairs the aggregation's stages and names the count job's as new."""
    from evals.workloads.runner import run_workload

    shifted = run_workload(_count_then_aggregation, tmp_path, "agg-4", rows=200_000,
                           conf={"spark.sql.shuffle.partitions": "4", "spark.sql.adaptive.enabled": "false"})
    before, after = load_profile(str(same_job_two_settings[0])), load_profile(str(shifted))
    c = compare_profiles(before, after)
    ran_before = [s for s in before.stages if s.status != "skipped"]
    count_stages = [s.stage_id for s in after.stages if s.name.startswith("count at ")]
    assert count_stages and c.stages_only_after == count_stages and c.stages_only_before == []
    assert sorted(d.baseline_stage_id for d in c.stages) == [s.stage_id for s in ran_before]
    assert all(d.stage_id == d.baseline_stage_id + len(count_stages) for d in c.stages)
    assert c.settings == []


@pytest.mark.slow
def test_the_chat_compares_the_last_log_with_the_one_before(same_job_two_settings, copilot_home) -> None:
    from graph.chat import open_chat

    first, second = map(str, same_job_two_settings)
    agent = open_chat()
    thread = agent.new_thread_id()
    agent.load(thread, first)
    agent.load(thread, second)
    answer = "".join(agent.ask(thread, "why is this run slower than the previous one?"))
    agent.close()
    before, after = load_profile(first), load_profile(second)
    assert answer.startswith(f"agg-40 ({after.app_id}) took ") and f"for agg-4 ({before.app_id}, the baseline)" in answer
    assert "Settings that differ:\n  spark.sql.shuffle.partitions 4 -> 40\n" in answer  # the only setting that differs
    assert "tasks 8 -> 44 (5.5x)" in answer  # 4 map tasks, then 4 or 40 reduce tasks
    assert "Stages in one run only" not in answer  # the same code: the same stages
    reduce_stage = next(s for s in after.stages if s.num_tasks == 40)
    assert f"  stage {reduce_stage.stage_id} " in answer.split("Stages that changed most:\n")[1]


@pytest.mark.slow
def test_copilot_compare_takes_the_two_logs_on_the_command_line(same_job_two_settings) -> None:
    import json
    import subprocess
    import sys

    from typer.testing import CliRunner

    from copilot.cli import app

    first, second = map(str, same_job_two_settings)
    result = CliRunner().invoke(app, ["compare", first, second, "--json"])
    assert result.exit_code == 0, result.output
    c = json.loads(result.output)
    assert [(s["key"], s["before"], s["after"]) for s in c["settings"]] == [("spark.sql.shuffle.partitions", "4", "40")]
    assert c["duration_ratio"] == pytest.approx(load_profile(second).duration_ms / load_profile(first).duration_ms)
    people = CliRunner().invoke(app, ["compare", first, second])
    assert people.exit_code == 0 and "Settings that differ:\n  spark.sql.shuffle.partitions 4 -> 40\n" in people.output
    missing = subprocess.run([sys.executable, "-m", "copilot.cli", "compare", first, "/no/such/log"],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and missing.stderr.strip() == "copilot: error: no such file or directory: /no/such/log"


def test_findings_that_fire_on_one_run_only_are_named_once_per_rule() -> None:
    from tools.rules import diagnose

    before, after = load_profile(str(WORKLOADS / "healthy.zstd")), load_profile(str(WORKLOADS / "skewed_join.zstd"))
    c = compare_profiles(before, after, diagnose(before), diagnose(after))
    rules_before, rules_after = {f.rule_id for f in diagnose(before)}, {f.rule_id for f in diagnose(after)}
    assert [f.rule_id for f in c.findings_new] == sorted(rules_after - rules_before, key=[f.rule_id for f in diagnose(after)].index)
    assert {f.rule_id for f in c.findings_gone} == rules_before - rules_after


def test_with_two_runs_loaded_slower_or_faster_asks_for_the_comparison() -> None:
    """'why is this run slower?' (no 'than the previous one') got the findings of the last run alone, although two
    runs were loaded; a hypothetical ('would it be faster with 4 cores?') stays a what-if."""
    healthy, skewed = load_profile(str(WORKLOADS / "healthy.zstd")), load_profile(str(WORKLOADS / "skewed_join.zstd"))
    toolbox = Toolbox(skewed, GraphConfig(), baseline=healthy)
    for question in ("why is this run slower?", "did it get slower?"):
        answer = answer_offline(question, toolbox)
        assert answer.startswith(f"problem=skewed_join ({skewed.app_id}) took 99.9 s against 5.9 s for problem=healthy")
    assert answer_offline("would it be faster with 4 cores?", toolbox).startswith("With 4 cores the simulator predicts")
    alone = answer_offline("why is this run slower?", Toolbox(skewed, GraphConfig()))
    assert alone.startswith("1. [severe] Stage 4: longest task 38.8 s")  # one run: its findings
