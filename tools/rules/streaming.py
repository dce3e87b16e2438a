"""Structured-streaming queries: stopped with an error, processing slower than the input arrives, large state in
executor heaps.

The checks themselves live with the rest of the streaming advice (`tools.sources.streaming`, also behind
`copilot streaming`); here they run as rules so `analyze` reports them with everything else. `analyze` judges
a query by its rates only: batches that run back to back (which `copilot streaming` also flags as tuning
advice) are what the default trigger does by design, and the trigger is not in the log.
"""

from __future__ import annotations

from collections.abc import Iterator

from tools.findings import Finding, Severity
from tools.rules.registry import RuleContext, rule
from tools.sources.streaming import StreamingThresholds, failed_query, falling_behind, large_state


def _thresholds(ctx: RuleContext) -> StreamingThresholds:
    return StreamingThresholds.from_rules(ctx.thresholds, busy_ratio=None)


@rule("streaming_query_failed", "Streaming query stopped with an error", "streaming", Severity.severe)
def streaming_query_failed(ctx: RuleContext) -> Iterator[Finding]:
    """A structured-streaming query's log ends with the error it stopped on: its output stops until it is restarted."""
    for query in ctx.profile.streaming:
        if (finding := failed_query(query)) is not None:
            yield finding


@rule(
    "streaming_falling_behind",
    "Streaming query slower than its input",
    "streaming",
    Severity.moderate,
    ("streaming_falling_behind_ratio", "streaming_min_batches"),
)
def streaming_falling_behind(ctx: RuleContext) -> Iterator[Finding]:
    """A structured-streaming query processed fewer rows per second than arrived: its backlog and latency grow."""
    t = _thresholds(ctx)
    for query in ctx.profile.streaming:
        if (finding := falling_behind(query, t, ctx.total_cores, {})) is not None:
            yield finding


@rule(
    "streaming_large_state",
    "Large streaming state in executor memory",
    "memory_underprovisioned",
    Severity.moderate,
    ("streaming_state_memory_bytes",),
)
def streaming_large_state(ctx: RuleContext) -> Iterator[Finding]:
    """A stateful streaming query keeps more state in executor heaps than the threshold, without RocksDB."""
    t = _thresholds(ctx)
    for query in ctx.profile.streaming:
        if (finding := large_state(query, ctx.profile, t)) is not None:
            yield finding
