"""Chart series for the HTML report, read off the profile (stage spans, cores over time, skewed task durations)."""

from __future__ import annotations

from graph.report import Charts, StageDistribution, StageSpan, UtilizationPoint
from tools.eventlog.model import AppProfile, stage_label

MAX_TIMELINE_STAGES = 60
UTILIZATION_POINTS = 80


def charts_for(profile: AppProfile, skewed_stage_ids: list[int]) -> Charts:
    """All chart series for one application."""
    return Charts(
        stage_timeline=stage_timeline(profile),
        utilization=utilization(profile),
        skewed_stages=[d for sid in skewed_stage_ids[:4] if (d := task_durations(profile, sid))],
    )


def _origin(profile: AppProfile) -> int | None:
    starts = [s.submission_time_ms for s in profile.stages if s.submission_time_ms is not None]
    return profile.start_time_ms if profile.start_time_ms is not None else (min(starts) if starts else None)


def stage_timeline(profile: AppProfile) -> list[StageSpan]:
    """The longest stages as spans relative to application start, in start order."""
    origin = _origin(profile)
    if origin is None:
        return []
    timed = [s for s in profile.stages if s.submission_time_ms is not None and s.completion_time_ms is not None]
    timed = sorted(timed, key=lambda s: s.duration_ms or 0, reverse=True)[:MAX_TIMELINE_STAGES]
    return [
        StageSpan(stage_id=s.stage_id, name=stage_label(s)[:60], start_ms=s.submission_time_ms - origin,
                  end_ms=s.completion_time_ms - origin, status=s.status, tasks=s.num_tasks)
        for s in sorted(timed, key=lambda s: s.submission_time_ms or 0)
    ]


def utilization(profile: AppProfile) -> list[UtilizationPoint]:
    """Allocated executor cores and busy cores (stage task time spread over the stage span) over time."""
    origin = _origin(profile)
    end = profile.end_time_ms or max((s.completion_time_ms or 0 for s in profile.stages), default=0)
    if origin is None or not end or end <= origin:
        return []
    default_cores = int(profile.property("spark.executor.cores", "1") or 1) if str(
        profile.property("spark.executor.cores", "1")).isdigit() else 1
    step = (end - origin) / UTILIZATION_POINTS
    points: list[UtilizationPoint] = []
    for i in range(UTILIZATION_POINTS + 1):
        t = origin + i * step
        allocated = sum(
            (e.cores or default_cores) for e in profile.executors
            if (e.added_time_ms or origin) <= t and (e.removed_time_ms is None or e.removed_time_ms > t)
        )
        busy = 0.0
        for s in profile.stages:
            if s.submission_time_ms is None or s.completion_time_ms is None or s.completion_time_ms <= s.submission_time_ms:
                continue
            if s.submission_time_ms <= t < s.completion_time_ms:
                run = s.metrics.executor_run_time_ms or s.metrics.duration_ms
                if run is not None:
                    busy += run.sum / (s.completion_time_ms - s.submission_time_ms)
        points.append(UtilizationPoint(time_ms=t - origin, allocated_cores=allocated, busy_cores=round(busy, 2)))
    return points


def task_durations(profile: AppProfile, stage_id: int) -> StageDistribution | None:
    stage = profile.stage(stage_id)
    if stage is None or not stage.duration_sample_ms:
        return None
    q = stage.metrics.duration_ms
    return StageDistribution(stage_id=stage_id, durations_ms=stage.duration_sample_ms,
                             median_ms=q.median if q else None, max_ms=q.max if q else None)
