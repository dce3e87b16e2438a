"""The public Python API (`from copilot import analyze, profile, ...`) on real event logs, and the Jupyter rendering."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
from llm_doubles import ScriptedChatModel
from planted_secrets import SECRET_VALUES, plant
from shared_index import isolated_env

import copilot
from copilot.settings import Settings
from graph.report import Report
from models.predict import Prediction
from tools.errors import ConfigurationError, CopilotError, EventLogError, ModelError
from tools.eventlog.model import AppProfile
from tools.simulate import WhatIf

QUESTION_SECRET = "QuestionPw4711"


def start_tags(page: str) -> list[tuple[str, str]]:
    """(tag, attributes text) of every start tag, in order."""
    return re.findall(r"<([a-zA-Z][\w-]*)([^>]*)>", page)


@pytest.fixture(scope="module")
def yarn_report(yarn_log: str, tmp_path_factory: pytest.TempPathFactory) -> Report:
    with isolated_env(tmp_path_factory):
        return copilot.analyze(Path(yarn_log), question="why is stage 3 slow?")


@pytest.fixture(scope="module")
def secret_report(multi_stage_log: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    log = plant(multi_stage_log, tmp_path_factory.mktemp("secret") / "application_1538416563558_0099")
    with isolated_env(tmp_path_factory):
        return copilot.analyze(str(log), question=f"why slow? we load from jdbc:postgresql://db/x?password={QUESTION_SECRET}")


# ----------------------------------------------------------------- import

def test_import_copilot_loads_no_analysis_machinery() -> None:
    code = ("import sys, copilot; heavy = [m for m in ('graph', 'langgraph', 'chromadb', 'pyspark', 'lightgbm', "
            "'copilot.python_api', 'tools.eventlog') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_api_names_resolve_to_the_library_functions() -> None:
    from copilot import analyze, predict, profile, profiles, render, what_if

    assert {f.__module__ for f in (analyze, predict, profile, profiles, render, what_if)} == {"copilot.python_api"}
    assert {"analyze", "profile", "predict", "what_if"} <= set(dir(copilot))
    with pytest.raises(AttributeError):
        copilot.no_such_function  # noqa: B018


# ----------------------------------------------------------------- analyze

def test_analyze_returns_the_typed_report_for_a_path(yarn_report: Report) -> None:
    assert isinstance(yarn_report, Report)
    assert yarn_report.apps[0].app_id == "application_1724877841851_0016"
    assert yarn_report.findings and yarn_report.answer.startswith("Stage 3")


def test_analyze_takes_a_list_of_logs_as_one_fleet_report(yarn_log: str, multi_stage_log: Path) -> None:
    report = copilot.analyze([yarn_log, multi_stage_log])
    assert {app.app_id for app in report.apps} == {"application_1724877841851_0016", "application_1538416563558_0014"}


def test_analyze_passes_the_given_chat_model_and_settings(yarn_log: str, copilot_home: Path) -> None:
    model = ScriptedChatModel()
    report = copilot.analyze(yarn_log, llm=model, settings=Settings())
    assert model.prompts, "the scripted model was never asked"
    assert report.path in ("llm", "llm-retry") and report.headline == "Scripted verdict"


@pytest.mark.parametrize("bad, error", [
    (42, ConfigurationError),
    ("", ConfigurationError),
    ([], ConfigurationError),
    ({"log": "x"}, ConfigurationError),
    ("/no/such/eventlog", EventLogError),
])
def test_analyze_refuses_bad_input_with_one_copilot_error(bad: object, error: type[CopilotError]) -> None:
    with pytest.raises(error) as raised:
        copilot.analyze(bad)  # type: ignore[arg-type]
    assert "\n" not in str(raised.value)


def test_analyze_refuses_a_file_that_is_not_an_event_log(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a log\n")
    with pytest.raises(EventLogError, match="not a Spark event log"):
        copilot.analyze(text)


def test_analyze_refuses_a_question_that_is_not_text(yarn_log: str) -> None:
    with pytest.raises(ConfigurationError, match="question"):
        copilot.analyze(yarn_log, question=3)  # type: ignore[arg-type]


def test_analyze_refuses_settings_of_the_wrong_type(yarn_log: str) -> None:
    with pytest.raises(ConfigurationError, match="Settings"):
        copilot.analyze(yarn_log, settings={"home": "/tmp"})  # type: ignore[arg-type]


# ----------------------------------------------------------------- Jupyter rendering

def test_repr_html_shows_every_finding_with_its_recommendation(yarn_report: Report) -> None:
    page = yarn_report._repr_html_()
    for item in yarn_report.findings:
        assert html.escape(item.finding.title) in page
        assert html.escape(item.finding.recommendation.summary) in page
    assert html.escape(yarn_report.answer) in page


def test_repr_html_carries_the_svg_charts(yarn_report: Report) -> None:
    page = yarn_report._repr_html_()
    assert page.count("<svg ") == page.count("</svg>") > 0
    classes = set(re.findall(r'<svg class="([^"]+)"', page))
    assert {"chart timeline", "chart utilization", "chart whatif", "chart distribution"} <= classes


def test_repr_html_is_one_scoped_fragment_that_cannot_restyle_the_notebook(yarn_report: Report) -> None:
    page = yarn_report._repr_html_()
    tags = start_tags(page)
    assert tags[0] == ("div", ' class="spark-copilot-report"')
    assert not {"html", "head", "body", "script", "link"} & {tag.lower() for tag, _ in tags}
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]
    rules = [rule.split("{", 1)[0] for rule in style.replace("\n", "").split("}") if "{" in rule]
    assert rules and all(sel.strip().startswith(".spark-copilot-report") for rule in rules for sel in rule.split(","))


def test_repr_html_and_the_html_page_render_the_same_report(yarn_report: Report) -> None:
    page = copilot.render(yarn_report, "html")
    assert page.startswith("<!DOCTYPE html>")
    body = yarn_report._repr_html_().split("</style>", 1)[1].strip().removesuffix("</div>").strip()
    assert body in page


def test_repr_html_holds_no_planted_secret(secret_report: Report) -> None:
    page = secret_report._repr_html_()
    assert secret_report.findings, "the planted log should still yield findings"
    for secret in (*SECRET_VALUES, QUESTION_SECRET):
        assert secret not in page
    assert "<svg" in page


# ----------------------------------------------------------------- profile, predict, what-if, render

def test_profile_returns_the_app_profile(yarn_log: str) -> None:
    profile = copilot.profile(Path(yarn_log))
    assert isinstance(profile, AppProfile)
    assert profile.app_id == "application_1724877841851_0016" and len(profile.executors) == 10


def test_profile_of_a_directory_of_many_apps_asks_for_one(eventlog_fixtures: Path) -> None:
    folder = eventlog_fixtures.parent / "workloads"
    logs = sorted(folder.glob("*.zstd"))
    assert len(logs) > 1
    with pytest.raises(ConfigurationError, match=f"holds {len(logs)} applications"):
        copilot.profile(folder)
    profiles = copilot.profiles(folder)
    assert len({p.app_id for p in profiles}) == len(logs)


def test_profile_of_a_missing_path_is_an_event_log_error(tmp_path: Path) -> None:
    with pytest.raises(EventLogError, match="no such file"):
        copilot.profile(tmp_path / "missing")


def test_predict_takes_a_mapping_or_keywords(eventlog_fixtures: Path) -> None:
    log = eventlog_fixtures.parent / "workloads" / "many_shuffle_partitions.zstd"
    by_mapping = copilot.predict(log, {"spark.sql.shuffle.partitions": 16})
    by_keywords = copilot.predict(log, **{"spark.sql.shuffle.partitions": "16"})
    assert isinstance(by_mapping, Prediction)
    assert by_mapping.changes == by_keywords.changes == {"spark.sql.shuffle.partitions": "16"}
    assert by_mapping.estimated_duration_ms == by_keywords.estimated_duration_ms > 0
    assert by_mapping.low_ms <= by_mapping.estimated_duration_ms <= by_mapping.high_ms
    assert by_mapping.low_cost <= by_mapping.estimated_cost <= by_mapping.high_cost and by_mapping.currency == "USD"


def test_predict_refuses_a_setting_it_cannot_model(yarn_log: str) -> None:
    with pytest.raises(ModelError, match="spark.foo.bar"):
        copilot.predict(yarn_log, {"spark.foo.bar": "1"})
    with pytest.raises(ConfigurationError, match="mapping"):
        copilot.predict(yarn_log, ["spark.sql.shuffle.partitions=4"])  # type: ignore[arg-type]


def test_what_if_gives_the_executor_curve_with_the_observed_point(yarn_log: str) -> None:
    curve = copilot.what_if(yarn_log)
    assert isinstance(curve, WhatIf)
    assert curve.observed_executors == 10
    assert any(abs(p.factor - 1.0) < 1e-9 for p in curve.points) and len(curve.points) >= 3


def test_render_gives_each_text_format(yarn_report: Report) -> None:
    assert copilot.render(yarn_report, "md").startswith("# Spark Copilot report")
    assert Report.model_validate_json(copilot.render(yarn_report, "json")).apps[0].app_id == yarn_report.apps[0].app_id
    with pytest.raises(ConfigurationError, match="unknown report format"):
        copilot.render(yarn_report, "pdf")


def test_a_report_without_applications_renders_without_charts() -> None:
    page = Report(headline="nothing to analyze")._repr_html_()
    assert "nothing to analyze" in page and "No findings" in page
    assert "<svg" not in page and page.endswith("</div>")
