"""Failures: failed task attempts (by reason), failed stage attempts, failed jobs, shuffle fetch failures."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from tools.findings import Finding, Recommendation, Savings, Severity
from tools.rules.measure import ev
from tools.rules.registry import RuleContext, rule
from tools.units import count

NOT_FAILURES = ("TaskKilled", "Success", "Resubmitted", "TaskCommitDenied")
# how Spark words a job or stage it cancelled on request (a stopped streaming query, a cancelled job group or tag,
# cancelAllJobs, a SparkContext stopped with jobs running): 1.x-3.x "Job 2 cancelled ...", 4.x's error class
CANCELLED = re.compile(r"SPARK_JOB_CANCELLED|\b(?:Job|Stage) \d+ cancell?ed\b|\bStage cancell?ed\b|"
                       r"cancell?ed because SparkContext was shut down")


def cancelled(reason: str | None) -> bool:
    """Whether a job or stage ended because it was cancelled (not a failure of its code or its cluster)."""
    return bool(reason and CANCELLED.search(reason))


def failure_counts(ctx: RuleContext) -> Counter[str]:
    """Failed task attempts by reason class over all stage attempts (kills and commit denials excluded)."""
    return _by_reason(ctx, "task_failure_reasons")


def failure_time_ms(ctx: RuleContext) -> float:
    """Core time the failed attempts held, launch to failure (same reasons as `failure_counts`)."""
    return sum(_by_reason(ctx, "task_failure_time_ms").values())


def _by_reason(ctx: RuleContext, field: str) -> Counter[str]:
    totals: Counter[str] = Counter()
    for stage in ctx.profile.stages:
        for reason, value in getattr(stage, field).items():
            if not reason.startswith(NOT_FAILURES):
                totals[reason] += value
    return totals


def _advice(ctx: RuleContext, reasons: Counter[str]) -> str:
    top = reasons.most_common(1)[0][0] if reasons else ""
    if top.startswith("ExceptionFailure"):
        return "Fix the exception in the task code (see the stage failure message); retries re-run the same input."
    if top.startswith("ExecutorLost"):
        return "Find why executors died (memory limits, preemption, node loss) — see the executor-loss findings."
    if top == "OOM":
        return "Give tasks more memory or less data each — see the memory findings."
    if top == "FetchFailed" and ctx.task_jvm_role == "driver":
        return "Shuffle files went missing from the local disk (one JVM, no executor was lost) — see the shuffle fetch " \
               "failure finding."
    if top == "FetchFailed":
        return "Shuffle outputs were lost with their executors; use the external shuffle service or decommissioning."
    return "Inspect the failure reasons and fix the cause; failed attempts are wasted compute."


@rule(
    "task_failures",
    "Failed task attempts",
    "task_failures",
    Severity.low,
    ("task_failure_min_count", "task_failure_rate"),
)
def task_failures(ctx: RuleContext) -> Iterator[Finding]:
    """Task attempts failed (and were retried): their run time is lost and stages wait for the retries."""
    t = ctx.thresholds
    reasons = failure_counts(ctx)
    failed = sum(reasons.values())
    if failed < t.task_failure_min_count:
        return
    succeeded = sum(s.tasks_succeeded for s in ctx.profile.stages)
    rate = failed / max(failed + succeeded, 1)
    stages = sorted({s.stage_id for s in ctx.profile.stages if s.tasks_failed})
    medians = [s.metrics.duration_ms.median for s in ctx.profile.stages if s.tasks_failed and s.metrics.duration_ms]
    per_task = sum(medians) / len(medians) if medians else 0.0
    held = failure_time_ms(ctx)
    evidence = [
        ev("failed task attempts", failed, "count", t.task_failure_min_count),
        # the rate grades severity only: its threshold shows when the rate crossed it
        ev("failed / all task attempts", rate, "share",
           t.task_failure_rate.moderate if rate >= t.task_failure_rate.moderate else None),
    ]
    evidence += [ev(f"failures: {reason}", n, "count") for reason, n in reasons.most_common(5)]
    if held:
        evidence.append(ev("core time held by the failed attempts", held * ctx.profile.task_cpus, "ms"))
    yield ctx.finding(
        title=f"{failed} task attempts failed ({rate:.1%}); top reason {reasons.most_common(1)[0][0]}",
        evidence=evidence,
        recommendation=Recommendation(
            summary="Remove the cause of the failures: a retry re-runs the same input, and the failed attempts' "
            "time is lost.",
            code_change=_advice(ctx, reasons),
        ),
        savings=Savings(
            core_ms=held * ctx.profile.task_cpus if held else failed * per_task,
            wall_ms=per_task,
            method=("The failed attempts held this core time, launch to failure (measured)" if held else
                    "Each failed attempt cost about a median task of its stage")
            + "; the stage waited about one more median task for the retry.",
        ),
        doc_query="task failures retries spark.task.maxFailures " + " ".join(r.split(":")[0] for r in reasons),
        severity=t.task_failure_rate.severity(rate),
        stage_ids=stages[:20],
    )


@rule("stage_failures", "Failed stage attempts", "task_failures", Severity.severe)
def stage_failures(ctx: RuleContext) -> Iterator[Finding]:
    """Stage attempts failed: they were retried (re-running their parents) or aborted their job. Cancelled ones
    (a stopped streaming query's last micro-batch, a cancelled job group) are not failures: nothing to fix."""
    failed = [s for s in ctx.profile.stages if s.status == "failed" and not cancelled(s.failure_reason)]
    if not failed:
        return
    wasted = sum((s.metrics.executor_run_time_ms.sum if s.metrics.executor_run_time_ms else 0.0) for s in failed)
    wall = sum(s.duration_ms or 0 for s in failed)
    reasons = Counter((s.failure_reason or "unknown")[:160] for s in failed)
    yield ctx.finding(
        title=f"{count(len(failed), 'stage attempt')} failed: {reasons.most_common(1)[0][0]}",
        evidence=[ev("failed stage attempts", len(failed), "count", 1)]
        + [ev("stage failure reason", reason, "", stage_id=None) for reason, _ in reasons.most_common(3)],
        recommendation=Recommendation(
            summary="Fix the failure shown in the reason; a retried stage re-runs all its tasks.",
            code_change=_advice(ctx, failure_counts(ctx)),
        ),
        savings=Savings(core_ms=wasted, wall_ms=wall, method="Run time and wall time of the failed stage attempts."),
        doc_query="stage failure retry FetchFailed stage attempt",
        stage_ids=sorted({s.stage_id for s in failed})[:20],
    )


@rule("job_failures", "Failed jobs", "task_failures", Severity.critical)
def job_failures(ctx: RuleContext) -> Iterator[Finding]:
    """Jobs ended in failure: their results were lost (and the application may have failed). Cancelled jobs are
    left out (see `cancelled`)."""
    failed = [j for j in ctx.profile.jobs if j.status == "failed" and not cancelled(j.failure_reason)]
    if not failed:
        return
    reasons = Counter((j.failure_reason or "unknown")[:160] for j in failed)
    stages = sorted({sid for j in failed for sid in j.stage_ids})
    yield ctx.finding(
        title=f"{count(len(failed), 'job')} failed: {reasons.most_common(1)[0][0]}",
        evidence=[ev("failed jobs", len(failed), "count", 1)]
        + [ev("job failure reason", reason, "") for reason, _ in reasons.most_common(3)],
        recommendation=Recommendation(
            summary="Fix the cause of the failure; the job's work is lost and must be re-run.",
            code_change=_advice(ctx, failure_counts(ctx)),
        ),
        savings=Savings(
            wall_ms=float(sum(j.duration_ms or 0 for j in failed)),
            method="Wall time of the failed jobs, lost when they are re-run.",
        ),
        doc_query="job aborted stage failure task failed max failures",
        stage_ids=stages[:20],
    )


@rule("shuffle_fetch_failures", "Shuffle fetch failures", "executor_loss", Severity.severe)
def shuffle_fetch_failures(ctx: RuleContext) -> Iterator[Finding]:
    """Reducers could not fetch map outputs (usually lost with an executor): parent stages were re-run."""
    fetch = failure_counts(ctx).get("FetchFailed", 0)
    if not fetch:
        return
    stages = sorted({s.stage_id for s in ctx.profile.stages if s.task_failure_reasons.get("FetchFailed")})
    local = ctx.task_jvm_role == "driver"
    changes = [] if local else [*ctx.shuffle_survival_changes(), ctx.change("spark.shuffle.io.maxRetries", "10"),
                                ctx.change("spark.shuffle.io.retryWait", "30s")]
    yield ctx.finding(
        title=f"{count(fetch, 'shuffle fetch failure')} forced stage re-runs",
        evidence=[ev("FetchFailed task attempts", fetch, "count", 1)],
        recommendation=Recommendation(
            summary="Shuffle files went missing from the local disk of this local-mode run (one JVM, no executor to "
            "lose, so no setting brings them back)." if local
            else "Keep shuffle files available when executors go away, and retry fetches longer.",
            config_changes=changes,
            code_change="Keep Spark's local scratch directory (where shuffle files live) on a disk that no cleaner "
            "empties and that does not fill up while jobs run." if local else None,
        ),
        savings=Savings(method="The re-run parent stages; see the stage-failure finding for their time."),
        doc_query="FetchFailedException external shuffle service spark.shuffle.io.maxRetries",
        stage_ids=stages[:20],
    )
