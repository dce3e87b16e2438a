"""Arrays exploded and grouped back by their own row: `explode(items)` followed by `groupBy(order_id)` (or any
generator whose carried columns hold every grouping key) hashes, and shuffles, one row per element to rebuild
groups each input row already was. The higher-order array functions compute the same per-row result without the
element rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tools.eventlog.model import (AGGREGATES, AQE_READS, PLAN_WRAPPERS, PlanNode, SqlExecution, StageProfile,
                                  executions_with_jobs)
from tools.findings import Finding, Recommendation, Severity
from tools.redact import redact_text
from tools.rules.join_plan import AGGREGATION_BUILD, aggregation_keys, input_rows, top_level_split
from tools.rules.measure import EXPRESSION_ID, ev, metric, task_time_ms
from tools.rules.passes import query_change_finding
from tools.rules.registry import RuleContext, rule
from tools.units import human_number, one_line

# "Generate explode(items#7), [order_id#6L], false, [item#9]": the generator, the input columns each element row
# carries, outer, the element's columns
_GENERATE = re.compile(r"^Generate (?P<generator>\w+)\((?P<array>.*)\), \[(?P<carried>[^\]]*)\], (?:true|false), "
                       r"\[[^\]]*\]$", re.DOTALL)
_BETWEEN = (*PLAN_WRAPPERS, "Project", "Filter")  # between the generator and the aggregation
_SHUFFLE_READ = (*PLAN_WRAPPERS, *AQE_READS)  # between the exchange and the final one


@dataclass(frozen=True)
class Regroup:
    """A generator whose element rows an aggregation groups by columns of the row they came from."""

    execution: SqlExecution
    generator: str  # explode, posexplode, inline, ...
    array: str  # what it exploded (an array or map column, or an expression), expression ids left out
    keys: list[str]  # the grouping keys, expression ids left out
    rows_in: float
    rows_out: float
    partial: PlanNode  # the aggregation over the element rows
    stages: list[StageProfile]  # the completed stages that ran the generator and the partial aggregation
    final_stages: list[StageProfile]  # those that read the partial aggregation's shuffle and finished the groups

    @property
    def per_row(self) -> float:
        return self.rows_out / self.rows_in

    @property
    def removed_ms(self) -> float:
        """Task time the per-row functions do not spend: the final aggregation's stages and the shuffle write into
        them, and the partial aggregation's build time where it is its own (not code-generated into the
        generator's pipeline, whose whole time its metric would hold)."""
        final = task_time_ms(self.final_stages)
        written = sum(s.metrics.shuffle_write_time_ms.sum for s in self.stages if s.metrics.shuffle_write_time_ms)
        own = self.execution.above(self.partial)
        generated = own is not None and own.name.startswith("WholeStageCodegen")
        build = 0.0 if generated else metric(self.partial, AGGREGATION_BUILD)
        return final + written + (build or 0.0)


def regroups(ctx: RuleContext) -> list[Regroup]:
    """Every generator (in executions that ran jobs) whose rows an aggregation groups by carried columns only."""
    found = []
    for execution in executions_with_jobs(ctx.sql_executions):
        children = execution.children()
        for node in execution.nodes:
            match = _GENERATE.match(node.description) if node.name == "Generate" else None
            partial = execution.above(node, skip=_BETWEEN) if match else None
            if match is None or partial is None or not partial.name.startswith(AGGREGATES):
                continue
            keys, carried = aggregation_keys(partial), set(top_level_split(match["carried"]))
            rows_in = input_rows(children, node)
            rows_out = metric(node, "number of output rows")
            if not keys or not set(keys) <= carried or not rows_in or not rows_out:
                continue
            exchange = execution.above(partial, skip=PLAN_WRAPPERS)
            final = execution.above(exchange, skip=_SHUFFLE_READ) if exchange and exchange.name == "Exchange" else None
            final_ids = final.stage_ids if final is not None and final.name.startswith(AGGREGATES) else []
            found.append(Regroup(execution, match["generator"], one_line(EXPRESSION_ID.sub("", match["array"]), 60),
                                 [EXPRESSION_ID.sub("", k) for k in keys], rows_in, rows_out, partial,
                                 ctx.completed([*node.stage_ids, *partial.stage_ids]), ctx.completed(final_ids)))
    return found


