"""Speculation: stragglers that speculative execution would cut short, and speculative copies that only waste slots."""

from __future__ import annotations

from collections.abc import Iterator

from tools.findings import Finding, Recommendation, Savings, Severity
from tools.rules.measure import ev
from tools.rules.registry import RuleContext, rule
from tools.rules.skew import DATA_SKEW_MIN, data_skew, duration_skew
from tools.units import human_duration, human_share


@rule(
    "stragglers_without_speculation",
    "Straggler tasks on balanced data, speculation off",
    "speculation",
    Severity.moderate,
    ("skew", "skew_min_task_duration_ms", "straggler_ratio"),
)
def stragglers_without_speculation(ctx: RuleContext) -> Iterator[Finding]:
    """A few tasks run far longer than their peers although they read the same amount of data (slow host,
    noisy neighbour), and spark.speculation is off."""
    t = ctx.thresholds
    if ctx.bool_property("spark.speculation", False):
        return
    for stage in ctx.completed_stages:
        if duration_skew(stage, t) is None:
            continue
        data = data_skew(stage)
        if data is None or data[1] >= DATA_SKEW_MIN:
            continue  # data skew (or unknown data): stage_task_skew reports it
        q = stage.metrics.duration_ms
        assert q is not None
        tail_ratio = q.max / max(q.p75, 1.0)
        if tail_ratio < t.straggler_ratio:
            continue
        evidence = [
            ev("max / p75 task duration", tail_ratio, "ratio", t.straggler_ratio, stage.stage_id),
            ev("max task duration", q.max, "ms", t.skew_min_task_duration_ms, stage.stage_id),
            # a ceiling, not a limit crossed: under 2x the data is even, so the slow task is not data skew
            ev(f"max / median {data[0]} (even data: under {DATA_SKEW_MIN:g}x)", data[1], "ratio", None, stage.stage_id),
        ]
        title = (f"Stage {stage.stage_id}: straggler task {human_duration(q.max)} vs p75 {human_duration(q.p75)} "
                 "on balanced data")
        if ctx.one_host:
            # Spark launches a speculative copy only on a host where the task has no attempt: none here
            yield ctx.finding(
                title=title, evidence=[*evidence, ev("hosts that ran tasks", 1, "count")],
                recommendation=Recommendation(
                    summary="Find what made this task slow; speculation cannot help on one host (Spark starts a "
                    "speculative copy only on a host where the task has not run).",
                    code_change="Compare the slow task with its peers in the Spark UI: GC time, spill, fetch wait, "
                    "and whether it was the stage's first task (JVM warm-up, connection set-up).",
                ),
                savings=Savings(method="Not estimated: no setting shortens a straggler on a one-host run."),
                doc_query="straggler tasks slow task speculative execution",
                stage_ids=[stage.stage_id], severity=Severity.low,
            )
            continue
        tail_ms = q.max - q.p75 * 1.5
        yield ctx.finding(
            title=title,
            evidence=evidence,
            recommendation=Recommendation(
                summary="Enable speculative execution so a slow copy is re-launched on another host.",
                config_changes=[
                    ctx.change("spark.speculation", "true"),
                    ctx.change("spark.speculation.multiplier", "3"),
                    ctx.change("spark.speculation.quantile", "0.9"),
                ],
            ),
            savings=Savings(
                wall_ms=max(tail_ms, 0.0),
                method="A speculative copy launched at 1.5x the p75 duration would finish near it; saving = max - 1.5 x p75.",
            ),
            doc_query="spark.speculation straggler tasks speculative execution",
            stage_ids=[stage.stage_id],
        )


@rule(
    "speculation_waste",
    "Speculative task copies wasted",
    "speculation",
    Severity.low,
    ("speculation_waste_ratio", "speculation_min_tasks"),
)
def speculation_waste(ctx: RuleContext) -> Iterator[Finding]:
    """Many speculative copies were launched (and mostly killed): they burn slots without shortening stages."""
    t = ctx.thresholds
    speculative = sum(s.tasks_speculative for s in ctx.profile.stages)
    total = ctx.profile.total_tasks
    if speculative < t.speculation_min_tasks or total <= 0:
        return
    ratio = speculative / total
    if ratio < t.speculation_waste_ratio:
        return
    stages = sorted({s.stage_id for s in ctx.profile.stages if s.tasks_speculative})
    killed = ctx.profile.killed_tasks
    mean_task_ms = (ctx.profile.used_core_ms or 0.0) / max(total, 1)
    yield ctx.finding(
        title=f"{speculative} speculative task copies ({human_share(ratio)} of all tasks)",
        evidence=[
            ev("speculative / all tasks", ratio, "share", t.speculation_waste_ratio),
            ev("speculative tasks", speculative, "count", t.speculation_min_tasks),
            ev("killed tasks", killed, "count"),
        ],
        recommendation=Recommendation(
            summary="Make speculation more conservative (or fix the skew that makes tasks look slow).",
            config_changes=[
                ctx.change("spark.speculation.multiplier", "3"),
                ctx.change("spark.speculation.quantile", "0.95"),
            ],
        ),
        savings=Savings(
            core_ms=speculative * mean_task_ms * 0.5,
            method="Half of an average task's run time for each speculative copy (copies are usually killed mid-way).",
        ),
        doc_query="spark.speculation.multiplier quantile speculative tasks killed",
        stage_ids=stages[:20],
    )
