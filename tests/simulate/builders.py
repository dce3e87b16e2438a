"""Hand-built AppProfiles for exact simulator checks."""

from __future__ import annotations

from tools.eventlog.model import AppProfile, ExecutorProfile, Quantiles, StageProfile, TaskMetricDistributions


def stage(
    stage_id: int,
    task_ms: list[float],
    start_ms: int,
    end_ms: int,
    parents: list[int] | None = None,
    **extra: object,
) -> StageProfile:
    """A completed stage whose tasks took exactly `task_ms`."""
    ordered = sorted(task_ms)
    n = len(ordered)
    quantiles = Quantiles(
        count=n,
        sum=float(sum(ordered)),
        min=ordered[0],
        p25=ordered[int(0.25 * (n - 1))],
        median=ordered[int(0.5 * (n - 1))],
        p75=ordered[int(0.75 * (n - 1))],
        p95=ordered[int(0.95 * (n - 1))],
        max=ordered[-1],
    )
    fields: dict[str, object] = dict(
        stage_id=stage_id,
        num_tasks=n,
        parent_ids=parents or [],
        submission_time_ms=start_ms,
        completion_time_ms=end_ms,
        duration_ms=end_ms - start_ms,
        status="complete",
        tasks_succeeded=n,
        metrics=TaskMetricDistributions(duration_ms=quantiles),
        duration_sample_ms=ordered,
    )
    fields.update(extra)
    return StageProfile(**fields)


def executors(count: int, cores: int, added_ms: int = 0, removed_ms: int | None = None) -> list[ExecutorProfile]:
    return [
        ExecutorProfile(executor_id=str(i + 1), cores=cores, added_time_ms=added_ms, removed_time_ms=removed_ms)
        for i in range(count)
    ]


def app(stages: list[StageProfile], duration_ms: int, execs: list[ExecutorProfile] | None = None, **extra: object):
    fields: dict[str, object] = dict(
        app_id="app-test",
        start_time_ms=0,
        end_time_ms=duration_ms,
        duration_ms=duration_ms,
        stages=stages,
        executors=execs or [],
    )
    fields.update(extra)
    return AppProfile(**fields)
