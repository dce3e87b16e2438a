"""Shuffle volume: shuffles much larger than the input, and tasks waiting on shuffle fetches."""

from __future__ import annotations

from collections.abc import Iterator

from tools.findings import Finding, Recommendation, Savings, Severity
from tools.rules.measure import ev, missed_input
from tools.rules.registry import RuleContext, rule
from tools.units import human_share, human_size


@rule(
    "shuffle_heavy",
    "Shuffle much larger than the input",
    "shuffle_heavy",
    Severity.moderate,
    ("shuffle_to_input_ratio", "shuffle_min_bytes"),
)
def shuffle_heavy(ctx: RuleContext) -> Iterator[Finding]:
    """The application shuffled several times the bytes it read: wide rows, exploding joins, or repeated
    repartitioning."""
    t = ctx.thresholds
    written = [s.metrics.shuffle_write_bytes.sum for s in ctx.completed_stages if s.metrics.shuffle_write_bytes]
    read = [x for s in ctx.completed_stages if (x := ctx.profile.input_bytes(s)) is not None]
    if not written or not read:
        return
    shuffle, input_bytes = sum(written), sum(read)
    if shuffle < t.shuffle_min_bytes or shuffle < t.shuffle_to_input_ratio * max(input_bytes, 1.0):
        return
    write_ms = sum(
        s.metrics.shuffle_write_time_ms.sum for s in ctx.completed_stages if s.metrics.shuffle_write_time_ms
    )
    fetch_ms = sum(s.metrics.shuffle_fetch_wait_ms.sum for s in ctx.completed_stages if s.metrics.shuffle_fetch_wait_ms)
    top = sorted(
        (s for s in ctx.completed_stages if s.metrics.shuffle_write_bytes),
        key=lambda s: -(s.metrics.shuffle_write_bytes.sum if s.metrics.shuffle_write_bytes else 0),
    )[:5]
    yield ctx.finding(
        title=f"Shuffled {human_size(shuffle)} for {human_size(input_bytes)} of input",
        evidence=[
            ev("shuffle write / input", shuffle / max(input_bytes, 1.0), "ratio", t.shuffle_to_input_ratio),
            ev("shuffle bytes written", shuffle, "bytes", t.shuffle_min_bytes),
            ev("input bytes", input_bytes, "bytes"),
            *missed_input(ctx.profile, ctx.completed_stages),
        ]
        + [ev("stage shuffle bytes written", s.metrics.shuffle_write_bytes.sum, "bytes", stage_id=s.stage_id)
           for s in top if s.metrics.shuffle_write_bytes],
        recommendation=Recommendation(
            summary="Shuffle less: project and filter before wide operations, avoid repeated repartitioning, "
            "broadcast small join sides, and compress shuffle data.",
            config_changes=[ctx.change("spark.shuffle.compress", "true")]
            if not ctx.bool_property("spark.shuffle.compress", True)
            else [],
            code_change="select() only needed columns before joins/groupBy; pre-aggregate before joining; drop "
            "redundant repartition() calls.",
        ),
        savings=Savings(
            core_ms=(write_ms + fetch_ms) * 0.5,
            method="Half the measured shuffle write and fetch-wait time.",
        ),
        doc_query="reduce shuffle size column pruning repartition shuffle compression",
        stage_ids=[s.stage_id for s in top],
    )


@rule(
    "shuffle_fetch_wait",
    "Tasks waiting on shuffle fetches",
    "shuffle_heavy",
    Severity.moderate,
    ("shuffle_fetch_wait_ratio", "shuffle_fetch_wait_min_ms"),
)
def shuffle_fetch_wait(ctx: RuleContext) -> Iterator[Finding]:
    """Reduce tasks spent a large share of their run time blocked fetching shuffle blocks (network, disks or
    an overloaded shuffle service)."""
    t = ctx.thresholds
    for stage in ctx.completed_stages:
        wait, run = stage.metrics.shuffle_fetch_wait_ms, stage.metrics.executor_run_time_ms
        if wait is None or run is None or run.sum <= 0 or wait.sum < t.shuffle_fetch_wait_min_ms:
            continue
        ratio = wait.sum / run.sum
        if ratio < t.shuffle_fetch_wait_ratio:
            continue
        yield ctx.finding(
            title=f"Stage {stage.stage_id}: tasks waited {human_share(ratio)} of their run time on shuffle fetches",
            evidence=[
                ev("fetch wait / run time", ratio, "share", t.shuffle_fetch_wait_ratio, stage.stage_id),
                ev("fetch wait time", wait.sum, "ms", t.shuffle_fetch_wait_min_ms, stage.stage_id),
            ],
            recommendation=Recommendation(
                summary="Fetch more in parallel and reduce the bytes fetched.",
                config_changes=[
                    ctx.change("spark.reducer.maxSizeInFlight", "96m"),
                    ctx.change("spark.shuffle.io.numConnectionsPerPeer", "3"),
                ],
                code_change="Shuffle less (see the shuffle-volume findings).",
            ),
            savings=Savings(
                core_ms=wait.sum * 0.5,
                wall_ms=wait.max * 0.5,
                method="Half the measured fetch-wait time of the stage's tasks.",
            ),
            doc_query="shuffle fetch wait time spark.reducer.maxSizeInFlight network",
            stage_ids=[stage.stage_id],
        )
