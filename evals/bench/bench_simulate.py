"""Benchmark: the what-if simulator on a synthetic 100k-task application.

Prints the time of one `simulate` call and of a full `what_if_curve` (8 points)
next to the 1 s target. Run: `python -m evals.bench.bench_simulate`.
"""

from __future__ import annotations

import time

import numpy as np

from tools.eventlog.model import AppProfile, ExecutorProfile, Quantiles, StageProfile, TaskMetricDistributions
from tools.simulate import simulate, what_if_curve

TARGET_S = 1.0


def synthetic_profile(total_tasks: int = 100_000, stages: int = 40, executors: int = 50, cores: int = 4) -> AppProfile:
    """A chain of jobs with two parallel map stages feeding a reduce stage, heavy-tailed task times."""
    rng = np.random.default_rng(0)
    per_stage = total_tasks // stages
    profile_stages: list[StageProfile] = []
    clock = 0
    for sid in range(stages):
        durations = np.sort(rng.lognormal(mean=5.0, sigma=0.8, size=per_stage))
        sample = durations[np.linspace(0, per_stage - 1, 512).astype(int)].tolist()
        q = Quantiles(
            count=per_stage, sum=float(durations.sum()), min=float(durations[0]),
            p25=float(np.quantile(durations, 0.25)), median=float(np.median(durations)),
            p75=float(np.quantile(durations, 0.75)), p95=float(np.quantile(durations, 0.95)), max=float(durations[-1]),
        )
        parents = [sid - 1, sid - 2] if sid % 3 == 2 else []
        wall = int(durations.sum() / (executors * cores)) + 1
        start = clock if sid % 3 != 1 else clock - wall  # stage 1 of each triple runs beside stage 0
        profile_stages.append(
            StageProfile(
                stage_id=sid, num_tasks=per_stage, parent_ids=parents, submission_time_ms=start,
                completion_time_ms=start + wall, duration_ms=wall, status="complete", tasks_succeeded=per_stage,
                metrics=TaskMetricDistributions(duration_ms=q), duration_sample_ms=sample,
            )
        )
        clock = start + wall + 50
    execs = [ExecutorProfile(executor_id=str(i), cores=cores, added_time_ms=0) for i in range(executors)]
    return AppProfile(app_id="bench", start_time_ms=0, end_time_ms=clock, duration_ms=clock,
                      stages=profile_stages, executors=execs)


def main() -> None:
    profile = synthetic_profile()
    simulate(profile)  # warm-up (imports, allocator)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = simulate(profile)
    one_s, one_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    started, cpu_started = time.perf_counter(), time.process_time()
    curve = what_if_curve(profile)
    curve_s, curve_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"tasks simulated         : {result.tasks_simulated}")
    print(f"simulate (one config)   : {one_s:.3f} s wall, {one_cpu:.3f} s CPU   target < {TARGET_S:.1f} s")
    print(f"what_if_curve ({len(curve.points)} pts)  : {curve_s:.3f} s wall, {curve_cpu:.3f} s CPU")
    print("(wall time includes waiting for a busy machine; CPU time is the simulator's own cost)")


if __name__ == "__main__":
    main()
