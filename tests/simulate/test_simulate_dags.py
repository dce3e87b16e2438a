"""The simulator on small hand-built DAGs, where the right answer can be worked out by hand."""

from __future__ import annotations

import pytest

from tests.simulate.builders import app, executors, stage
from tools.errors import ModelError
from tools.simulate import simulate, task_durations, what_if_curve


def test_single_stage_runs_in_waves_of_slots():
    # 8 tasks of 100 ms on 2 executors x 2 cores = 2 waves; 50 ms driver time before the stage
    profile = app([stage(0, [100.0] * 8, 50, 250)], duration_ms=250, execs=executors(2, 2))
    result = simulate(profile)
    assert result.slots == 4
    assert result.executor_time_ms == pytest.approx(200.0)
    assert result.driver_time_ms == pytest.approx(50.0)
    assert result.estimated_duration_ms == pytest.approx(250.0)
    assert result.utilization == pytest.approx(1.0)


def test_more_executors_shorten_a_wide_stage_until_one_wave():
    profile = app([stage(0, [100.0] * 8, 0, 200)], duration_ms=200, execs=executors(2, 2))
    assert simulate(profile, executors=4).executor_time_ms == pytest.approx(100.0)
    assert simulate(profile, executors=8).executor_time_ms == pytest.approx(100.0)  # one wave is the floor
    assert simulate(profile, executors=1).executor_time_ms == pytest.approx(400.0)
    assert simulate(profile, executors=8).utilization == pytest.approx(8 * 100 / (16 * 100))


def test_parallel_branches_share_slots_and_join_waits_for_both():
    # A (4 x 100) and B (2 x 300) run side by side; C (1 x 50) needs both.
    stages = [
        stage(0, [100.0] * 4, 0, 300),
        stage(1, [300.0] * 2, 0, 300),
        stage(2, [50.0], 300, 350, parents=[0, 1]),
    ]
    profile = app(stages, duration_ms=350, execs=executors(1, 4))
    # 4 slots: A takes all 4 slots for 100 ms, then B's two tasks run 100..400, C runs 400..450.
    result = simulate(profile)
    assert result.executor_time_ms == pytest.approx(450.0)
    assert result.critical_path_stage_ids == [1, 2]
    # 6 slots: all six tasks start at 0; B ends at 300; C 300..350.
    assert simulate(profile, executors=1, cores=6).executor_time_ms == pytest.approx(350.0)
    # the unlimited-slot lower bound is the longest chain of longest tasks: 300 + 50
    assert result.critical_path_ms == pytest.approx(350.0)


def test_sequential_jobs_keep_driver_gaps_fixed():
    stages = [stage(0, [100.0] * 2, 100, 200), stage(1, [100.0] * 2, 1200, 1300)]
    profile = app(stages, duration_ms=1500, execs=executors(1, 2))
    result = simulate(profile, executors=1, cores=1)
    assert result.phases == 2
    assert result.driver_time_ms == pytest.approx(1500 - 200)
    assert result.estimated_duration_ms == pytest.approx(1300 + 400)


def test_concurrent_job_keeps_its_submission_offset():
    # stage 1 was submitted by another thread 150 ms after stage 0 started
    stages = [stage(0, [200.0], 0, 200), stage(1, [100.0], 150, 250)]
    profile = app(stages, duration_ms=250, execs=executors(1, 2))
    assert simulate(profile).executor_time_ms == pytest.approx(250.0)
    assert simulate(profile).phases == 1
    # one slot: stage 1 waits for stage 0's task: 200 + 100
    assert simulate(profile, executors=1, cores=1).executor_time_ms == pytest.approx(300.0)


def test_failed_attempt_occupies_slots_before_its_retry():
    failed = stage(3, [100.0] * 2, 0, 100, status="failed", tasks_failed=2)
    retry = stage(3, [100.0] * 2, 100, 200, attempt_id=1)
    profile = app([failed, retry], duration_ms=200, execs=executors(1, 2))
    # failed attempt: 2 ok + 2 failed median tasks on 2 slots = 200, then the retry 100
    assert task_durations(failed).tolist() == [100.0] * 4
    assert simulate(profile).executor_time_ms == pytest.approx(300.0)


