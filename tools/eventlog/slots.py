"""How many executors and task slots an application had at once.

Executors come and go (dynamic allocation, lost containers replaced), so the number that ever
existed says little: a job that lost eight one-core containers one after another had nine
executors but never more than two cores. The rules, the report and the chat read these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tools.eventlog.master import local_master
from tools.eventlog.model import AppProfile, ExecutorProfile, StageProfile


def peak_alive(executors: Iterable[ExecutorProfile], start_ms: int | None = None, end_ms: int | None = None,
               weight: Callable[[ExecutorProfile], int] = lambda e: e.cores or 0) -> int:
    """Most `weight` (cores by default) alive at once, optionally within [start_ms, end_ms].

    An executor without an added time could have been alive at any time, so then every executor counts."""
    executors = list(executors)
    if any(e.added_time_ms is None for e in executors):
        return sum(weight(e) for e in executors)
    events: list[tuple[int, int]] = []
    for e in executors:
        added, removed = e.added_time_ms or 0, e.removed_time_ms
        if (end_ms is not None and added > end_ms) or (start_ms is not None and removed is not None and removed < start_ms):
            continue  # not alive during the window
        events.append((max(added, start_ms or added), weight(e)))
        if removed is not None:
            events.append((removed, -weight(e)))
    peak = running = 0
    for _, delta in sorted(events):  # removals (negative) first at equal times
        running += delta
        peak = max(peak, running)
    return peak


def peak_executors(executors: Iterable[ExecutorProfile]) -> int:
    """Most of `executors` alive at once (a profile's list holds, in local mode, the one driver JVM that runs the tasks)."""
    return peak_alive(executors, weight=lambda e: 1)


def peak_cores(profile: AppProfile) -> int | None:
    """Task slots at the peak: the executors' cores alive at once, else what local[N] or spark.executor.cores x
    spark.executor.instances says; None when nothing says."""
    executors = [e for e in profile.executors if e.cores]
    if executors:
        return peak_alive(executors)
    local = local_master(profile.master_url)
    if local is not None and local.total_cores is not None:
        return local.total_cores
    per_executor, instances = profile.int_property("spark.executor.cores"), profile.int_property("spark.executor.instances")
    return per_executor * instances if per_executor and instances else None


def cores_used_beside(stages: Iterable[StageProfile], stage: StageProfile) -> float:
    """Cores the other stages' tasks kept busy, on average, while `stage` ran: each other stage's task time spread
    evenly over its own run, the part inside `stage`'s window, divided by that window. Stages of concurrent jobs
    (or the two sides of a join) share the slots, so cores one stage leaves free are not idle when another uses them."""
    start, end = stage.submission_time_ms, stage.completion_time_ms
    if start is None or end is None or end <= start:
        return 0.0
    busy_ms = 0.0
    for other in stages:
        q, o_start, o_end = other.metrics.duration_ms, other.submission_time_ms, other.completion_time_ms
        if other is stage or q is None or o_start is None or o_end is None or o_end <= o_start:
            continue
        overlap = min(end, o_end) - max(start, o_start)
        if overlap > 0:
            busy_ms += q.sum * overlap / (o_end - o_start)
    return busy_ms / (end - start)
