"""A job run by real local Spark twice on small data and once on 40x the data: the trend flags and explains it."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from copilot.batch import run_batch
from copilot.cli import app
from copilot.settings import get_settings
from copilot.store import Store
from copilot.store.history import compare_applications, job_trend

from batch_fleet import JOB_NAME

pytestmark = pytest.mark.slow


@pytest.fixture
def job_store(spark_logs, tmp_path) -> Store:
    folder = tmp_path / "logs"
    folder.mkdir()
    for log in spark_logs.values():
        shutil.copy(log, folder / log.name)
    store = Store(get_settings().store_path)
    summary = run_batch(str(folder), store, workers=2)
    assert summary.analyzed == 3, summary.failures
    return store


def test_the_run_on_more_data_is_flagged_as_a_regression_with_the_stages_that_grew(job_store, spark_logs):
    trend = job_trend(job_store, JOB_NAME, threshold=0.4)
    assert len(trend.runs) == 3
    small_1, small_2, large = trend.runs  # oldest first
    assert [r.regression for r in trend.runs] == [False, False, True]
    small_median = (small_1.app.duration_ms + small_2.app.duration_ms) / 2
    assert large.vs_median == pytest.approx(large.app.duration_ms / small_median)
    assert large.baseline_app_id in {small_1.app.app_id, small_2.app.app_id}
    assert large.grown_stages, "a regression names the stages that grew"
    grown = {c.metric for stage in large.grown_stages for c in stage.changes}
    assert grown & {"input_bytes", "shuffle_read_bytes", "shuffle_write_bytes", "task_time_ms"}
    first = large.grown_stages[0]
    assert first.duration_delta_ms == max(d.duration_delta_ms for d in large.grown_stages)
    assert f"stage {first.stage_id}" in large.explanation and "slower than the job's median" in large.explanation


def test_a_stricter_threshold_than_the_slowdown_flags_nothing(job_store):
    trend = job_trend(job_store, JOB_NAME, threshold=0.4)
    ratio = trend.runs[-1].vs_median
    relaxed = job_trend(job_store, JOB_NAME, threshold=ratio - 1 + 1e-9)  # at the threshold is not "more than"
    assert not relaxed.regressions


def test_compare_shows_the_data_growth_between_the_two_runs(job_store):
    trend = job_trend(job_store, JOB_NAME)
    small, large = trend.runs[0].app, trend.runs[-1].app
    comparison = compare_applications(job_store, small.app_id, large.app_id)
    assert comparison.duration_ratio > 1
    scan = [d for d in comparison.stages if any(c.metric in ("shuffle_write_bytes", "input_bytes") for c in d.changes)]
    assert scan, [d.reason for d in comparison.stages]
    # the same job with the same configuration: no setting differs once ids, ports, hosts and times are left out
    assert comparison.settings == [], comparison.settings


def test_the_trend_command_prints_the_regression(job_store):
    result = CliRunner().invoke(app, ["history", "trend", JOB_NAME])
    assert result.exit_code == 0, result.output
    assert "Regression:" in result.output and "Stages that grew" in result.output.replace("\n", " ")
