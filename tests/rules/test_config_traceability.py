"""Every Spark config a recommendation names in its text is one of its config changes (so it gets a --conf line and
can be traced), on the findings real logs produce: each rule's firing log and every eval case's log."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import TESTS_DIR
from tests.rules.conftest import load
from tests.rules.test_rules import FIRES_ON
from tools.eventlog import discover_applications, load_profile
from tools.findings import CONFIG_NAME, Finding
from tools.rules import RuleThresholds, diagnose

REPO = TESTS_DIR.parent
CASES = sorted((REPO / "evals" / "cases").glob("*.yaml"))


def untraced(findings: list[Finding]) -> list[tuple[str, str]]:
    """(rule id, config name) for every config named in a recommendation's text but missing from its changes."""
    missing = []
    for finding in findings:
        recommendation = finding.recommendation
        keys = {change.key for change in recommendation.config_changes}
        text = f"{recommendation.summary} {recommendation.code_change or ''}"
        missing += [(finding.rule_id, name) for name in CONFIG_NAME.findall(text) if name not in keys]
    return missing


def test_the_check_sees_a_config_named_only_in_text():
    finding = diagnose(load("skewed_join"))[0]
    finding.recommendation.code_change = "also set spark.scheduler.mode=FAIR; use pyspark.sql.functions"
    assert untraced([finding]) == [(finding.rule_id, "spark.scheduler.mode")]


def test_every_rule_names_only_configs_it_changes_on_its_firing_log():
    findings = [f for rule_id, (log, overrides) in FIRES_ON.items()
                for f in diagnose(load(log), RuleThresholds(**overrides)) if f.rule_id == rule_id]
    assert {f.rule_id for f in findings} == set(FIRES_ON)
    assert untraced(findings) == []


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_eval_case_findings_name_only_configs_they_change(case):
    log = REPO / yaml.safe_load(case.read_text())["log"]
    findings = [f for ref in discover_applications(log) for f in diagnose(load_profile(ref.path))]
    assert untraced(findings) == []
