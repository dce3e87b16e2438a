"""Memory sizing: executors whose JVM peak is far below the allocation, or at it (OOMs, memory-limit kills)."""

from __future__ import annotations

from collections.abc import Iterator

from tools.cost import memory_freed_gb_ms
from tools.findings import ConfigChange, Finding, Recommendation, Savings, Severity
from tools.rules.failures import failure_counts
from tools.rules.measure import GIB, MiB, ev
from tools.rules.registry import RuleContext, rule
from tools.units import count, human_size, parse_size

MEMORY_KILL_WORDS = ("exceeding memory limits", "OutOfMemory", "OOMKilled", "exit code 137", "exit status 137")
HEAP_HEADROOM = 1.5  # suggested heap = this x the observed peak ...
HEAP_FLOOR_BYTES = GIB  # ... but not below Spark's default spark.executor.memory (1g)


def sized_by_executor_memory(ctx: RuleContext) -> bool:
    """Whether spark.executor.memory sizes anything here: not in local mode, where the tasks run in the driver's
    JVM and no executor container is paid for (a single-node cluster pays for its machine, not for the heap)."""
    return ctx.task_jvm_role == "executor"


def heap_cut(ctx: RuleContext, target_bytes: float, basis: str) -> tuple[ConfigChange, Savings]:
    """spark.executor.memory cut to `target_bytes` (not below Spark's 1g default), and the container memory the cut
    frees over every executor's lifetime; `basis` says where the target came from."""
    mib = int(max(target_bytes, HEAP_FLOOR_BYTES) / MiB)
    return ctx.change("spark.executor.memory", f"{mib}m"), Savings(
        memory_gb_ms=memory_freed_gb_ms(ctx.profile, mib),
        method=f"Container memory (heap and overhead) freed per executor at {basis} (at least 1 GiB), over every "
        "executor's lifetime, priced per GB-hour; no core time claimed.",
    )


@rule(
    "executor_memory_overprovisioned",
    "Executor memory far above peak JVM use",
    "memory_overprovisioned",
    Severity.moderate,
    ("memory_overprovisioned_ratio", "memory_min_executor_bytes"),
)
def executor_memory_overprovisioned(ctx: RuleContext) -> Iterator[Finding]:
    """The largest peak JVM heap of any executor is a small fraction of spark.executor.memory."""
    t = ctx.thresholds
    allocated = parse_size(ctx.prop("spark.executor.memory"), "m")
    peaks = ctx.executor_heap_peaks
    if allocated is None or allocated < t.memory_min_executor_bytes or not peaks or not sized_by_executor_memory(ctx):
        return
    peak = max(peaks)
    ratio = allocated / peak
    if ratio < t.memory_overprovisioned_ratio:
        return
    change, savings = heap_cut(ctx, peak * HEAP_HEADROOM, f"{HEAP_HEADROOM:g} x the peak")  # < allocated (>= 2 x peak)
    yield ctx.finding(
        title=f"Executors peaked at {human_size(peak)} of heap with {human_size(allocated)} allocated",
        evidence=[
            ev("allocated / peak JVM heap", ratio, "ratio", t.memory_overprovisioned_ratio),
            ev("spark.executor.memory", allocated, "bytes", t.memory_min_executor_bytes),
            ev("max peak JVM heap over executors", peak, "bytes"),
            ev("executors with peak metrics", len(peaks), "count"),
        ],
        recommendation=Recommendation(
            summary=f"Cut executor memory to about {HEAP_HEADROOM:g}x the observed peak (or pack more cores per executor).",
            config_changes=[change],
        ),
        savings=savings,
        doc_query="executor memory sizing peak JVM memory overprovisioned",
    )


@rule(
    "executor_memory_underprovisioned",
    "Executors out of memory",
    "memory_underprovisioned",
    Severity.severe,
    ("memory_underprovisioned_ratio",),
)
def executor_memory_underprovisioned(ctx: RuleContext) -> Iterator[Finding]:
    """Tasks failed with OutOfMemoryError, containers were killed for exceeding memory limits, or heap peaked
    at the allocation."""
    t = ctx.thresholds
    reasons = failure_counts(ctx)
    oom_tasks = sum(c for r, c in reasons.items() if r == "OOM" or r.endswith("MemoryLimitExceeded"))
    killed = [
        e for e in ctx.profile.executors if e.removed_reason and any(w in e.removed_reason for w in MEMORY_KILL_WORDS)
    ]
    allocated = parse_size(ctx.prop("spark.executor.memory"), "m")
    near = []
    if allocated:
        near = [
            e for e in ctx.profile.executors
            if e.peak_jvm_heap_bytes and e.executor_id != "driver"
            and e.peak_jvm_heap_bytes >= t.memory_underprovisioned_ratio * allocated
        ]
    if not oom_tasks and not killed and not near:
        return
    evidence = []
    if oom_tasks:
        evidence.append(ev("task attempts failed by OOM / memory limit", oom_tasks, "count", 1))
    if killed:
        evidence.append(ev("executors removed for memory", len(killed), "count", 1))
        evidence.append(ev("removal reason", (killed[0].removed_reason or "")[:160]))
    if near and allocated:
        evidence.append(ev("max peak JVM heap / spark.executor.memory",
                           max(e.peak_jvm_heap_bytes or 0 for e in near) / allocated, "share",
                           t.memory_underprovisioned_ratio))
    changes = []
    if allocated:
        changes.append(ctx.change("spark.executor.memory", f"{int(allocated * 1.5 / MiB)}m"))
    overhead = ctx.overhead_change()
    if overhead and (killed or any(r.endswith("MemoryLimitExceeded") for r in reasons)):
        changes.append(overhead)
    changes.append(ctx.change("spark.sql.shuffle.partitions", str(max(2 * (ctx.int_property("spark.sql.shuffle.partitions") or 200), 400))))
    yield ctx.finding(
        title="Executors ran out of memory"
        + (f": {count(oom_tasks, 'task attempt')} failed" if oom_tasks else "")
        + (f", {count(len(killed), 'executor')} killed" if killed else ""),
        evidence=evidence,
        recommendation=Recommendation(
            summary="Give each task more memory (more executor memory or overhead, fewer cores per executor) or "
            "less data (more partitions).",
            config_changes=changes,
        ),
        savings=Savings(method="The failed attempts and lost executors' work; see the failure findings for time."),
        doc_query="OutOfMemoryError executor memory overhead container killed exceeding memory limits",
        executor_ids=[e.executor_id for e in killed + near][:20],
        severity=Severity.severe if (oom_tasks or killed) else Severity.moderate,
    )
