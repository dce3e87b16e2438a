"""Driver-bound applications: long stretches with no job running (driver-side code), and large results
collected to the driver."""

from __future__ import annotations

from collections.abc import Iterator

from tools.eventlog.build import merge_intervals
from tools.eventlog.model import AppProfile
from tools.findings import Finding, Recommendation, Savings, Severity
from tools.rules.executors import (IDLE_TIMEOUT_DEFAULT_S, idle_core_time, idle_cores_reported, release_idle_changes,
                                   shuffle_service_note)
from tools.rules.measure import ev, spark_size
from tools.rules.registry import RuleContext, rule
from tools.units import human_duration, human_share, human_size


IDLE_CORES_ELSEWHERE = "the executors' idle core time, which the idle-executor finding counts"


@rule(
    "driver_bound",
    "Driver-bound application",
    "driver_bound",
    Severity.moderate,
    ("driver_time_ratio", "driver_min_time_ms"),
)
def driver_bound(ctx: RuleContext) -> Iterator[Finding]:
    """Most of the wall time passed with no Spark job running: the driver was busy (or idle) while executors waited."""
    t = ctx.thresholds
    driver_ms, duration = ctx.profile.driver_time_ms, ctx.profile.duration_ms
    if driver_ms is None or not duration:
        return
    ratio = driver_ms / duration
    if ratio < t.driver_time_ratio or driver_ms < t.driver_min_time_ms:
        return
    executor_cores = sum(e.cores or 0 for e in ctx.profile.executors if e.executor_id != "driver")
    evidence = [
        ev("driver-only time / wall time", ratio, "share", t.driver_time_ratio),
        ev("driver-only time", driver_ms, "ms", t.driver_min_time_ms),
        ev("application wall time", duration, "ms"),
    ]
    shell = ctx.profile.interactive_shell
    changes = release_idle_changes(ctx) if executor_cores else []
    if shell:
        yield ctx.finding(
            title=f"{human_share(ratio)} of the {shell} session ({human_duration(driver_ms)}) had no Spark job running",
            evidence=[*evidence, ev("interactive session", shell)],
            recommendation=Recommendation(
                summary=f"An interactive {shell} session: most of the time with no job running is time between "
                "commands, which no code change shortens. What it costs is the executors held meanwhile: let "
                "dynamic allocation release them while you read or type, stop the session when you are done, and "
                "run work that recurs as a submitted job." + shuffle_service_note(changes),
                config_changes=changes,
                code_change="End the session when the work is done (call stop() on the SparkSession, or :quit in "
                "spark-shell) instead of leaving it open.",
            ),
            savings=session_savings(ctx, driver_ms, executor_cores),
            doc_query="interactive shell session idle executors dynamic allocation executorIdleTimeout",
            severity=Severity.moderate,
        )
        return
    if (ctx.prop("spark.scheduler.mode") or "FIFO").upper() != "FAIR":
        changes.append(ctx.change("spark.scheduler.mode", "FAIR"))
    yield ctx.finding(
        title=f"{human_share(ratio)} of the run ({human_duration(driver_ms)}) had no Spark job running",
        evidence=evidence,
        recommendation=Recommendation(
            summary="Move driver-side work (loops over collected data, pandas on the driver, sequential small "
            "jobs, file listing) into Spark, run independent jobs concurrently, and release idle executors."
            + shuffle_service_note(changes),
            config_changes=changes,
            code_change="Replace collect()/toPandas() + Python loops with DataFrame operations; submit independent "
            "actions from a thread pool (with spark.scheduler.mode=FAIR, so they share the executors).",
        ),
        savings=driver_savings(ctx, driver_ms, executor_cores),
        doc_query="driver bound collect toPandas driver time idle executors",
        severity=Severity.severe if ratio >= 0.8 else Severity.moderate,
    )


def driver_savings(ctx: RuleContext, driver_ms: float, executor_cores: int) -> Savings:
    """Half the driver-only time; its idle executor cores only when the idle-executor rule does not price them.
    The wall time is what moving driver work into Spark (the code change) gives: no setting shortens it."""
    measured = idle_core_time(ctx.profile)
    between_jobs = cores_between_jobs_ms(ctx.profile)
    priced_elsewhere = idle_cores_reported(ctx)
    if priced_elsewhere:
        core_ms = 0.0
        method = ("Half the driver-only time; the executors' idle cores meanwhile are priced by the idle-executor "
                  "finding, not counted twice.")
    elif between_jobs is not None:
        core_ms = between_jobs * 0.5
        method = ("Half the driver-only time and half the executor core time allocated while no job ran (live "
                  "executors' cores over those stretches).")
    else:
        core_ms = driver_ms * executor_cores * 0.5
        if measured is not None:  # never more than the run left idle
            core_ms = min(core_ms, measured.idle_ms)
        method = "Half the driver-only time, during which every executor core was allocated but idle."
    return Savings(core_ms=core_ms, wall_ms=driver_ms * 0.5, method=method, code_change_only=True,
                   counted_elsewhere=IDLE_CORES_ELSEWHERE if priced_elsewhere else "")


