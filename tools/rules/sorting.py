"""Global sorts: an orderBy (or repartitionByRange) computes its input twice, once to sample the range boundaries
and once to shuffle it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tools.eventlog.model import PlanNode, SqlExecution, StageProfile, executions_with_jobs
from tools.findings import Finding, Recommendation, Severity
from tools.redact import redact_text
from tools.rules.measure import EXPRESSION_ID, action_label, ev, run_time_ms, writes_shuffle
from tools.rules.passes import extra_pass_finding, listed
from tools.rules.registry import RuleContext, rule
from tools.units import count, human_duration, one_line

_RANGE = re.compile(r"rangepartitioning\((.*), (\d+)\)")
_ORDER = re.compile(r" (?:ASC|DESC) NULLS (?:FIRST|LAST)")
_EXCHANGES = ("Exchange", "BroadcastExchange", "ReusedExchange")


@dataclass(frozen=True)
class SamplePass:
    """A stage that computed a range exchange's input only to sample its sort keys (Spark's RangePartitioner)."""

    execution: SqlExecution
    exchange: PlanNode
    stage: StageProfile

    @property
    def keys(self) -> str:
        """The sort keys as written in the plan, without expression ids and null ordering."""
        found = _RANGE.search(self.exchange.description)
        text = found.group(1) if found else ""
        return one_line(redact_text(_ORDER.sub("", EXPRESSION_ID.sub("", text))), 60)


def sample_passes(ctx: RuleContext) -> list[SamplePass]:
    """Stages that computed the input of a range-partitioning exchange without writing it: the exchange's writing
    stage is the first to update its metrics; any other completed stage that updated the metrics of the operators
    below it (down to the next exchange) and wrote no shuffle ran them to sample the sort keys."""
    found = []
    for execution in executions_with_jobs(ctx.sql_executions):  # a job-less parent mirrors its nested execution
        for exchange in execution.nodes:
            if not (exchange.name == "Exchange" and _RANGE.search(exchange.description) and exchange.stage_ids):
                continue
            writer = exchange.stage_ids[0]
            # what the exchange's writing stage computes: the operators below it, down to the next exchange
            pipeline = execution.below(exchange, stop=_EXCHANGES)
            sampled = {s for node in pipeline for s in node.stage_ids} - set(exchange.stage_ids)
            for stage_id in sorted(sampled):
                stage = ctx.profile.stage(stage_id)
                if stage is not None and stage.status == "complete" and not writes_shuffle(stage) and stage_id < writer:
                    found.append(SamplePass(execution, exchange, stage))
    return found


@rule(
    "global_sort_sampling",
    "A global sort computed its input twice",
    "global_sort",
    Severity.low,
    ("sort_sample_min_ms",),
)
def global_sort_sampling(ctx: RuleContext) -> Iterator[Finding]:
    """An orderBy / sort / repartitionByRange ran its input once more before the shuffle, in a job of its own, only
    to sample the sort keys for the range boundaries: everything the sort's input needs (scans, joins, UDFs) was
    computed twice."""
    passes = sample_passes(ctx)
    wall_ms = float(sum(p.stage.duration_ms or 0 for p in passes))
    if not passes or wall_ms < ctx.thresholds.sort_sample_min_ms:
        return
    shown = listed([f"{action_label(p.execution.execution_id, p.execution.description)} sorting by {p.keys}: stage "
                    f"{p.stage.stage_id}, {human_duration(p.stage.duration_ms)}" for p in passes], "sampling stage")
    yield extra_pass_finding(
        ctx,
        title=f"{count(len(passes), 'global sort')} computed {'its' if len(passes) == 1 else 'their'} input twice, once "
        "only to sample the sort keys",
        kind="sampling",
        parts="sampling stages",
        counted=ev("sampling stages", len(passes), "count"),
        wall_ms=wall_ms,
        threshold=ctx.thresholds.sort_sample_min_ms,
        core_ms=sum(run_time_ms(p.stage) or 0.0 for p in passes),
        extra=[],
        recommendation=Recommendation(
            summary="A global sort (orderBy, sort, repartitionByRange) first runs its input to sample the sort keys for "
            "the range boundaries, then runs it again to shuffle it: avoid the total order where it is not needed, or "
            f"keep the input so the second pass reads it instead of computing it. The sampling stages: {shown}.",
            code_change="If each output file or partition only has to be sorted (clustered files for data skipping, a "
            "per-key order), replace orderBy(keys) with sortWithinPartitions(keys), after repartition(n, key) where "
            "rows of one key must be together: no sampling pass and no range shuffle. If the result must be totally "
            "ordered and its input is costly (joins, UDFs, wide scans), persist that input before the sort "
            "(df.persist(StorageLevel.DISK_ONLY)) and unpersist() after the write, so the sampling pass fills the "
            "cache and the shuffle reads it.",
        ),
        method="The sampling stages' wall and task time, which sortWithinPartitions avoids; persisting the input "
        "instead saves the same computation but adds writing the cache.",
        doc_query="orderBy global sort range partitioning sampling sortWithinPartitions repartitionByRange",
        stage_ids=sorted({p.stage.stage_id for p in passes}),
        sql_execution_ids=sorted({p.execution.execution_id for p in passes}),
    )
