"""Which joins a broadcast-threshold change would convert, read from the SQL plans of real logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.features import broadcast_shuffle_change, config_of, run_features
from models.plan_joins import join_conversions
from tools.eventlog import load_profile

MB = 1024**2


@pytest.fixture(scope="module")
def rapids(eventlog_fixtures: Path) -> Path:
    return eventlog_fixtures / "NVIDIA__spark-rapids-tools"


def _exchange_metrics(profile, name: str) -> set[float]:
    return {n.metrics[name] for e in profile.sql_executions for n in e.nodes if n.name == "Exchange" and name in n.metrics}


def test_shuffled_joins_report_their_smaller_side_and_shuffled_records(rapids: Path):
    profile = load_profile(rapids / "dsAndDf_eventlog.zstd")
    joins = join_conversions(profile)
    assert len(joins["smj_small_side_bytes"]) == len(joins["smj_shuffle_records"]) == 3  # three sort-merge joins
    assert set(joins["smj_small_side_bytes"]) <= _exchange_metrics(profile, "data size")
    assert joins["bhj_input_rows"] == 0.0
    # both sides' exchanges: at least the records of the larger single exchange, at most all shuffled records
    assert all(0 < r <= sum(_exchange_metrics(profile, "shuffle records written")) * 2 for r in joins["smj_shuffle_records"])


def test_broadcast_joins_report_the_rows_they_would_shuffle(rapids: Path):
    joins = join_conversions(load_profile(rapids / "join_agg_on_yarn_eventlog.zstd"))
    assert joins["smj_small_side_bytes"] == []
    assert joins["bhj_input_rows"] > 0


def test_threshold_changes_convert_joins_only_when_the_small_side_fits(rapids: Path):
    run = run_features(load_profile(rapids / "aqeshuffle_eventlog.zstd"))
    (small,) = run.smj_small_side_bytes
    below, above = small * 0.9, small * 1.1
    assert broadcast_shuffle_change(run, config_of(run).model_copy(update={"broadcast_threshold_bytes": below})) == 0.0
    removed = broadcast_shuffle_change(run, config_of(run).model_copy(update={"broadcast_threshold_bytes": above}))
    assert -1.0 <= removed < 0.0
    assert removed == pytest.approx(-run.smj_shuffle_records[0] / run.shuffle_records)
    # twice the data: the small side no longer fits under the same threshold
    doubled = config_of(run, scale_ratio=2.0).model_copy(update={"broadcast_threshold_bytes": above})
    assert broadcast_shuffle_change(run, doubled) == 0.0


def test_turning_broadcast_off_adds_the_broadcast_joins_inputs_to_the_shuffle(rapids: Path):
    run = run_features(load_profile(rapids / "join_agg_on_yarn_eventlog.zstd"))
    assert run.broadcast_threshold_bytes > 0
    off = config_of(run).model_copy(update={"broadcast_threshold_bytes": -1.0})
    added = broadcast_shuffle_change(run, off)
    assert 0.0 < added <= 1.0
    assert added == pytest.approx(run.bhj_input_rows / (run.shuffle_records + run.bhj_input_rows))
    assert broadcast_shuffle_change(run, config_of(run)) == 0.0  # no change, nothing moves


def test_a_join_aqe_split_skewed_partitions_of_is_still_a_shuffled_join(eventlog_fixtures: Path):
    """Spark names it 'SortMergeJoin(skew=true)'; its sides and the plan counts count it like any sort-merge join."""
    profile = load_profile(eventlog_fixtures.parent / "workloads" / "aqe_skew_split.zstd")
    assert [n.name for e in profile.sql_executions for n in e.nodes if "Join" in n.name] == ["SortMergeJoin(skew=true)"]
    joins = join_conversions(profile)
    assert len(joins["smj_small_side_bytes"]) == 1 and joins["smj_small_side_bytes"][0] in _exchange_metrics(profile, "data size")
    assert joins["smj_shuffle_records"][0] > 0
    assert run_features(profile).sort_merge_joins == 1
