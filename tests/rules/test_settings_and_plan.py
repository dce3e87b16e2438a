"""Thresholds are settable through copilot settings; the plan tree the join rules read is complete."""

from __future__ import annotations

import pytest

from tests.rules.conftest import load
from tools.rules import RuleThresholds
from tools.rules.registry import rule


def test_threshold_from_environment(monkeypatch):
    from copilot.settings import Settings

    monkeypatch.setenv("COPILOT_RULES__SKEW_RATIO", "7.5")
    monkeypatch.setenv("COPILOT_RULES__SMALL_FILE_MIN_COUNT", "42")
    rules = Settings().rules
    assert (rules.skew_ratio, rules.small_file_min_count) == (7.5, 42)
    assert rules.spill_ratio == RuleThresholds().spill_ratio


def test_threshold_from_toml(copilot_home, monkeypatch):
    from copilot.settings import Settings

    (copilot_home / "config.toml").write_text("[rules]\ngc_ratio_high = 0.3\n")
    assert Settings().rules.gc_ratio_high == 0.3


def test_rule_naming_an_unknown_threshold_is_rejected():
    with pytest.raises(ValueError, match="unknown thresholds"):
        rule("bogus_rule", "Bogus", "config", thresholds=("no_such_threshold",))


def test_plan_nodes_know_their_parent():
    execution = next(x for x in load("missed_broadcast").sql_executions if x.nodes)
    ids = {n.node_id for n in execution.nodes}
    roots = [n for n in execution.nodes if n.parent_id is None]
    assert len(roots) == 1
    assert all(n.parent_id in ids for n in execution.nodes if n.parent_id is not None)
    join = next(n for n in execution.nodes if n.name == "SortMergeJoin")
    assert len([n for n in execution.nodes if n.parent_id == join.node_id]) == 2


def test_docs_list_every_rule():
    from tests.conftest import TESTS_DIR
    from tools.rules import load_rules

    docs = (TESTS_DIR.parent / "docs" / "rules.md").read_text()
    assert [rule_id for rule_id in load_rules() if f"`{rule_id}`" not in docs] == []
