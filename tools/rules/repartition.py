"""A repartition the next shuffle undoes: `df.repartition(64).groupBy("customer")` shuffles every row once for the
repartition and again (after the partial aggregation) by the aggregation's key. The first shuffle only pays when
the step between the two is heavy and ran in fewer tasks than cores without it; otherwise dropping it lets the
partial aggregation (or the filter) run in the tasks that read the input."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tools.eventlog.model import (AGGREGATES, AQE_READS, PLAN_WRAPPERS, SHUFFLED_JOINS, PlanNode, SqlExecution,
                                  StageProfile, base_operator, executions_with_jobs)
from tools.findings import Finding, Recommendation, Severity
from tools.redact import redact_text
from tools.rules.join_plan import AGGREGATION_BUILD, aggregation_keys, top_level_split
from tools.rules.measure import EXPRESSION_ID, ev, metric, task_time_ms
from tools.rules.passes import query_change_finding
from tools.rules.registry import RuleContext, rule
from tools.units import human_number

# "Exchange RoundRobinPartitioning(64), REPARTITION_BY_NUM, [plan_id=64]", "Exchange hashpartitioning(k#1L, 8),
# ENSURE_REQUIREMENTS, [plan_id=92]": the partitioning (its arguments may hold parentheses), and the origin Spark
# 3.2+ prints (3.0 printed whether the partition count may change, "true" or "false", in its place)
_EXCHANGE = re.compile(r"^Exchange (?P<partitioning>\w+)\((?P<args>[^\n]*)\)(?:, (?P<origin>[A-Z_]+)|, (?:true|false))?"
                       r"(?:, \[[^\]]*\])?$", re.MULTILINE)
# a repartition the user asked for: by number or by columns (Spark 3.0-3.1 named them REPARTITION and
# REPARTITION_WITH_NUM); a round-robin partitioning is one on every version (rebalance hints name their origin)
_USER_ORIGINS = ("REPARTITION_BY_NUM", "REPARTITION_BY_COL", "REPARTITION", "REPARTITION_WITH_NUM")
# between the two exchanges: operators that keep each row where it is and cost little
_NARROW = (*PLAN_WRAPPERS, *AQE_READS, "Project", "Filter", "Sort")
_ORDER = re.compile(r" (?:ASC|DESC) NULLS (?:FIRST|LAST)$")
_CONSUMERS = {**dict.fromkeys(AGGREGATES, "aggregation"), **dict.fromkeys(SHUFFLED_JOINS, "join"),
              "Window": "window"}


@dataclass(frozen=True)
class Reshuffle:
    """A user's repartition whose rows the next exchange shuffles again."""

    execution: SqlExecution
    repartition: str  # 'repartition(64)', 'repartition(8, k)'
    rows: float  # rows the repartition shuffled
    next_rows: float | None  # rows the next exchange shuffled (after a partial aggregation, fewer)
    next_keys: str  # what the next exchange partitions by, expression ids left out
    consumer: str  # what needed the next exchange: 'aggregation', 'join', ...
    partial: PlanNode | None  # a partial aggregation between the two exchanges
    writers: list[StageProfile]  # the completed stages that wrote the repartition's shuffle
    readers: list[StageProfile]  # those that read it and wrote the next exchange's
    writer_pipeline_ms: float | None  # the code-generated pipeline under the repartition (its own work)
    round_robin: bool  # repartition(n): each writing task sorts its rows first (sortBeforeRepartition)

    @property
    def removed_ms(self) -> float:
        """Task time that dropping the repartition saves, a floor: the writers' time beyond the pipeline that feeds
        the repartition (the exchange's sort, spill and write; its shuffle write time where the pipeline's time is
        unknown), and the readers' time beyond the partial aggregation's build time (the work that moves into the
        writers; code-generated, its metric holds the shuffle read too, so this stays a floor)."""
        written = task_time_ms(self.writers)
        if self.writer_pipeline_ms is not None:
            writer_extra = max(written - self.writer_pipeline_ms, 0.0)
        else:
            writer_extra = sum(s.metrics.shuffle_write_time_ms.sum
                               for s in self.writers if s.metrics.shuffle_write_time_ms)
        build = metric(self.partial, AGGREGATION_BUILD) if self.partial is not None else None
        return writer_extra + max(task_time_ms(self.readers) - (build or 0.0), 0.0)


