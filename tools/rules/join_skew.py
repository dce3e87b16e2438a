"""Skew on a join side AQE cannot split. AQE splits a skewed partition of a shuffled join only on the sides where the
result stays right (join_plan.AQE_SPLITTABLE): when the hot key's rows come from the other side (the orders of
`customers LEFT JOIN orders`, the right side of a semi join, either side of a full outer join), no setting spreads
them, and the skew rules advise a change to the query instead."""

from __future__ import annotations

from dataclasses import dataclass

from tools.eventlog.model import SHUFFLED_JOINS, StageProfile
from tools.findings import Evidence, Recommendation
from tools.rules.join_plan import AQE_SPLITTABLE, JoinParts, join_inputs, parse_join
from tools.rules.measure import ev, nodes
from tools.rules.registry import RuleContext
from tools.units import human_number

_OUTER = ("LeftOuter", "RightOuter", "FullOuter")
_PASS_THROUGH = ("Project", "Filter", "WholeStageCodegen", "InputAdapter")  # between a join and what takes its rows


@dataclass(frozen=True)
class StuckSkew:
    """A skewed partition of a shuffled join whose rows come mostly from a side AQE cannot split."""

    parts: JoinParts
    side: str  # "left" / "right": the side the hot partition's rows come from
    hot_rows: float  # the most shuffle rows one task of the stage read
    other_rows: float  # every row of the other side
    aggregated: bool  # an aggregation takes the join's rows (in the same stage, past projections and filters)

    @property
    def other(self) -> str:
        return "right" if self.side == "left" else "left"

    def evidence(self, stage_id: int) -> list[Evidence]:
        return [
            ev("join type", self.parts.join_type, ""),
            ev("most shuffle rows one task read", self.hot_rows, "count", stage_id=stage_id),
            ev(f"rows of the join's {self.other} side in all", self.other_rows, "count"),
        ]

    def recommendation(self) -> Recommendation:
        splits = AQE_SPLITTABLE[self.parts.join_type]
        which = f"only the {splits[0]} side" if splits else "neither side"
        summary = (f"AQE cannot split this partition: it splits {which} of a {self.parts.join_type} join (splitting "
                   "the other would repeat or lose the rows without a match), and most of the longest task's "
                   f"{human_number(self.hot_rows)} rows come from the {self.side} side (the {self.other} side has "
                   f"{human_number(self.other_rows)} rows in all). No setting spreads it: change the query.")
        return Recommendation(summary=summary, code_change=self._code())

    def _code(self) -> str:
        keys = self.parts.left if self.side == "left" else self.parts.right
        distinct = f"{self.side}.select({', '.join(repr(k) for k in keys)}).distinct()"
        if self.parts.join_type not in _OUTER:
            return (f"A {self.parts.join_type} join needs each key of the right side once: join against {distinct} "
                    "(or dropDuplicates on the keys) and the hot key becomes one row.")
        aggregate = (f"aggregate the {self.side} side by the key before the join (computing first the per-row values "
                     "the aggregation needs), so the hot key becomes one row")
        unmatched = ("each side's rows without a match (a left anti join of each side against the other's distinct "
                     "keys)" if self.parts.join_type == "FullOuter" else
                     f"the {self.other} side's rows without a match (a left anti join of the {self.other} side "
                     f"against {distinct})")
        split = ("split the join: an inner join for the rows that match (AQE splits either side of an inner join, "
                 f"and salting the key works there too), plus {unmatched}, added with unionByName(..., "
                 f"allowMissingColumns=True); that reads the {self.side} side twice")
        if self.aggregated:
            return f"The joined rows are aggregated next: {aggregate}. Where that cannot be, {split}."
        return f"{split[0].upper()}{split[1:]}. If the joined rows are aggregated per key later, {aggregate} instead."


def stuck_skew(ctx: RuleContext, stage: StageProfile) -> StuckSkew | None:
    """The stage's one shuffled join when the most rows any of its tasks read come mostly from a side AQE cannot split
    for its join type: the task read more than twice what the other side has in all."""
    records = stage.metrics.shuffle_read_records
    execution = ctx.profile.sql_execution(ctx.stage_to_sql.get(stage.stage_id))
    if records is None or execution is None:
        return None
    joins = [node for node in nodes(execution, *SHUFFLED_JOINS) if stage.stage_id in node.stage_ids]
    if len(joins) != 1 or (parts := parse_join(joins[0])) is None or parts.join_type not in AQE_SPLITTABLE:
        return None
    inputs = join_inputs(execution.children(), joins[0])
    if inputs is None:
        return None
    above = execution.above(joins[0], skip=_PASS_THROUGH)
    aggregated = above is not None and "Aggregate" in above.name
    for side, other_rows in (("left", inputs[1]), ("right", inputs[0])):
        if records.max > 2 * other_rows and side not in AQE_SPLITTABLE[parts.join_type]:
            return StuckSkew(parts, side, records.max, other_rows, aggregated)
    return None
