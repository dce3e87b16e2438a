"""Spill: execution memory too small for the partitions, so sorts/aggregations/joins write to disk and read back."""

from __future__ import annotations

from collections.abc import Iterator

from tools.eventlog.model import StageProfile
from tools.findings import Finding, Recommendation, Savings, Severity
from tools.rules.expand import reported_expansions
from tools.rules.explode import reported_regroups
from tools.rules.measure import ev, metric, missed_input, processed_bytes
from tools.rules.partitions import partition_code_change, partition_changes
from tools.rules.registry import RuleContext, rule
from tools.rules.repartition import reported_reshuffles, reshuffle_code
from tools.rules.single_partition import single_partition_exchange
from tools.units import human_size

SPILL_COVERED_SHARE = 0.8  # the executor finding stays silent when stage findings report this share of the spill


def spill_recommendation(ctx: RuleContext, stage: StageProfile | None) -> Recommendation:
    """Four times the partitions of the spilling stage first (through the setting that decides its task count);
    more execution memory per task second (the heap tasks run in: the driver's in local mode)."""
    changes, code = [], None
    if stage is not None and stage.num_tasks:
        target = stage.num_tasks * 4
        changes = partition_changes(ctx, stage, target)
        code = partition_code_change(ctx, stage, target)
    fraction = ctx.float_property("spark.memory.fraction")
    if fraction is not None and fraction < 0.6:
        changes.append(ctx.change("spark.memory.fraction", "0.6"))
    memory = ctx.task_heap_bytes()
    if memory is not None:
        changes.append(ctx.change(ctx.heap_key, f"{int(memory * 1.5 / 2**20)}m"))
    one_task = stage is not None and single_partition_exchange(ctx, stage) is not None
    copied = None if stage is None else next(
        (x for x in reported_expansions(ctx) if stage.stage_id in {s.stage_id for s in x.stages}), None)
    regrouped = None if stage is None or copied is not None else next(
        (x for x in reported_regroups(ctx) if stage.stage_id in {s.stage_id for s in x.stages + x.final_stages}),
        None)
    # a repartition's own write spilled: it wrote the stage's shuffle and no plan operator of the stage spilled
    reshuffled = None if stage is None or copied is not None or regrouped is not None else next(
        (x for x in reported_reshuffles(ctx) if stage.stage_id in {s.stage_id for s in x.writers}
         and spilling_operators(ctx, stage) is None), None)
    if one_task:
        summary = ("The query sends every row of this stage to one task, which no partition setting splits: change the "
                   "code (below); until then only more execution memory keeps it from spilling.")
    elif copied is not None:
        summary = (f"This stage aggregates rows an Expand copied {copied.copies:.0f} times ({copied.what}, SQL "
                   f"{copied.execution.execution_id}): aggregating without the copies (the finding on that query) "
                   "shrinks what spills; until then, give each task less data (more partitions) or more execution "
                   "memory.")
    elif regrouped is not None:
        summary = (f"This stage aggregates the rows of an array exploded and grouped back by its row (SQL "
                   f"{regrouped.execution.execution_id}): computing within each row (the finding on that query) "
                   "leaves nothing here to spill; until then, give each task less data (more partitions) or more "
                   "execution memory.")
    elif reshuffled is not None:
        summary = (f"This stage writes the rows of {reshuffled.repartition} (SQL {reshuffled.execution.execution_id})"
                   + (", sorting each task's rows first (a round-robin repartition does, so that a retried task "
                      "sends every row to the same partition)" if reshuffled.round_robin else "")
                   + ": dropping the repartition (the finding on that query) leaves nothing here to spill; until "
                   "then, give each task less data (more partitions) or more execution memory.")
        code = reshuffle_code(reshuffled)
    else:
        summary = "Give each task less data (more partitions) or more execution memory so it fits without spilling."
    return Recommendation(
        summary=summary,
        config_changes=changes,
        code_change=code or "Repartition before the wide sort/aggregation, or drop unused columns before it.",
    )


def spilling_operators(ctx: RuleContext, stage: StageProfile) -> str | None:
    """'Sort 384.0 MiB, Sort 144.0 MiB': the operators of the stage whose SQL metric 'spill size' (the in-memory size
    of what they spilled) is set, largest first; None when no operator says (RDD stages, older logs)."""
    spilled = sorted(((metric(n, "spill size") or 0.0, n.name) for n in ctx.profile.stage_nodes(stage.stage_id)),
                     reverse=True)
    shown = [f"{name} {human_size(size)}" for size, name in spilled if size > 0]
    return ", ".join(shown) if shown else None


def reported_spill_ratio(ctx: RuleContext, stage: StageProfile) -> float | None:
    """Spill / bytes processed of a stage that spilled enough to be reported on its own, else None."""
    t = ctx.thresholds
    disk = stage.metrics.disk_bytes_spilled
    if disk is None or disk.sum < t.spill_min_bytes:
        return None
    processed = processed_bytes(ctx.profile, stage)
    ratio = disk.sum / processed if processed else t.spill.severe  # nothing read: judge by size alone
    return ratio if ratio >= t.spill.moderate else None


