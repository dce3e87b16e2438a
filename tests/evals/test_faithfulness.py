"""Faithfulness: each number and config value in a report's prose must trace to the evidence behind it."""

from __future__ import annotations

from graph.report import AppSummary, Citation, Report, ReportFinding
from tools.findings import ConfigChange, Evidence, Finding, Recommendation, Severity

from evals.harness.faithfulness import check_faithfulness
from evals.harness.report_checks import check_coverage, forbidden_present, is_actionable


def _report(narrative: str, summary: str = "Enable AQE skew handling.", code_change: str | None = None) -> Report:
    finding = Finding(
        rule_id="stage_task_skew",
        category="skew",
        severity=Severity.severe,
        title="Stage 3 has skewed tasks",
        stage_ids=[3],
        evidence=[
            Evidence(name="max/median task duration", value=12.4, unit="ratio", threshold=5.0, stage_id=3),
            Evidence(name="max task duration", value=84_000.0, unit="ms", stage_id=3),
            Evidence(name="shuffle read of the largest task", value=1.5 * 1024**3, unit="bytes", stage_id=3),
        ],
        recommendation=Recommendation(
            summary=summary,
            config_changes=[ConfigChange(key="spark.sql.adaptive.skewJoin.enabled", value="true", current="false")],
            code_change=code_change,
        ),
    )
    item = ReportFinding(
        rank=1,
        app_id="app-1",
        finding=finding,
        conf_flags=["--conf spark.sql.adaptive.skewJoin.enabled=true"],
        conf_set_lines=['spark.conf.set("spark.sql.adaptive.skewJoin.enabled", "true")'],
        citations=[Citation(source="sql-performance-tuning.md", heading="Optimizing Skew Join")],
    )
    app = AppSummary(app_id="app-1", duration_ms=250_000, executors=4, core_utilization=0.37)
    return Report(headline="One skewed stage", narrative=narrative, apps=[app], findings=[item])


def test_numbers_written_in_human_units_trace_to_evidence() -> None:
    report = _report(
        "The app ran for 4.2 min on 4 executors, keeping 37% of the core time busy. In stage 3 the longest task "
        "took 84.0 s, 12.4x the median, reading 1.5 GiB."
    )
    claims = check_faithfulness(report, profiles=[])
    assert claims and all(c.supported for c in claims), [c for c in claims if not c.supported]


def test_fabricated_number_is_flagged_with_its_place() -> None:
    claims = check_faithfulness(_report("The app ran for 17.3 min."), profiles=[])
    unsupported = [c for c in claims if not c.supported]
    assert [(c.field, c.text) for c in unsupported] == [("narrative", "17.3 min")]


def test_config_value_must_match_a_recommended_or_observed_value() -> None:
    good = check_faithfulness(_report("Set spark.sql.adaptive.skewJoin.enabled to true."), profiles=[])
    assert all(c.supported for c in good if c.kind == "config")
    bad = check_faithfulness(_report("Set spark.sql.shuffle.partitions to 4000."), profiles=[])
    assert [c.text for c in bad if not c.supported] == ["spark.sql.shuffle.partitions to 4000"]


def test_spark_conf_set_call_is_code_not_a_config_key() -> None:
    claims = check_faithfulness(_report("", code_change='spark.conf.set("spark.sql.adaptive.skewJoin.enabled", "true")'), [])
    assert all(c.supported for c in claims)
    assert not any(c.text.startswith("spark.conf.set") for c in claims)


def test_coverage_needs_finding_recommendation_and_citation() -> None:
    report = _report("")
    covered = check_coverage(report, ["skew", "spill"])
    assert [(c.category, c.covered) for c in covered] == [("skew", True), ("spill", False)]
    report.findings[0].citations = []
    assert not check_coverage(report, ["skew"])[0].covered


def test_finding_without_a_concrete_change_is_not_actionable() -> None:
    report = _report("")
    assert is_actionable(report.findings[0])
    report.findings[0].finding.recommendation.config_changes = []
    assert not is_actionable(report.findings[0])
    report.findings[0].finding.recommendation.code_change = "salt the join key"
    assert is_actionable(report.findings[0])


def test_must_not_categories_found_in_report_are_listed() -> None:
    assert forbidden_present(_report(""), ["skew", "spill"]) == ["skew"]


def test_total_of_the_findings_savings_is_traceable() -> None:
    report = _report("Fixing them could save about 2.0 min of executor core time.")
    report.findings[0].finding.estimated_savings.core_ms = 70_000
    second = report.findings[0].model_copy(deep=True)
    second.finding.estimated_savings.core_ms = 50_000
    report.findings.append(second)
    claims = check_faithfulness(report, profiles=[])
    assert [c.text for c in claims if c.kind == "number" and c.field == "narrative"] == ["2.0 min"]
    assert all(c.supported for c in claims)


def test_key_followed_by_a_colon_in_prose_is_a_mention_not_a_value() -> None:
    claims = check_faithfulness(_report("The tasks come from repartition(n), not from spark.sql.adaptive.skewJoin.enabled: use it."), [])
    config = [c for c in claims if c.kind == "config" and c.field == "narrative"]
    assert [(c.text, c.supported) for c in config] == [("spark.sql.adaptive.skewJoin.enabled", True)]
