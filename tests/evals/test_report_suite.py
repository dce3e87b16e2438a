"""The report suite on real logs: graph.analyze writes each case's report offline, the harness scores it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from copilot.settings import LLMSettings, Settings
from evals.harness import EvalOptions, run_eval
from evals.harness.errors import EvalInputError
from tests.evals.helpers import QUIET_LOG, UDF_LOG, write_case

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One home for the module, so the knowledge index (cards only, no Spark catalog) is built once."""
    return tmp_path_factory.mktemp("report_suite_home")


@pytest.fixture(scope="module")
def report_cases(tmp_path_factory: pytest.TempPathFactory, eventlog_fixtures: Path) -> Path:
    cases = tmp_path_factory.mktemp("report_cases")
    write_case(cases, "udf", eventlog_fixtures / UDF_LOG, ["python_udf"], ["cartesian_join"])
    write_case(cases, "quiet", eventlog_fixtures / QUIET_LOG, [], ["skew"])
    return cases


def settings_for(home: Path, **extra) -> Settings:
    return Settings(home=home, knowledge={"config_catalog": False, "api_reference": False}, **extra)


@pytest.fixture(scope="module")
def offline_card(report_home: Path, report_cases: Path):
    options = EvalOptions(suites=["report"], cases_dir=report_cases, progress=False, store=False)
    return run_eval(options, settings_for(report_home))


def test_every_case_gets_an_offline_report_scored_on_each_measure(offline_card) -> None:
    result = offline_card.result("report")
    assert result.status == "ok", result.reason
    assert result.items == 2
    names = {m.name for m in result.metrics}
    assert {"faithfulness", "faithful_reports", "coverage", "actionability", "forbidden_absent", "verify_clean"} <= names
    assert result.metric("analysis_success").value == 1.0
    (table,) = result.tables
    assert [row[0] for row in table.rows] == ["quiet", "udf"]
    assert {row[1] for row in table.rows} == {"template"}
    assert not any(name.startswith("llm_judge") for name in names)


def test_udf_case_is_covered_with_recommendation_and_citation(offline_card) -> None:
    result = offline_card.result("report")
    udf = next(row for row in result.tables[0].rows if row[0] == "udf")
    assert udf[5] == "1/1", result.misses
    assert result.metric("coverage").value == 1.0


def test_llm_without_an_endpoint_is_noted_and_gives_no_judge_score(report_home: Path, report_cases: Path) -> None:
    options = EvalOptions(suites=["report"], cases_dir=report_cases, llm=True, progress=False, store=False)
    card = run_eval(options, settings_for(report_home))
    result = card.result("report")
    assert any("no LLM endpoint is configured" in note for note in result.notes)
    assert result.metric("llm_judge.score") is None and card.llm_model is None


def test_llm_judge_scores_reports_and_records_the_model(report_home: Path, report_cases: Path, chat_stub) -> None:
    chat_stub.reply = '{"correctness": 4, "evidence": 4, "actionability": 4, "clarity": 4, "comment": "fine"}'
    llm = LLMSettings(base_url=chat_stub.url, api_key=SecretStr("k"), model="stub-judge", max_retries=0, timeout_s=10)
    options = EvalOptions(suites=["report"], cases_dir=report_cases, llm=True, progress=False, store=False)
    card = run_eval(options, settings_for(report_home, llm=llm))
    result = card.result("report")
    assert card.llm_model == "stub-judge"
    assert result.metric("llm_judge.score").value == pytest.approx(0.75)
    judged = [r for r in chat_stub.requests if r["messages"][0]["content"].startswith("You grade")]
    assert len(judged) == 2


def test_a_case_judged_with_its_own_rule_thresholds_in_both_suites(report_home: Path, tmp_path: Path,
                                                                   eventlog_fixtures: Path) -> None:
    """repeated_read re-reads 255.5 MiB, under the re-read rule's 1 GiB default: a case can lower the floor, and
    the detection and report suites both judge it with that floor (over the user's own settings)."""
    log = eventlog_fixtures.parent / "workloads" / "repeated_read.zstd"
    cases = tmp_path / "cases"
    write_case(cases, "reread", log, ["caching"], ["skew"])
    as_default = EvalOptions(suites=["detection"], cases_dir=cases, progress=False, store=False)
    assert "reread: missed caching" in run_eval(as_default, settings_for(report_home)).result("detection").misses
    with (cases / "reread.yaml").open("a") as case:
        case.write("thresholds:\n  repeated_read_min_bytes: 100000000\n")
    both = EvalOptions(suites=["detection", "report"], cases_dir=cases, progress=False, store=False)
    card = run_eval(both, settings_for(report_home))
    assert card.result("detection").misses == []
    report = card.result("report")
    assert report.metric("coverage").value == 1.0 and report.metric("faithfulness").value == 1.0, report.misses
    (cases / "typo.yaml").write_text((cases / "reread.yaml").read_text().replace("repeated_read_min_bytes", "reread_bytes"))
    with pytest.raises(EvalInputError, match="unknown rule thresholds reread_bytes"):
        run_eval(as_default, settings_for(report_home))


def test_a_case_threshold_changes_only_the_fields_it_names() -> None:
    """A nested case threshold (`skew: {moderate: 3}`) keeps the other skew step from the user's settings, as a
    flat one keeps every other field."""
    from evals.detection import with_case_thresholds
    from tools.rules.thresholds import RuleThresholds, SeverityLadder

    users = RuleThresholds(skew=SeverityLadder(moderate=5.0, severe=20.0), spill_min_bytes=1.0)
    judged = with_case_thresholds({"skew": {"moderate": 3}, "repeated_read_min_bytes": 100}, users)
    assert (judged.skew.moderate, judged.skew.severe) == (3.0, 20.0)
    assert judged.repeated_read_min_bytes == 100 and judged.spill_min_bytes == 1.0
    assert with_case_thresholds({}, users) is users