def _columns(keys: list[str]) -> str:
    """'customer, day' from a partitioning's keys, expression ids and a range's sort order left out."""
    return ", ".join(_ORDER.sub("", EXPRESSION_ID.sub("", key)) for key in keys)


def _repartition_call(match: re.Match[str]) -> str | None:
    """'repartition(64)' / 'repartition(8, k)' / 'repartition(k)' for a user repartition's exchange, else None."""
    partitioning, origin = match["partitioning"], match["origin"]
    if partitioning == "RoundRobinPartitioning" and origin in (None, *_USER_ORIGINS):
        return f"repartition({match['args']})"  # no origin printed (older Spark): only a repartition
    if origin not in _USER_ORIGINS or partitioning not in ("hashpartitioning", "rangepartitioning"):
        return None
    *keys, number = top_level_split(match["args"])
    columns = _columns(keys)
    call = "repartitionByRange" if partitioning == "rangepartitioning" else "repartition"
    by_number = origin in ("REPARTITION_BY_NUM", "REPARTITION_WITH_NUM")
    return f"{call}({number}, {columns})" if by_number else f"{call}({columns})"


def _next_exchange(execution: SqlExecution, node: PlanNode) -> tuple[PlanNode | None, PlanNode | None]:
    """The exchange that takes `node`'s rows next through narrow operators and at most one partial aggregation (one
    whose keys the exchange partitions by: a final aggregation needs no exchange of its own), and that aggregation."""
    partial = None
    while (parent := execution.above(node, skip=_NARROW)) is not None:
        if parent.name == "Exchange":
            return parent, partial
        keys = aggregation_keys(parent) if parent.name.startswith(AGGREGATES) else None
        above = execution.above(parent, skip=_NARROW)
        hashed = _EXCHANGE.match(above.description) if above is not None and above.name == "Exchange" else None
        if partial is not None or keys is None or hashed is None or hashed["partitioning"] != "hashpartitioning":
            return None, None
        if keys != top_level_split(hashed["args"])[:-1]:
            return None, None
        partial, node = parent, parent
    return None, None


def _consumer(execution: SqlExecution, exchange: PlanNode, match: re.Match[str]) -> str:
    """What needed `exchange` in plain words: 'sort' for a range partitioning, else the operator it feeds."""
    if match["partitioning"] == "rangepartitioning":
        return "sort"
    above = execution.above(exchange, skip=_NARROW)
    return _CONSUMERS.get(base_operator(above.name), "next operator") if above is not None else "next operator"


def reshuffles(ctx: RuleContext) -> list[Reshuffle]:
    """Every user repartition (in executions that ran jobs) whose rows another exchange shuffles next, where the
    stages that wrote it ran in at least as many tasks as cores (or as the stages after it): no parallelism gained."""
    found = []
    for execution in executions_with_jobs(ctx.sql_executions):
        children = execution.children()
        for node in execution.nodes:
            match = _EXCHANGE.match(node.description) if node.name == "Exchange" else None
            call = _repartition_call(match) if match else None
            if call is None:
                continue
            upper, partial = _next_exchange(execution, node)
            upper_match = _EXCHANGE.match(upper.description) if upper is not None else None
            rows = metric(node, "shuffle records written", "records read")
            if upper is None or upper_match is None or not rows:
                continue
            writers = ctx.completed([s for s in node.stage_ids if s not in upper.stage_ids])
            readers = ctx.completed([s for s in node.stage_ids if s in upper.stage_ids])
            slots = min(ctx.total_cores or 0, sum(s.num_tasks for s in readers))
            if not writers or not slots or sum(s.num_tasks for s in writers) < slots:
                continue
            pipeline = next((n for n in children.get(node.node_id, []) if n.name.startswith("WholeStageCodegen")), None)
            *keys, _ = top_level_split(upper_match["args"])
            found.append(Reshuffle(
                execution, call, rows, metric(upper, "shuffle records written", "records read"), _columns(keys),
                _consumer(execution, upper, upper_match), partial, writers, readers,
                metric(pipeline, "duration") if pipeline else None, match["partitioning"] == "RoundRobinPartitioning"))
    return found


