"""Work recomputed across actions: several SQL executions running the same join or aggregation over the same inputs,
because nothing kept its result. Each action plans its query afresh and shares no shuffle with an earlier one, so
every action that reaches a DataFrame runs everything that built it again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tools.eventlog.model import (AGGREGATES, AQE_READS, PLAN_WRAPPERS, SCAN_OPERATORS, PlanNode, SqlExecution,
                                  executions_with_jobs)
from tools.findings import Finding, Recommendation, Savings, Severity
from tools.rules.measure import action_label, cached_subtree, ev, runs_label, stages_running_only, task_time_ms
from tools.rules.registry import RuleContext, rule
from tools.units import count, human_duration

_RUN_IDS = re.compile(r"#\d+L?\b|, \[plan_id=\d+\]")  # expression and plan ids, numbered afresh in every query
_PASSED = (*PLAN_WRAPPERS, *AQE_READS)  # operators whose place in a plan depends on how a run went, not on the query
_NAMED = (*AGGREGATES, "SortMergeJoin", "ShuffledHashJoin", "BroadcastHashJoin", "BroadcastNestedLoopJoin",
          "CartesianProduct", "Window", "Sort")  # the operators a recomputation is named by


@dataclass(frozen=True)
class Recomputed:
    """Operators a SQL execution ran again after an earlier one ran the same operators over the same inputs."""

    execution: SqlExecution
    first: int  # the execution that ran them first
    roots: list[PlanNode]  # the top operator of each part run again
    stage_ids: list[int]  # the execution's stages that ran nothing else

    def operators(self) -> list[str]:
        """The joins, aggregations, sorts and windows it ran again, by name, in plan order."""
        below = {n.node_id for root in self.roots for n in (root, *self.execution.below(root))}
        names = [n.name for n in self.execution.nodes if n.node_id in below and n.name.startswith(_NAMED)]
        return list(dict.fromkeys(names))


def _same_rows_each_read(leaf: PlanNode) -> bool:
    """Whether two reads described alike read the same rows: files and tables (by their location and filters) and
    ranges do; local data and RDDs (a Seq, a pandas frame, df.rdd) are described only by their columns."""
    if leaf.name == "Range":
        return True
    return leaf.name.startswith(SCAN_OPERATORS) and leaf.name != "Scan" and "ExistingRDD" not in leaf.name


class _Keys:
    """Plan operators numbered by what they compute: two nodes get the same number, in one query or in two, when they
    run the same operator (its description without run ids) over children of the same numbers, down to reads of the
    same data. Wrappers and AQE's shuffle reads take their child's number. A cache read is numbered by the plan
    cached under it, but is no shuffle: what the cache stored does not run again."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, tuple[int, ...]], int] = {}
        self.shuffles: set[int] = set()  # numbers of operators that run an Exchange (at or below them)

    def of(self, execution: SqlExecution) -> dict[int, int]:
        children = execution.children()
        keys: dict[int, int] = {}
        stack = [(n, False) for n in execution.nodes if n.parent_id is None]
        while stack:  # post-order without recursion: plans of loops can be thousands of operators deep
            node, ready = stack.pop()
            below = children.get(node.node_id, [])
            if not ready:
                stack.append((node, True))
                stack.extend((child, False) for child in below)
                continue
            if node.name.startswith(_PASSED) and len(below) == 1:
                keys[node.node_id] = keys[below[0].node_id]
                continue
            child_keys = tuple(keys[child.node_id] for child in below)
            # a read whose rows the log cannot tell apart matches nothing outside its own query
            unknown = "" if below or _same_rows_each_read(node) else f" @{execution.execution_id}"
            number = self._numbers.setdefault((_RUN_IDS.sub("", node.description) + unknown, child_keys),
                                              len(self._numbers))
            cache = node.name.startswith("InMemoryTableScan")
            if node.name.startswith("Exchange") or (not cache and any(k in self.shuffles for k in child_keys)):
                self.shuffles.add(number)
            keys[node.node_id] = number
        return keys


def recomputations(executions: list[SqlExecution]) -> list[Recomputed]:
    """For each SQL execution after the first, the largest parts of its plan with a shuffle that an earlier execution
    already ran, with the stages that ran only those parts (none: the parts ran inside stages doing other work)."""
    numbering, found = _Keys(), []
    seen: dict[int, int] = {}  # operator number -> the first execution that ran it
    for execution in executions_with_jobs(executions):
        keys, children = numbering.of(execution), execution.children()
        cached = cached_subtree(execution)
        roots: list[tuple[PlanNode, int]] = []
        stack = [n for n in execution.nodes if n.parent_id is None]
        while stack:
            node = stack.pop()
            key = keys.get(node.node_id)
            if key in seen and key in numbering.shuffles and not node.name.startswith(_PASSED):
                roots.append((node, seen[key]))
            elif not node.name.startswith("InMemoryTableScan"):
                stack.extend(children.get(node.node_id, []))
        for node in execution.nodes:
            if node.node_id in keys and node.node_id not in cached:
                seen.setdefault(keys[node.node_id], execution.execution_id)
        if roots:
            inside = {n.node_id for root, _ in roots for n in (root, *execution.below(root))}
            found.append(Recomputed(execution, min(first for _, first in roots), [root for root, _ in roots],
                                    stages_running_only(execution, inside)))
    return found


