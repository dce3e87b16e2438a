"""Garbage collection: too much of the task time in GC (heap too small or too many objects), or almost none
(heap larger than the work needs)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tools.findings import Finding, Recommendation, Savings, Severity
from tools.rules.measure import MiB, ev
from tools.rules.memory import heap_cut, sized_by_executor_memory
from tools.rules.registry import RuleContext, rule
from tools.units import count, human_share, human_size, parse_size

GC_LOW_HEAP_CUT = 0.75  # almost no GC: try a quarter less heap


def gc_and_run_time(ctx: RuleContext) -> tuple[float, float] | None:
    """(GC ms, run ms) summed over completed stages; None when either metric is absent everywhere."""
    gc = run = 0.0
    measured = False
    for stage in ctx.completed_stages:
        g, r = stage.metrics.jvm_gc_time_ms, stage.metrics.executor_run_time_ms
        if g is None or r is None:
            continue
        measured = True
        gc += g.sum
        run += r.sum
    return (gc, run) if measured and run > 0 else None


@rule(
    "gc_time_high",
    "High JVM garbage-collection time",
    "gc_pressure",
    Severity.moderate,
    ("gc", "gc_stage_ratio", "gc_min_run_time_ms", "gc_min_stage_run_time_ms"),
)
def gc_time_high(ctx: RuleContext) -> Iterator[Finding]:
    """GC takes a large share of executor run time, over the application or in substantial stages."""
    t = ctx.thresholds
    totals = gc_and_run_time(ctx)
    if totals is None:
        return
    gc, run = totals
    hot_stages = []  # (stage id, GC ratio, GC ms, run ms)
    for stage in ctx.completed_stages:
        g, r = stage.metrics.jvm_gc_time_ms, stage.metrics.executor_run_time_ms
        if g and r and r.sum >= t.gc_min_stage_run_time_ms and g.sum / r.sum >= t.gc_stage_ratio:
            hot_stages.append((stage.stage_id, g.sum / r.sum, g.sum, r.sum))
    app_ratio = gc / run
    app_fires = run >= t.gc_min_run_time_ms and app_ratio >= t.gc.moderate
    if not app_fires and not hot_stages:
        return
    # the application-level thresholds show only when the application as a whole crossed them
    evidence = [
        ev("GC time / executor run time", app_ratio, "share", t.gc.moderate if app_fires else None),
        ev("executor run time", run, "ms", t.gc_min_run_time_ms if app_fires else None),
        ev("GC time", gc, "ms"),
    ]
    for stage_id, ratio, _, _ in sorted(hot_stages, key=lambda s: -s[2])[:5]:
        evidence.append(ev("stage GC time / run time", ratio, "share", t.gc_stage_ratio, stage_id))
    target = t.gc.moderate / 2  # a healthy share of GC that stays after the fix
    if app_fires:
        excess = gc - target * run
    else:
        excess = sum(stage_gc - target * stage_run for _, _, stage_gc, stage_run in hot_stages)
    memory = ctx.task_heap_bytes()
    peaks = ctx.task_heap_peaks
    heap_mostly_unused = bool(memory and peaks and memory / max(peaks) >= t.memory_overprovisioned_ratio)
    changes = []
    if memory and not heap_mostly_unused:
        changes.append(ctx.change(ctx.heap_key, f"{int(memory * 1.5 / MiB)}m"))
    options = ctx.prop("spark.executor.extraJavaOptions") or ""
    if re.search(r"UseParallelGC|UseConcMarkSweepGC|UseSerialGC", options):
        changes.append(ctx.change("spark.executor.extraJavaOptions",
                                  re.sub(r"-XX:\+Use(ParallelGC|ConcMarkSweepGC|SerialGC)", "-XX:+UseG1GC", options)))
    # stage-only findings (the application as a whole is small or fine) stay low
    severity = t.gc.severity(app_ratio) if app_fires else Severity.low
    yield ctx.finding(
        title=f"GC took {human_share(app_ratio)} of executor run time"
        + (f"; {count(len(hot_stages), 'stage')} above {t.gc_stage_ratio:.0%}" if hot_stages else ""),
        evidence=evidence,
        recommendation=Recommendation(
            summary=(
                "The heap is mostly unused at its peak, so GC comes from object churn: cut per-row object creation "
                "and caching of deserialized objects rather than adding memory."
                if heap_mostly_unused
                else "Give executors more heap per task (more memory or fewer cores per executor), cache less, "
                "and prefer DataFrame operations over object-heavy RDD code."
            ),
            config_changes=changes,
            code_change="Avoid collecting large objects per row (e.g. Python/Scala UDFs building lists); use "
            "serialized caching (MEMORY_AND_DISK_SER) for large cached RDDs.",
        ),
        savings=Savings(
            core_ms=max(excess, 0.0),
            wall_ms=ctx.spread(max(excess, 0.0)),
            method="GC time above half the threshold share of run time, spread over the application's cores.",
        ),
        doc_query="garbage collection tuning executor memory G1GC GC time",
        severity=severity,
        stage_ids=[stage_id for stage_id, _, _, _ in hot_stages],
    )


@rule(
    "gc_time_low",
    "Almost no GC: executor heap larger than needed",
    "memory_overprovisioned",
    Severity.low,
    ("gc_ratio_low", "gc_min_run_time_ms", "memory_min_executor_bytes"),
)
def gc_time_low(ctx: RuleContext) -> Iterator[Finding]:
    """Executors with a large heap spent under 1% of a long run in GC: memory could be cut. Only for logs without
    executor peak-memory metrics (Spark < 3.0): with them, `executor_memory_overprovisioned` sizes the cut from
    the measured peak (and the freed memory is not claimed twice)."""
    t = ctx.thresholds
    totals = gc_and_run_time(ctx)
    memory = parse_size(ctx.prop("spark.executor.memory"), "m")
    if totals is None or memory is None or memory < t.memory_min_executor_bytes or not sized_by_executor_memory(ctx):
        return
    if ctx.executor_heap_peaks:
        return
    gc, run = totals
    if run < t.gc_min_run_time_ms or gc / run >= t.gc_ratio_low:
        return
    change, savings = heap_cut(ctx, memory * GC_LOW_HEAP_CUT, f"{GC_LOW_HEAP_CUT:g} x the heap")  # memory >= 2 GiB
    yield ctx.finding(
        title=f"GC took only {gc / run:.2%} of run time with {human_size(memory)} executors",
        evidence=[
            ev("GC time / executor run time", gc / run, "share", t.gc_ratio_low),
            ev("executor run time", run, "ms", t.gc_min_run_time_ms),
            ev("spark.executor.memory", memory, "bytes", t.memory_min_executor_bytes),
        ],
        recommendation=Recommendation(
            summary="Try smaller executors (check peak memory first).",
            config_changes=[change],
        ),
        savings=savings,
        doc_query="executor memory sizing overprovisioned GC",
    )
