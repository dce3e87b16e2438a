"""evals.workloads.runner: every run in one process starts from a clean configuration (only that run's options)."""

from __future__ import annotations

import pytest

from tools.eventlog import load_profile


def _count(spark) -> None:
    spark.range(100).selectExpr("id % 3 AS k").groupBy("k").count().collect()


@pytest.mark.slow
def test_two_runs_in_one_process_each_log_exactly_their_own_options(tmp_path):
    from evals.workloads.runner import run_workload

    first = {"spark.copilot.probe.first": "1", "spark.sql.shuffle.partitions": "3", "spark.sql.adaptive.enabled": "false"}
    second = {"spark.copilot.probe.second": "2"}
    props = [load_profile(run_workload(_count, tmp_path / name, f"runner-{name}", conf=conf)).spark_properties
             for name, conf in (("first", first), ("second", second))]
    assert props[0]["spark.copilot.probe.first"] == "1" and "spark.copilot.probe.second" not in props[0]
    assert props[1]["spark.copilot.probe.second"] == "2"
    assert "spark.copilot.probe.first" not in props[1]  # nothing left over from the first run
    assert props[1]["spark.sql.shuffle.partitions"] == "8"  # the base value again, not the first run's 3
    assert "spark.sql.adaptive.enabled" not in props[1]
    assert props[1]["spark.app.name"] == "runner-second"