def spill_savings(ctx: RuleContext, spilled: float, slots: int) -> Savings:
    """Writing and re-reading `spilled` bytes at the assumed disk throughput, over `slots` parallel task slots."""
    io_ms = 2 * spilled / ctx.thresholds.spill_disk_bytes_per_s * 1000
    return Savings(core_ms=io_ms, wall_ms=io_ms / slots,
                   method="Writing and re-reading the spilled bytes at the assumed disk throughput, spread over the "
                   "parallel task slots.")


@rule(
    "stage_spill",
    "Stage spills to disk",
    "spill",
    Severity.moderate,
    ("spill", "spill_min_bytes", "spill_disk_bytes_per_s"),
)
def stage_spill(ctx: RuleContext) -> Iterator[Finding]:
    """A stage's tasks wrote a large share of the data they processed to disk as spill."""
    t = ctx.thresholds
    for stage in ctx.completed_stages:
        ratio = reported_spill_ratio(ctx, stage)
        if ratio is None:
            continue
        disk = stage.metrics.disk_bytes_spilled
        assert disk is not None
        processed = processed_bytes(ctx.profile, stage)
        memory = stage.metrics.memory_bytes_spilled
        evidence = [
            ev("disk bytes spilled", disk.sum, "bytes", t.spill_min_bytes, stage.stage_id),
            ev("spill / bytes processed", ratio if processed else "no input measured", "ratio", t.spill.moderate, stage.stage_id),
            ev("largest spill of one task", disk.max, "bytes", stage_id=stage.stage_id),
        ]
        if processed is not None:
            evidence.append(ev("bytes processed (input + shuffle read)", processed, "bytes", stage_id=stage.stage_id))
            evidence += missed_input(ctx.profile, [stage])
        if memory is not None:
            evidence.append(ev("memory bytes spilled", memory.sum, "bytes", stage_id=stage.stage_id))
        operators = spilling_operators(ctx, stage)
        if operators:
            evidence.append(ev("operators that spilled (in-memory size)", operators, "", stage_id=stage.stage_id))
        yield ctx.finding(
            title=f"Stage {stage.stage_id} spilled {human_size(disk.sum)} to disk ({ratio:.1f}x of its input)"
            if processed
            else f"Stage {stage.stage_id} spilled {human_size(disk.sum)} to disk",
            evidence=evidence,
            recommendation=spill_recommendation(ctx, stage),
            savings=spill_savings(ctx, disk.sum, max(min(ctx.total_cores or 1, disk.count), 1)),
            doc_query="spill memory execution spark.sql.shuffle.partitions spark.memory.fraction",
            severity=t.spill.severity(ratio, Severity.moderate),
            stage_ids=[stage.stage_id],
        )


@rule(
    "executor_spill",
    "Executors spill to disk",
    "spill",
    Severity.moderate,
    ("spill_executor_fraction", "spill_min_bytes", "spill", "spill_disk_bytes_per_s"),
)
def executor_spill(ctx: RuleContext) -> Iterator[Finding]:
    """A large fraction of executors spilled, each a sizeable share of the bytes it processed, over stages that
    are not reported one by one (no single stage spilled enough): executor memory is the lever, not one stage's
    partitions. Spill that the stage findings already cover is not reported again."""
    t = ctx.thresholds
    executors = ctx.profile.executors
    if not executors:
        return
    spilling = [
        e
        for e in executors
        if e.disk_bytes_spilled >= t.spill_min_bytes
        and e.disk_bytes_spilled >= t.spill.moderate * (e.input_bytes + e.shuffle_read_bytes)
    ]
    fraction = len(spilling) / len(executors)
    if not spilling or fraction < t.spill_executor_fraction:
        return
    stage_spills = [(s, s.metrics.disk_bytes_spilled.sum) for s in ctx.completed_stages
                    if s.metrics.disk_bytes_spilled and s.metrics.disk_bytes_spilled.sum > 0]
    reported = sum(spill for stage, spill in stage_spills if reported_spill_ratio(ctx, stage) is not None)
    if not stage_spills or reported >= SPILL_COVERED_SHARE * sum(spill for _, spill in stage_spills):
        return  # the stage findings carry it, with the stage's own partition fix
    total = sum(e.disk_bytes_spilled for e in spilling)
    yield ctx.finding(
        title=f"{len(spilling)} of {len(executors)} executors spilled {human_size(total)} to disk over "
        f"{len(stage_spills)} stages",
        evidence=[
            ev("fraction of executors spilling", fraction, "share", t.spill_executor_fraction),
            ev("disk bytes spilled on those executors", total, "bytes", t.spill_min_bytes),
            ev("largest executor spill", max(e.disk_bytes_spilled for e in spilling), "bytes"),
            ev("stages that spilled", len(stage_spills), "count"),
            ev("largest spill of one stage", max(spill for _, spill in stage_spills), "bytes", t.spill_min_bytes),
        ],
        recommendation=spill_recommendation(ctx, None),
        savings=spill_savings(ctx, total, max(ctx.total_cores or 1, 1)),
        doc_query="executor memory spill spark.executor.memory spark.memory.fraction",
        executor_ids=[e.executor_id for e in spilling][:20],
    )
