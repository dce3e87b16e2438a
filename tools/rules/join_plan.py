"""A join in a SQL plan read from its operators: the rows into each side, the parts of its description (keys, join
type, build side, extra condition) and the join said plainly. Shared by the join, skew, expand, explode and chat
code."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tools.eventlog.model import SHUFFLED_JOINS, PlanNode
from tools.redact import redact_text
from tools.rules.measure import EXPRESSION_ID, metric, operator_name
from tools.units import one_line

EQUI_JOINS = (*SHUFFLED_JOINS, "BroadcastHashJoin")
# which side may be broadcast for a join type (Spark's BroadcastHashJoin build-side rules)
BUILD_LEFT_OK = ("Inner", "RightOuter", "Cross")
BUILD_RIGHT_OK = ("Inner", "LeftOuter", "LeftSemi", "LeftAnti", "Cross", "ExistenceJoin")


def side_exchange(tree: dict[int, list[PlanNode]], root: PlanNode) -> PlanNode | None:
    """The nearest shuffle Exchange below `root` (breadth first): the shuffle feeding this join side."""
    queue = [root]
    while queue:
        node = queue.pop(0)
        if node.name == "Exchange" or node.name.startswith("Exchange "):
            return node
        queue.extend(tree.get(node.node_id, []))
    return None


def plan_rows(tree: dict[int, list[PlanNode]], node: PlanNode) -> float | None:
    """Rows a plan node produced: its row metric (an exchange's records written), else the rows of its only child
    (Sort, Project, InputAdapter and query stages keep rows), or the sum over a Union's children. None when unknown:
    a reused exchange, or an operator with several children and no row metric."""
    while True:
        rows = metric(node, "number of output rows", "shuffle records written")
        if rows is not None:
            return rows
        below = tree.get(node.node_id, [])
        if len(below) != 1:
            break
        node = below[0]
    if below and node.name.startswith("Union"):
        parts = [plan_rows(tree, child) for child in below]
        return None if None in parts else sum(parts)  # type: ignore[arg-type]
    return None


# "HashAggregate(keys=[order_id#6L], functions=[...])": an aggregation's grouping keys
_AGGREGATION_KEYS = re.compile(r"^\w+\(keys=\[(?P<keys>[^\]]*)\]")
AGGREGATION_BUILD = "time in aggregation build"  # an aggregation's SQL metric (a generated one's holds its pipeline)


def aggregation_keys(node: PlanNode) -> list[str] | None:
    """An aggregation's grouping keys as the plan writes them (expression ids kept); None for other operators."""
    match = _AGGREGATION_KEYS.match(node.description)
    return top_level_split(match["keys"]) if match else None


def input_rows(tree: dict[int, list[PlanNode]], node: PlanNode) -> float | None:
    """The rows into an operator with one child (`plan_rows` of that child); None for other operators."""
    below = tree.get(node.node_id, [])
    return plan_rows(tree, below[0]) if len(below) == 1 else None


def join_inputs(tree: dict[int, list[PlanNode]], join: PlanNode) -> tuple[float, float] | None:
    """The rows of a join's two inputs (left, right); None when it has not two sides, a side's rows are unknown, or
    both are empty."""
    sides = tree.get(join.node_id, [])
    if len(sides) != 2:
        return None
    left, right = (plan_rows(tree, side) for side in sides)
    if left is None or right is None or max(left, right) <= 0:
        return None
    return left, right


@dataclass(frozen=True)
class JoinParts:
    """An equi-join's description taken apart: keys of each side, join type, build side, extra condition."""

    left: list[str]
    right: list[str]
    join_type: str
    build: str = ""  # "left" / "right": the side a hash join builds (broadcast hash join: the side broadcast)
    condition: str = ""

    def keys_text(self) -> str:
        """'customer_id' when both sides name the keys alike, else 'a = b, c = d'."""
        if self.left == self.right:
            return ", ".join(self.left)
        return ", ".join(f"{a} = {b}" for a, b in zip(self.left, self.right))


# "SortMergeJoin(skew=true) [k#1L], [k#4L], Inner" / "BroadcastHashJoin [a#1], [b#2], Inner, BuildRight, false, false"
_EQUI_JOIN = re.compile(r"^\w+(?:\([^)]*\))? \[(?P<left>.*?)\], \[(?P<right>.*?)\], (?P<type>\w+)(?P<rest>.*)$", re.DOTALL)


def top_level_split(text: str, separator: str = ",") -> list[str]:
    """`text` split at the `separator`s outside parentheses and brackets ('coalesce(a, 0), b' is two parts;
    with " AND ", '(a AND b) AND c' is two)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        char = text[i]
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0 and text.startswith(separator, i):
            parts.append(text[start:i].strip())
            start = i = i + len(separator)
            continue
        i += 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def unwrapped(condition: str) -> str:
    """The condition without parentheses around all of it."""
    while condition.startswith("(") and condition.endswith(")"):
        depth = 0
        for i, char in enumerate(condition):
            depth += (char == "(") - (char == ")")
            if depth == 0 and i < len(condition) - 1:
                return condition  # the first group closes before the end: '(a) OR (b)'
        condition = condition[1:-1]
    return condition


def parse_join(join: PlanNode) -> JoinParts | None:
    """The parts of an equi-join's description (expression ids left out); None for other descriptions."""
    match = _EQUI_JOIN.match(EXPRESSION_ID.sub("", join.description))
    if match is None:
        return None
    build, condition = "", []
    for token in top_level_split(match["rest"]):
        if token in ("BuildLeft", "BuildRight"):
            build = token.removeprefix("Build").lower()
        elif token not in ("true", "false"):
            condition.append(token)
    return JoinParts(top_level_split(match["left"]), top_level_split(match["right"]), match["type"], build,
                     " and ".join(condition))


def join_text(join: PlanNode, limit: int = 160) -> str:
    """'BroadcastHashJoin (Inner, right side broadcast) on customer_id': an equi-join said plainly (ids and flags
    left out); other joins by their description on one line."""
    parts = parse_join(join)
    if parts is None:
        return redact_text(one_line(EXPRESSION_ID.sub("", join.description), limit) or join.name)
    how = [parts.join_type]
    if "(skew=true)" in join.name:
        how.append("skewed partitions split by AQE")
    if parts.build:
        how.append(f"{parts.build} side broadcast" if join.name.startswith("BroadcastHashJoin")
                   else f"hash table of the {parts.build} side")
    text = f"{operator_name(join)} ({', '.join(how)}) on {parts.keys_text()}"
    if parts.condition:
        text += f" and {parts.condition}"
    return redact_text(one_line(text, limit))


# the sides of a shuffled join whose skewed partitions AQE may split (Spark's OptimizeSkewedJoin): a split side's
# pieces are each joined with the other side's whole partition, which keeps the result right only where every row of
# the split side meets all of the other side: either side of an inner join, the preserved side of an outer join, the
# left side of a semi or anti join
AQE_SPLITTABLE: dict[str, tuple[str, ...]] = {
    "Inner": ("left", "right"), "Cross": ("left", "right"), "LeftOuter": ("left",), "LeftSemi": ("left",),
    "LeftAnti": ("left",), "RightOuter": ("right",), "FullOuter": (),
}