@dataclass(frozen=True)
class RecomputedWork:
    """What later SQL executions ran again of the work an earlier one ran first."""

    first: int
    later: list[Recomputed]
    stage_ids: list[int]
    task_ms: float


def reported_recomputations(ctx: RuleContext) -> list[RecomputedWork]:
    """The recomputations worth reporting, grouped by the execution that ran the work first (a loop's passes, each
    rerunning the one before, are one group): outside streaming (each micro-batch runs its own query), with at least
    the threshold of task time in stages that ran nothing else."""
    if ctx.profile.streaming:
        return []
    groups: dict[int, list[Recomputed]] = {}
    chain: dict[int, int] = {}  # execution -> the first of a chain (a loop's passes, each rerunning the pass before)
    for found in recomputations(ctx.sql_executions):
        chain[found.execution.execution_id] = chain.get(found.first, found.first)
        groups.setdefault(chain[found.execution.execution_id], []).append(found)
    reported = []
    for first, later in groups.items():
        stage_ids = sorted({s for r in later for s in r.stage_ids})
        task_ms = task_time_ms(ctx.profile.stages_of(stage_ids))
        if task_ms >= ctx.thresholds.recomputed_min_task_ms:
            reported.append(RecomputedWork(first, later, stage_ids, task_ms))
    return reported


def recomputed_nodes(ctx: RuleContext) -> set[tuple[int, int]]:
    """(execution id, node id) of every operator a reported recomputation ran again: its reads are this finding's."""
    return {(r.execution.execution_id, n.node_id) for work in reported_recomputations(ctx) for r in work.later
            for root in r.roots for n in (root, *r.execution.below(root))}


@rule(
    "shuffle_work_recomputed",
    "The same join or aggregation run again by later SQL executions",
    "caching",
    Severity.moderate,
    ("recomputed_min_task_ms",),
)
def shuffle_work_recomputed(ctx: RuleContext) -> Iterator[Finding]:
    """Later SQL executions ran a join, aggregation or sort over the same inputs as an earlier one: actions on a
    DataFrame that nothing kept (a count() before a write, then a check), or a loop extending a DataFrame with an
    action per pass, each rerunning every pass before it."""
    for work in reported_recomputations(ctx):
        first, later, task_ms = work.first, work.later, work.task_ms
        stages = ctx.profile.stages_of(work.stage_ids)
        operators = list(dict.fromkeys(name for r in later for name in r.operators()))
        named = ", ".join(operators) or "shuffle"
        runs = runs_label([r.execution for r in later])
        first_run = ctx.profile.sql_execution(first)
        loop = any(r.first != first for r in later)  # a pass rerunning a later pass: a DataFrame extended in a loop
        yield ctx.finding(
            title=f"{action_label(first, first_run.description if first_run else '')}: its {named} run again by "
            f"{count(len(later), 'later SQL execution')} ({human_duration(task_ms)} of task time)",
            evidence=[
                ev("SQL executions that ran the same operators again", len(later), "count"),
                ev("operators run again", named),
                ev("task time of the stages that ran them again", task_ms, "ms", ctx.thresholds.recomputed_min_task_ms),
            ],
            recommendation=Recommendation(
                summary=f"Each pass of a loop ran every pass before it again: {runs} each reran the {named} of the "
                f"passes before, from SQL {first} on. A DataFrame extended pass by pass keeps all of them in its "
                "plan, and each action runs that plan from the start." if loop else
                f"Keep the result these actions share: {runs} ran the {named} that SQL {first} ran, over the same "
                "inputs. Each action plans its query afresh and shares no shuffle with an earlier one, so every "
                "action on a DataFrame that nothing kept reruns everything that built it.",
                code_change="Cut the plan at each pass: df = df.localCheckpoint() after the pass's transformations "
                "(or checkpoint() with a checkpoint directory set, which survives a lost executor), or persist each "
                "pass's result and unpersist the one before; each action then runs one pass." if loop else
                "Persist the DataFrame the actions share, after its joins and aggregations: "
                "df.persist(StorageLevel.MEMORY_AND_DISK) before the first action and unpersist() after the last "
                "(or write it once and read the files back when it is large). Drop actions kept only to look at the "
                "data (a count() for a log line).",
            ),
            savings=Savings(
                core_ms=task_ms,
                wall_ms=ctx.spread(task_ms),
                method="The task time of the later executions' stages that ran nothing but operators run before "
                "(stages that also ran other work are left out); persisting costs one write of the result and a read "
                "per action, not counted.",
                code_change_only=True,
            ),
            doc_query="cache persist DataFrame reused by several actions recomputation lineage checkpoint",
            sql_execution_ids=[first, *(r.execution.execution_id for r in later)],
            stage_ids=[s.stage_id for s in stages],
        )
