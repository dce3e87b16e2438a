"""Thresholds are settable through copilot settings; the plan tree the join rules read is complete."""

from __future__ import annotations

import pytest

from tests.rules.conftest import load
from tools.findings import Severity
from tools.rules import RuleThresholds
from tools.rules.registry import rule
from tools.rules.thresholds import SeverityLadder


def test_threshold_from_environment(monkeypatch):
    from copilot.settings import Settings

    monkeypatch.setenv("COPILOT_RULES__SKEW__MODERATE", "7.5")
    monkeypatch.setenv("COPILOT_RULES__SMALL_FILE_MIN_COUNT", "42")
    rules = Settings().rules
    assert (rules.skew.moderate, rules.small_file_min_count) == (7.5, 42)
    assert rules.skew.severe == RuleThresholds().skew.severe  # the other step keeps its default
    assert rules.spill == RuleThresholds().spill


def test_threshold_from_toml(copilot_home, monkeypatch):
    from copilot.settings import Settings

    (copilot_home / "config.toml").write_text("[rules.gc]\nsevere = 0.3\n")
    assert Settings().rules.gc == SeverityLadder(moderate=RuleThresholds().gc.moderate, severe=0.3)


def test_flat_keys_of_earlier_releases_still_set_the_ladders(copilot_home, monkeypatch):
    from copilot.settings import Settings

    monkeypatch.setenv("COPILOT_RULES__SKEW_RATIO", "6")
    monkeypatch.setenv("COPILOT_RULES__TASK_FAILURE_RATE_SEVERE", "0.4")
    (copilot_home / "config.toml").write_text("[rules]\ngc_ratio_high = 0.3\nspill_severe_ratio = 0.5\n")
    rules = Settings().rules
    assert (rules.skew.moderate, rules.task_failure_rate.severe, rules.gc.moderate, rules.spill.severe) == (6, 0.4, 0.3, 0.5)
    assert RuleThresholds(skew_ratio=5, skew_severe_ratio=10).skew == SeverityLadder(moderate=5, severe=10)


@pytest.mark.parametrize(("value", "expected"), [(0.05, Severity.low), (0.1, Severity.moderate), (0.3, Severity.severe)])
def test_a_ladder_grades_a_value_by_the_step_it_reaches(value, expected):
    assert SeverityLadder(moderate=0.1, severe=0.25).severity(value) == expected


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
