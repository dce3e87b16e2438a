"""Nested-loop and cartesian joins: the advice follows the join condition."""

from __future__ import annotations

from tools.eventlog.model import PlanNode
from tools.rules import diagnose
from tools.rules.nested_joins import condition_kind


def _nested(profile):
    return [f for f in diagnose(profile) if f.rule_id == "cartesian_join"]


def test_an_or_of_equalities_is_told_to_join_once_per_alternative(profile_of):
    """nested_loop_joins (real PySpark 4.3 log), SQL 0: leads matched to customers by email OR phone, a broadcast
    nested-loop join over 4 billion pairs."""
    or_join, not_in = _nested(profile_of("nested_loop_joins"))
    assert (or_join.sql_execution_ids, not_in.sql_execution_ids) == ([0], [3])
    assert or_join.recommendation.summary.startswith(
        "The join condition is alternatives joined by OR ((email_key = email_key) OR (phone_key = phone_key))")
    assert "dropDuplicates" in or_join.recommendation.code_change


def test_a_two_column_not_in_is_told_to_use_not_exists(profile_of):
    """SQL 3: (shop, item) NOT IN (SELECT shop, item FROM recalled): Spark keeps NULL semantics with an
    'OR isnull(...)' per column, so no key can be hashed and every sale is compared with every recalled pair."""
    not_in = _nested(profile_of("nested_loop_joins"))[1]
    facts = {e.name: e.value for e in not_in.evidence}
    assert "LeftAnti" in facts["condition"] and "isnull(" in facts["condition"]
    assert not_in.recommendation.summary.startswith("A NOT IN subquery runs as a null-aware anti join")
    assert "NOT EXISTS" in not_in.recommendation.code_change and "left_anti" in not_in.recommendation.code_change


def test_the_condition_decides_the_advice(profile_of):
    [cross] = _nested(profile_of("cross_join"))  # CartesianProduct (((a + b) % 97) = 0): an expression of both sides
    assert cross.recommendation.summary.startswith("The join condition (((a + b) % 97) = 0) has no equality")

    def kind(description: str) -> str:
        return condition_kind(PlanNode(name=description.split(" ")[0], description=description))[0]

    assert kind("BroadcastNestedLoopJoin BuildRight, Inner, ((ts#1 >= start#2) AND (ts#1 < end#3))") == "range"
    assert kind("BroadcastNestedLoopJoin BuildLeft, Cross") == "none"
    assert kind("CartesianProduct") == "none"
    assert kind("BroadcastNestedLoopJoin BuildRight, LeftOuter, ((a#1 = b#2) OR (c#3 = d#4))") == "or"