def reported_reshuffles(ctx: RuleContext) -> list[Reshuffle]:
    """The reshuffles worth a finding: the floor of task time saved reaches the threshold."""
    return [x for x in reshuffles(ctx) if x.removed_ms >= ctx.thresholds.repartition_min_task_ms]


def reshuffle_code(found: Reshuffle) -> str:
    """Drop the repartition; how to size the next shuffle instead, and when a repartition does pay."""
    after = f"the {found.consumer}'s shuffle by {found.next_keys}"
    moved = ("the partial aggregation then runs in the tasks that read the input, and only its rows are shuffled"
             if found.partial is not None else "the rows are then shuffled once")
    return redact_text(
        f"Drop .{found.repartition} before {after}: {moved}. To set how many tasks read {after}, use the "
        "setting for shuffle partitions (or AQE's partition size), not a shuffle of its own. Keep a repartition "
        "only where the input arrives in fewer partitions than cores and the step before the next shuffle is "
        "heavy; then repartition by that shuffle's key, which the next step reuses instead of shuffling again.")


@rule(
    "repartition_reshuffled",
    "A repartition the next shuffle undoes",
    "shuffle_heavy",
    Severity.moderate,
    ("repartition_min_task_ms",),
)
def repartition_reshuffled(ctx: RuleContext) -> Iterator[Finding]:
    """A repartition the user asked for (repartition(n), repartition(col)) whose rows the next exchange shuffles again
    by another key, with only narrow operators (and a partial aggregation) between: one full shuffle that buys no
    parallelism, since the stages before it already ran in as many tasks as cores."""
    floor = ctx.thresholds.repartition_min_task_ms
    for found in reported_reshuffles(ctx):
        stages = found.writers + found.readers
        evidence = [
            ev(f"rows shuffled by {found.repartition}", found.rows, "count"),
            ev("tasks that wrote them", sum(s.num_tasks for s in found.writers), "count"),
            ev("task slots", ctx.total_cores, "count"),
        ]
        if found.next_rows is not None:
            evidence.append(ev(f"rows the {found.consumer}'s shuffle by {found.next_keys} moved next", found.next_rows,
                               "count"))
        evidence += [
            ev("task time of the stages around the repartition", task_time_ms(stages), "ms"),
            ev("task time dropping the repartition saves", found.removed_ms, "ms", floor),
        ]
        yield query_change_finding(
            ctx, found.execution, stages,
            title=f"{found.repartition} shuffles {human_number(found.rows)} rows just before the {found.consumer}'s "
            f"shuffle by {found.next_keys}",
            evidence=evidence,
            recommendation=Recommendation(
                summary=(f"{found.repartition} shuffles every row once just before the {found.consumer}'s own "
                         f"shuffle by {found.next_keys}; the stages before it already ran in as many tasks as there "
                         "are cores, so it spreads nothing" + (", and the partial aggregation waits for it instead "
                         "of running in the tasks that read the input" if found.partial is not None else "")
                         + ". Remove it."),
                code_change=reshuffle_code(found),
            ),
            saved_ms=found.removed_ms,
            method="A floor: the time the stages writing the repartition spent beyond the pipeline feeding it (its "
                   "sort, spill and shuffle write), and the time of the stages reading it beyond the partial "
                   "aggregation that moves into the first ones.",
            doc_query="repartition shuffle partitions coalesce narrow dependency",
        )
