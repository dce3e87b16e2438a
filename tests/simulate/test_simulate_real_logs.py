"""The simulator on real public event logs: it knows its own error on the observed configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.eventlog import load_profile
from tools.simulate import simulate, what_if_curve

# (path under tests/fixtures/eventlogs, layout the log implies)
LOGS = [
    ("apache__spark/spark-events/application_1536831636016_59384_1", "executor events"),  # YARN, 2 x 4
    ("apache__spark/spark-events/app-20161115172038-0000", "executor events"),  # standalone, 4 x 4
    ("apache__spark/spark-events/application_1538416563558_0014", "executor events"),  # dynamic allocation
    ("apache__spark/spark-events/local-1430917381534", "inferred from task concurrency"),  # local[*], Spark 1.x: no driver cores
    ("NVIDIA__spark-rapids-tools/python_udf_eventlog", "master local[1]"),
    ("NVIDIA__spark-rapids-tools/eventlog_v2_local-1623876083964", "master local[*], driver executor cores"),  # rolling
    ("NVIDIA__spark-rapids-tools/join_agg_on_yarn_eventlog.zstd", "executor events"),
    ("linkedin__dr-elephant/event_log_1", "executor events"),
    ("qubole__sparklens/local-1532512550423", "master local[*], driver executor cores"),  # 4 cores, 3 ever busy at once
]
MAX_ERROR_PCT = 25.0


@pytest.fixture(scope="module", params=LOGS, ids=[Path(p).name for p, _ in LOGS])
def case(request, eventlog_fixtures: Path):
    relative, source = request.param
    return load_profile(eventlog_fixtures / relative), source


def test_reported_error_is_the_measured_error_and_small(case):
    profile, _ = case
    curve = what_if_curve(profile)
    measured = (curve.observed.estimated_duration_ms - profile.duration_ms) / profile.duration_ms * 100
    assert curve.error_pct == pytest.approx(measured)
    assert abs(curve.error_pct) <= MAX_ERROR_PCT, f"{profile.app_id}: simulator off by {curve.error_pct:.1f}%"


def test_observed_point_of_the_curve_is_the_observed_runtime(case):
    profile, source = case
    curve = what_if_curve(profile)
    assert curve.resources_source == source
    at_one = [p for p in curve.points if p.factor == pytest.approx(1.0)]
    assert at_one and at_one[0].estimated_duration_ms == pytest.approx(profile.duration_ms)


def test_four_times_the_slots_is_never_slower_than_a_quarter(case):
    profile, _ = case
    curve = what_if_curve(profile)
    assert curve.points[-1].estimated_duration_ms <= curve.points[0].estimated_duration_ms
    assert all(p.estimated_duration_ms >= curve.lower_bound_ms - 1e-6 for p in curve.points)
    assert all(0.0 <= p.utilization <= 1.0 for p in curve.points)


def test_estimate_is_never_below_the_critical_path(case):
    profile, _ = case
    result = simulate(profile)
    assert result.estimated_duration_ms >= result.critical_path_ms - 1e-6
    assert result.tasks_simulated > 0


def test_an_inferred_layout_is_named_in_the_caveats(eventlog_fixtures: Path):
    """Spark 1.3, local[*], no executor cores in the log: its 8 tasks never overlapped, so one slot is inferred."""
    profile = load_profile(eventlog_fixtures / "apache__spark/spark-events/local-1426533911241")
    curve = what_if_curve(profile)
    assert curve.resources_source == "inferred from task concurrency"
    assert "executor layout not in the log; inferred 1 task slot from observed task concurrency" in curve.caveats


def test_a_streaming_application_has_no_runtime_to_predict(eventlog_fixtures: Path):
    """A stream runs until stopped: the executor curve (and `predict_runtime`, which starts from it) refuse with
    one clear reason instead of a runtime that more executors would 'shorten'."""
    from models import predict_runtime
    from tools.errors import ModelError

    profile = load_profile(str(eventlog_fixtures.parent / "workloads" / "stopped_stream.zstd"))
    with pytest.raises(ModelError, match="is a streaming application: it runs until it is stopped"):
        what_if_curve(profile)
    with pytest.raises(ModelError, match="streaming application"):
        predict_runtime(profile, {"spark.sql.shuffle.partitions": "4"})
    batch = profile.model_copy(update={"streaming": []})  # the same jobs without the queries' progress
    assert what_if_curve(batch).points


def test_one_executor_on_a_cluster_varies_executors_and_local_mode_varies_cores(eventlog_fixtures: Path):
    """A standalone run with one 16-core executor can get more executors; a local[*] run has one JVM, whose cores
    the curve varies instead (the reports title such a curve 'local mode, one JVM')."""
    cluster = what_if_curve(load_profile(eventlog_fixtures / "NVIDIA__spark-rapids-tools/jdbc_eventlog.zstd"))
    assert (cluster.observed_executors, cluster.observed_cores) == (1, 16)
    assert [(p.executors, p.cores) for p in cluster.points] == [(1, 16), (2, 16), (3, 16), (4, 16)]
    local = what_if_curve(load_profile(eventlog_fixtures / "qubole__sparklens/local-1532512550423"))
    assert {p.executors for p in local.points} == {1} and [p.cores for p in local.points][:2] == [1, 2]
