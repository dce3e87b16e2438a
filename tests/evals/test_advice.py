"""The advice check: a finding's config lines applied to its real PySpark workload change what the finding measured."""

from __future__ import annotations

import pytest

from evals.advice import applied, check_workload
from tools.findings import ConfigChange


def test_applied_sets_values_and_unsets_keys() -> None:
    conf = {"spark.shuffle.memoryFraction": "0.4", "spark.sql.shuffle.partitions": "8"}
    out = applied(conf, [ConfigChange(key="spark.shuffle.memoryFraction", value="unset", current="0.4"),
                         ConfigChange(key="spark.sql.shuffle.partitions", value="32", current="8")])
    assert out == {"spark.sql.shuffle.partitions": "32"}
    assert conf["spark.sql.shuffle.partitions"] == "8"  # the input is left as it was


@pytest.mark.slow
def test_skewed_join_advice_splits_the_hot_partition_and_broadcast_removes_the_join_stage() -> None:
    results = {r.rule_id: r for r in check_workload("skewed_join", repeat=1)}
    skew = results["stage_task_skew"]
    [stage] = skew.stages
    assert skew.checked and stage.stage_id == 4
    assert stage.tasks_after > stage.tasks_before  # AQE split the hot partition
    # the hot task reads a share of the rows it read before (counted, so a busy machine cannot blur it) ...
    assert stage.largest_task_records_after < 0.6 * stage.largest_task_records_before
    assert stage.longest_task_s_after < stage.longest_task_s_before  # ... and runs shorter
    broadcast = results["broadcast_join_missed"]
    assert broadcast.fires_before == 1 and broadcast.fires_after == 0 and broadcast.resolved
    assert broadcast.run_s_after < broadcast.run_s_before
    # the report's predicted effect sits next to the measurement (the runtime model covers the threshold)
    assert broadcast.predicted_by.startswith("runtime model") and broadcast.predicted_s_after > 0
