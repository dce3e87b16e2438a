"""Joins in the SQL plans that a broadcast-threshold change would convert.

Read from the plan nodes of an AppProfile (parent links and final SQL metric values): for
each shuffled join the data size of its smaller side's exchange and the records both sides
shuffled; for broadcast hash joins the rows that would be shuffled if broadcasting stopped.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from tools.eventlog.model import SHUFFLED_JOINS, AppProfile, PlanNode, base_operator


def _children(nodes: list[PlanNode]) -> dict[int | None, list[PlanNode]]:
    out: dict[int | None, list[PlanNode]] = {}
    for node in nodes:
        out.setdefault(node.parent_id, []).append(node)
    return out


def _first_below(node: PlanNode, children: dict, match: Callable[[PlanNode], bool]) -> PlanNode | None:
    """The first node at or below `node` (breadth first) that `match`es."""
    queue = deque([node])
    while queue:
        current = queue.popleft()
        if match(current):
            return current
        queue.extend(children.get(current.node_id, []))
    return None


def join_conversions(profile: AppProfile) -> dict[str, list[float] | float]:
    """What a broadcast-threshold change would move: per shuffled join the smaller side's size and
    the records both sides shuffled; for broadcast joins the rows that would be shuffled instead."""
    small: list[float] = []
    records: list[float] = []
    bhj_rows = 0.0
    for execution in profile.sql_executions:
        children = _children(execution.nodes)
        for node in execution.nodes:
            name = base_operator(node.name)  # a join AQE split skewed partitions of is one too
            sides = children.get(node.node_id, [])
            if name in SHUFFLED_JOINS and len(sides) == 2:
                exchanges = [_first_below(side, children, lambda n: n.name == "Exchange") for side in sides]
                if all(e is not None and "data size" in e.metrics for e in exchanges):
                    small.append(min(e.metrics["data size"] for e in exchanges))
                    records.append(sum(e.metrics.get("shuffle records written", 0.0) for e in exchanges))
            elif name == "BroadcastHashJoin" and len(sides) == 2:
                for side in sides:
                    counted = _first_below(side, children, lambda n: "number of output rows" in n.metrics)
                    bhj_rows += counted.metrics["number of output rows"] if counted is not None else 0.0
    return {"smj_small_side_bytes": small, "smj_shuffle_records": records, "bhj_input_rows": bhj_rows}