def session_savings(ctx: RuleContext, driver_ms: float, executor_cores: int) -> Savings:
    """No wall time (the session lasts as long as its user works); the executor core time held through pauses
    between jobs beyond dynamic allocation's 60 s idle timeout, unless the idle-executor finding prices it."""
    if not executor_cores:
        return Savings(method="An interactive session's time between commands is its user's; local mode holds no "
                       "executors to release, so nothing is estimated.")
    if idle_cores_reported(ctx):
        return Savings(method="The executors' idle cores between commands are priced by the idle-executor finding, "
                       "not counted twice; no wall time: the session lasts as long as its user works.",
                       counted_elsewhere=IDLE_CORES_ELSEWHERE)
    held = cores_between_jobs_ms(ctx.profile, grace_ms=IDLE_TIMEOUT_DEFAULT_S * 1000)
    if held is None:
        return Savings(method="The log has no executor start times to measure the pauses between jobs.")
    return Savings(core_ms=held, method="Executor core time held through pauses between jobs beyond the first 60 s "
                   "of each (dynamic allocation's default executorIdleTimeout); no wall time: the session lasts as "
                   "long as its user works.")


def cores_between_jobs_ms(profile: AppProfile, grace_ms: float = 0.0, with_driver: bool = False) -> float | None:
    """Executor core-ms allocated while no job ran, less `grace_ms` of each idle stretch of each executor (the
    time dynamic allocation waits before releasing one); None when the log lacks executor start times or cores.
    The local-mode driver, which runs the tasks there, counts only `with_driver` (it is not an executor to release)."""
    end = profile.end_time_ms
    jobs = merge_intervals([(j.submission_time_ms, j.completion_time_ms or end) for j in profile.jobs])
    total, counted = 0.0, False
    for executor in profile.executors:
        if (executor.executor_id == "driver" and not with_driver) or not executor.cores or executor.added_time_ms is None:
            continue
        start, until = executor.added_time_ms, executor.removed_time_ms or end
        if until is None or until < start:
            continue
        idle, cursor = 0.0, start
        for job_start, job_end in [*jobs, (until, until)]:
            stretch = min(job_start, until) - cursor
            if stretch > 0:
                idle += max(0.0, stretch - grace_ms)
            cursor = max(cursor, job_end)
            if cursor >= until:
                break
        total += executor.cores * idle
        counted = True
    return total if counted else None


@rule(
    "large_results_to_driver",
    "Large task results collected to the driver",
    "driver_bound",
    Severity.moderate,
    ("driver_result_bytes",),
)
def large_results_to_driver(ctx: RuleContext) -> Iterator[Finding]:
    """Tasks sent hundreds of MiB of results to the driver (collect, toPandas, large accumulators)."""
    t = ctx.thresholds
    per_stage = [
        (s.stage_id, s.metrics.result_size_bytes.sum) for s in ctx.completed_stages if s.metrics.result_size_bytes
    ]
    total = sum(size for _, size in per_stage)
    if not per_stage or total < t.driver_result_bytes:
        return
    top = sorted(per_stage, key=lambda x: -x[1])[:5]
    yield ctx.finding(
        title=f"Tasks returned {human_size(total)} of results to the driver",
        evidence=[ev("task result bytes", total, "bytes", t.driver_result_bytes)]
        + [ev("stage result bytes", size, "bytes", stage_id=sid) for sid, size in top],
        recommendation=Recommendation(
            summary="Write large results out instead of collecting them; aggregate before collecting.",
            config_changes=[ctx.change("spark.driver.maxResultSize", spark_size(total * 2))]
            if ctx.prop("spark.driver.maxResultSize") not in ("0",)
            else [],
            code_change="Replace collect()/toPandas() of large DataFrames with df.write...; use limit() or "
            "aggregates when only a summary is needed.",
        ),
        savings=Savings(method="Driver memory and serialization time; not estimated in core time."),
        doc_query="spark.driver.maxResultSize collect large results driver memory",
        stage_ids=[sid for sid, _ in top],
    )
