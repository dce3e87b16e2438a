"""The detection eval over the labeled cases: precision and recall per category at or above 0.9."""

from __future__ import annotations

import pytest

from evals.detection import CASES_DIR, DetectionCase, check_case, load_cases, render_table, score_detection
from tests.rules.conftest import load
from tools.rules import diagnose


@pytest.fixture(scope="module")
def score():
    return score_detection(CASES_DIR)


def test_there_are_at_least_25_labeled_cases_with_existing_logs():
    cases = load_cases()
    assert len(cases) >= 25
    from evals.detection import REPO_ROOT

    assert all((REPO_ROOT / c.log).exists() for c in cases)
    assert all(c.verified for c in cases if c.source == "public")


def test_precision_and_recall_reach_the_target(score):
    assert score.overall.precision >= 0.9 and score.overall.recall >= 0.9, render_table(score)
    for category, cell in score.per_category.items():
        if cell.precision is not None:
            assert cell.precision >= 0.9, f"{category}: {render_table(score)}"
        if cell.recall is not None:
            assert cell.recall >= 0.9, f"{category}: {render_table(score)}"


def test_a_case_reports_misses_false_alarms_facts_and_severity():
    findings = diagnose(load("skewed_join"))
    case = DetectionCase(
        name="probe",
        log="unused",
        must_find=["skew", "python_udf"],
        must_not_find=["broadcast_join_opportunity"],
        facts=[{"category": "skew", "stage_ids": [999]}],
        max_severity="low",
    )
    result = check_case(case, findings)
    assert result.missed == ["python_udf"]
    assert result.false_alarms == ["broadcast_join_opportunity"]
    assert result.fact_misses and "999" in result.fact_misses[0]
    assert any("stage_task_skew" in v for v in result.severity_violations)
    assert not result.passed


def test_table_lists_every_category_and_overall(score):
    table = render_table(score)
    assert "| **overall** |" in table
    for category in score.per_category:
        assert f"| {category} |" in table


def test_score_serializes_its_rates_and_reports_progress(tmp_path):
    import shutil

    for name in ("wl_skewed_join", "wl_healthy"):
        shutil.copy(CASES_DIR / f"{name}.yaml", tmp_path)
    calls = []
    score = score_detection(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)]
    data = score.model_dump()
    assert data["overall"]["precision"] == 1.0 and data["overall"]["recall"] == 1.0
    assert data["per_category"]["skew"]["recall"] == 1.0
    assert data["cases_passed"] == 2 and data["misses"] == []