def reported_regroups(ctx: RuleContext) -> list[Regroup]:
    """The regroups worth a finding: at least two element rows per input row, and the floor of task time saved."""
    return [x for x in regroups(ctx) if x.per_row >= 2 and x.removed_ms >= ctx.thresholds.explode_min_task_ms]


def _code(found: Regroup) -> str:
    """The higher-order functions that replace the regrouping: transform / filter when it rebuilds an array
    (collect_list, collect_set), aggregate / filter for totals and counts."""
    array = found.array
    if re.search(r"collect_(?:list|set)\(", found.partial.description):
        lead = (f"Build the new array within the row: transform(filter({array}, lambda x: <keep>), lambda x: <new "
                "element>) instead of explode, filter and collect_list (which, after a shuffle, does not even keep "
                "the elements' order).")
    else:
        lead = (f"Compute within the row: aggregate({array}, lit(0), lambda total, x: total + <value of x>) for a "
                f"sum (cast the start to the sum's type), size(filter({array}, lambda x: <condition>)) for a count.")
    return (f"{lead} The higher-order array functions (transform, filter, aggregate, exists, forall; array_max, "
            "array_min, array_distinct) run per row: no element rows, no shuffle. Where the key repeats over rows, "
            "group the per-row results afterwards, one row each instead of one per element.")


@rule(
    "exploded_rows_regrouped",
    "Exploded arrays grouped back by their own row",
    "aggregate_expansion",
    Severity.moderate,
    ("explode_min_task_ms",),
)
def exploded_rows_regrouped(ctx: RuleContext) -> Iterator[Finding]:
    """An array was exploded into one row per element and the element rows were grouped back by columns of the row
    they came from: hash aggregation (and a shuffle) over every element to rebuild what each row already was."""
    floor = ctx.thresholds.explode_min_task_ms
    for found in reported_regroups(ctx):
        keys, stages = ", ".join(found.keys), found.stages + found.final_stages
        evidence = [
            ev(f"rows into {found.generator}", found.rows_in, "count"),
            ev(f"rows out of {found.generator}", found.rows_out, "count"),
            ev("element rows per input row", found.per_row, "ratio", 2.0),
            ev("grouping keys, carried from the exploded row", keys, ""),
            ev("task time of the stages that regroup them", task_time_ms(stages), "ms"),
            ev("task time the per-row functions do not spend", found.removed_ms, "ms", floor),
        ]
        kept = metric(found.partial, "number of output rows")
        if kept is not None:
            evidence.append(ev("rows the partial aggregation kept", kept, "count"))
        yield query_change_finding(
            ctx, found.execution, stages,
            title=f"{human_number(found.rows_in)} rows exploded into {human_number(found.rows_out)} and grouped back "
            f"by {keys}",
            evidence=evidence,
            recommendation=Recommendation(
                summary=(f"The query explodes each row's array and groups the element rows back by the row's own "
                         f"columns ({keys}): the {human_number(found.rows_out)} rows out of {found.generator} go "
                         "through a hash aggregation, and what it keeps through a shuffle, to rebuild groups each row "
                         "already was. Compute the result within each row from the array instead."),
                code_change=redact_text(_code(found)),
            ),
            saved_ms=found.removed_ms,
            method="A floor: the task time of the stages that finish the groups after the shuffle, the shuffle write "
                   "into them, and the partial aggregation's build time (SQL metric) where it is not code-generated "
                   "with the scan. The hashing of the element rows inside a generated pipeline is saved too but not "
                   "counted.",
            doc_query="explode groupBy higher-order functions aggregate transform filter array",
        )