def test_skipped_stages_are_not_replayed():
    skipped = stage(0, [100.0] * 4, 0, 0, status="skipped", tasks_succeeded=0)
    used = stage(1, [100.0] * 4, 0, 100, parents=[0])
    profile = app([skipped, used], duration_ms=100, execs=executors(2, 2))
    result = simulate(profile)
    assert result.stages_simulated == 1
    assert result.executor_time_ms == pytest.approx(100.0)


def test_sample_is_expanded_to_the_task_count_and_keeps_the_measured_sum():
    s = stage(0, [10.0, 20.0, 30.0], 0, 60)
    s.duration_sample_ms = [10.0, 30.0]  # a 2-point sample of a 3-task stage
    durations = task_durations(s)
    assert durations.size == 3
    assert durations.sum() == pytest.approx(60.0)
    assert durations.min() < durations.max()


def test_quantiles_alone_rebuild_the_tasks():
    s = stage(0, [100.0] * 10, 0, 1000)
    s.duration_sample_ms = []
    assert task_durations(s).tolist() == pytest.approx([100.0] * 10)


def test_local_master_gives_the_slots_when_executors_are_missing():
    profile = app([stage(0, [100.0] * 6, 0, 200)], duration_ms=200, master="local[3]")
    result = simulate(profile)
    assert (result.executors, result.cores) == (1, 3)
    assert result.executor_time_ms == pytest.approx(200.0)


def test_executor_properties_are_the_fallback_for_cluster_logs():
    props = {"spark.executor.instances": "2", "spark.executor.cores": "3"}
    profile = app([stage(0, [100.0] * 6, 0, 100)], duration_ms=100, master="yarn", spark_properties=props)
    assert simulate(profile).slots == 6


def test_dynamic_allocation_uses_live_executors_per_phase():
    # phase 1 (0..400) had 1 executor, phase 2 (1000..1100) had 4 (3 added at 900)
    execs = executors(1, 1) + [e.model_copy(update={"executor_id": f"x{i}", "added_time_ms": 900}) for i, e in
                               enumerate(executors(3, 1))]
    stages = [stage(0, [100.0] * 4, 0, 400), stage(1, [100.0] * 4, 1000, 1100)]
    props = {"spark.dynamicAllocation.enabled": "true"}
    profile = app(stages, duration_ms=1100, execs=execs, spark_properties=props)
    observed = simulate(profile)
    assert observed.estimated_duration_ms == pytest.approx(1100.0)
    curve = what_if_curve(profile)
    assert curve.dynamic_allocation
    assert curve.observed_executors == 4
    assert any("dynamic allocation" in c for c in curve.caveats)


def test_what_if_curve_is_calibrated_and_monotone():
    profile = app([stage(0, [100.0] * 64, 0, 1700)], duration_ms=1800, execs=executors(4, 2))
    curve = what_if_curve(profile)
    assert curve.observed.estimated_duration_ms == pytest.approx(100 + 800)
    assert curve.error_pct == pytest.approx((900 - 1800) / 1800 * 100)
    by_factor = {p.factor: p for p in curve.points}
    assert by_factor[1.0].estimated_duration_ms == pytest.approx(1800.0)
    estimates = [p.estimated_duration_ms for p in curve.points]
    assert estimates == sorted(estimates, reverse=True)
    assert by_factor[0.25].executors == 1
    assert by_factor[2.0].speedup == pytest.approx(900 / 500)


def test_profile_without_stages_is_a_clear_error():
    with pytest.raises(ModelError, match="nothing to simulate"):
        what_if_curve(app([], duration_ms=100))


def test_zero_executors_is_refused():
    profile = app([stage(0, [1.0], 0, 1)], duration_ms=1, execs=executors(1, 1))
    with pytest.raises(ModelError):
        simulate(profile, executors=0)
