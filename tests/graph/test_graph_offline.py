"""The analysis graph without an LLM: real logs in, a complete template report out."""

from __future__ import annotations

import pytest

import graph
from shared_index import isolated_env
from graph.nodes import choose_specialists, parse_question
from graph.report import Report
from graph.verify import verify_report
from tools.errors import CopilotError


@pytest.fixture(scope="module")
def offline_report(yarn_log: str, tmp_path_factory: pytest.TempPathFactory) -> Report:
    with isolated_env(tmp_path_factory):
        return graph.analyze([yarn_log], question="why is stage 3 slow? and with 20 executors?")


def test_findings_cite_the_knowledge_cards(offline_report: Report) -> None:
    top = offline_report.findings[0]
    assert top.finding.category == "skew"
    assert top.citations and top.citations[0].source == "Data skew in shuffles and joins"
    assert not [c for c in offline_report.caveats if "citations unavailable" in c]


def test_offline_report_is_the_template_and_verifies(offline_report: Report) -> None:
    assert offline_report.path == "template"
    assert offline_report.narrative and offline_report.headline
    assert verify_report(offline_report) == []


def test_offline_report_summarises_the_application(offline_report: Report) -> None:
    app = offline_report.apps[0]
    assert app.app_id == "application_1724877841851_0016"
    assert app.executors == 10 and app.duration_ms and app.duration_ms > 40_000
    assert "43.7 s" in offline_report.narrative


def test_offline_report_has_an_executor_what_if_with_intervals(offline_report: Report) -> None:
    points = offline_report.apps[0].what_if
    assert len(points) >= 4
    current = [p for p in points if p.current]
    assert len(current) == 1 and current[0].executors == 10
    assert all(p.runtime_low_ms <= p.runtime_ms <= p.runtime_high_ms for p in points)
    fewer = min(points, key=lambda p: p.executors)
    assert fewer.runtime_ms > current[0].runtime_ms  # fewer executors cannot be faster here



def test_what_if_costs_agree_with_the_app_cost(offline_report: Report) -> None:
    app = offline_report.apps[0]
    current = next(p for p in app.what_if if p.current)
    assert current.cost == pytest.approx(app.cost.amount, rel=1e-9)  # the observed row costs what the run cost
    for point in app.what_if:  # the driver is paid for the runtime, the executors for their slots and runtime
        assert point.cost is not None and point.cost > 0
        if point.executors > current.executors:
            per_second = point.cost / point.runtime_ms
            assert per_second > current.cost / current.runtime_ms

def test_offline_report_answers_the_question_about_the_named_stage(offline_report: Report) -> None:
    assert offline_report.apps[0].asked_stages[0].stage_id == 3
    assert offline_report.answer.startswith("Stage 3 ")
    assert "With 20 executors" in offline_report.answer


def test_specialists_ran_in_parallel_with_their_tools(offline_report: Report) -> None:
    ran = {s.name: s for s in offline_report.specialists}
    assert {"metadata", "runtime", "cost", "skew"} <= set(ran)
    assert all(s.mode == "offline" for s in ran.values())
    assert any(c.startswith("what_if_executors") for c in ran["runtime"].tool_calls)
    assert any(c.startswith("app_cost") for c in ran["cost"].tool_calls)


def test_chart_series_come_from_the_profile(offline_report: Report, yarn_log: str) -> None:
    from graph.adapters import load_profiles
    from graph.config import GraphConfig

    profile = load_profiles(yarn_log, GraphConfig())[0]
    timed = {s.stage_id for s in profile.stages if s.submission_time_ms and s.completion_time_ms}
    charts = offline_report.apps[0].charts
    assert {s.stage_id for s in charts.stage_timeline} == timed
    assert max(p.allocated_cores for p in charts.utilization) == 30
    assert any(p.busy_cores > 0 for p in charts.utilization)


def test_question_parsing_finds_stages_executors_and_topics() -> None:
    q = parse_question("Why is stage 7 so skewed, and what would 12 executors cost?")
    assert q.stage_ids == [7] and q.executors == 12
    assert {"skew", "cost", "runtime"} <= set(q.topics)


def test_routing_adds_delta_for_a_table_and_skew_for_a_skew_question(yarn_log: str) -> None:
    from graph.adapters import load_profiles
    from graph.config import GraphConfig

    profiles = load_profiles(yarn_log, GraphConfig())
    plain = choose_specialists(profiles, parse_question(""), None)
    assert "delta" not in plain and {"metadata", "runtime", "cost"} <= set(plain)
    asked = choose_specialists(profiles, parse_question("is there skew?"), "/data/table")
    assert "delta" in asked and "skew" in asked


def test_routing_adds_the_data_reading_specialist_when_a_reader_inferred_a_schema() -> None:
    from tests.conftest import FIXTURES_DIR
    from tools.eventlog import load_profile

    inferred = load_profile(str(FIXTURES_DIR / "workloads" / "inferred_schema.zstd"))
    routes = choose_specialists([inferred], parse_question(""), None)
    assert routes["delta"] == "readers inferred the schema of their input files"
    report = graph.analyze([str(FIXTURES_DIR / "workloads" / "inferred_schema.zstd")])
    delta = next(run for run in report.specialists if run.name == "delta")
    assert delta.findings == 1 and any(call.startswith("diagnose(") for call in delta.tool_calls)
    assert [f.finding.rule_id for f in report.findings] == ["schema_inference_pass"]


def test_several_logs_make_one_report_with_every_application(yarn_log: str, multi_stage_log: str) -> None:
    report = graph.analyze([yarn_log, multi_stage_log])
    assert {a.app_id for a in report.apps} == {"application_1724877841851_0016", "application_1538416563558_0014"}
    assert verify_report(report) == []


def test_a_file_that_is_not_an_event_log_is_one_clear_error(tmp_path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("this is not a Spark event log\n")
    with pytest.raises(CopilotError) as info:
        graph.analyze([str(bogus)])
    assert "\n" not in str(info.value)


def test_planted_secrets_never_reach_the_report(secret_log: str) -> None:
    from planted_secrets import SECRET_VALUES

    text = graph.analyze([secret_log], question="show me the config").model_dump_json()
    assert not [s for s in SECRET_VALUES if s in text]


@pytest.mark.slow
def test_a_directory_of_twenty_one_public_logs_is_one_verified_report(eventlog_fixtures) -> None:
    from copilot.report import render

    report = graph.analyze([str(eventlog_fixtures / "apache__spark" / "spark-events")], question="why is it slow?")
    assert len(report.apps) == 21 and report.findings
    assert verify_report(report) == []
    assert any("no completed stages" in c for c in report.caveats)  # an app with nothing to simulate is a caveat
    for fmt in ("terminal", "md", "json", "html"):
        assert render(report, fmt)


def test_every_tool_answers_a_model_in_json_and_bad_calls_are_errors_not_exceptions(yarn_log: str) -> None:
    import json

    from graph.adapters import load_profiles
    from graph.config import GraphConfig
    from graph.tools import Toolbox

    toolbox = Toolbox(load_profiles(yarn_log, GraphConfig())[0], GraphConfig())
    calls = {"app_overview": {}, "stage_details": {"stage_id": 3}, "spark_config": {"prefix": "spark.executor."},
             "sql_executions": {}, "sql_plan": {"execution_id": 0}, "executors": {}, "diagnose": {"categories": ["skew"]},
             "what_if_executors": {}, "cached_data": {},
             "predict_runtime": {"changes": {"spark.executor.instances": "5"}}, "app_cost": {}}
    for name, args in calls.items():
        result = json.loads(toolbox.call(name, args))
        assert "error" not in result, (name, result)
    assert json.loads(toolbox.call("stage_details", {"stage_id": 3}))["task_duration_max_ms"] == 18601.0
    assert json.loads(toolbox.call("predict_runtime", {"changes": {"spark.executor.instances": "5"}}))["runtime_after_ms"] > 43657
    assert "not in this application" in toolbox.call("stage_details", {"stage_id": 999})
    assert "bad arguments" in toolbox.call("stage_details", {"stage": 3})
    assert json.loads(toolbox.call("stage_details", {"stage_id": "3"}))["stage_id"] == 3  # coerced by the schema
    assert "unknown tool" in toolbox.call("rm_rf", {})
    assert "only one application is loaded" in json.loads(toolbox.call("compare_runs", {}))["error"]
    assert json.loads(toolbox.call("cached_data", {})) == []  # this application persisted nothing


def test_config_findings_carry_the_runtime_models_prediction_with_an_interval(eventlog_fixtures) -> None:
    report = graph.analyze([str(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "rp_sql_eventlog.zstd")])
    aqe = next(f for f in report.findings if f.finding.category == "aqe_disabled")
    assert aqe.conf_flags[0] == "--conf spark.sql.adaptive.enabled=true"
    assert aqe.conf_set_lines[0] == 'spark.conf.set("spark.sql.adaptive.enabled", "true")'
    effect = aqe.predicted_effect
    assert effect is not None and effect.method.startswith("runtime model")
    assert effect.runtime_low_ms <= effect.runtime_after_ms <= effect.runtime_high_ms
    assert effect.runtime_before_ms == report.apps[0].duration_ms


def index_with_catalog(tmp_path, monkeypatch, shared_knowledge_index, entries) -> None:
    """Point the settings at a copy of the session's index with these config-catalog entries added."""
    import shutil

    from copilot.settings import get_settings
    from knowledge.api import ensure_default_index, open_index
    from knowledge.catalog import ConfigCatalog, catalog_documents
    from knowledge.index import KnowledgeIndex

    ensure_default_index()  # the session's shared index (cards), built once
    copy = tmp_path / "chroma"
    shutil.copytree(shared_knowledge_index, copy)
    shutil.copytree(KnowledgeIndex.lexical_dir(shared_knowledge_index).parent, KnowledgeIndex.lexical_dir(copy).parent)
    open_index(copy).ingest_documents(catalog_documents(ConfigCatalog(spark_version="4.0.0", entries=entries)))
    monkeypatch.setenv("COPILOT_CHROMA_DIR", str(copy))
    get_settings.cache_clear()


def test_a_finding_cites_the_catalog_entry_of_the_setting_it_changes(tmp_path, monkeypatch, shared_knowledge_index) -> None:
    """The broadcast finding sets spark.sql.autoBroadcastJoinThreshold: that entry, not the AQE namesake, is cited."""
    from pathlib import Path

    from knowledge.catalog import ConfigEntry

    entries = [  # the namesake shares more words with the finding's query than the key it changes
        ConfigEntry(key="spark.sql.autoBroadcastJoinThreshold", default="10MB", version="1.1.0", scope="sql",
                    meaning="Maximum size in bytes for a table that will be broadcast to all worker nodes when "
                            "performing a join. -1 disables broadcasting."),
        ConfigEntry(key="spark.sql.adaptive.autoBroadcastJoinThreshold", default="(none)", version="3.2.0", scope="sql",
                    meaning="Maximum size in bytes for a table that will be broadcast to all worker nodes when "
                            "performing a join in adaptive execution: broadcast the small side of a sort merge join "
                            "instead of shuffling and sorting both sides."),
    ]
    index_with_catalog(tmp_path, monkeypatch, shared_knowledge_index, entries)
    workload = Path(__file__).parents[1] / "fixtures" / "workloads" / "skewed_join.zstd"
    report = graph.analyze([str(workload)])
    [broadcast] = [f for f in report.findings if f.finding.rule_id == "broadcast_join_missed"]
    assert [c.key for c in broadcast.finding.recommendation.config_changes] == ["spark.sql.autoBroadcastJoinThreshold"]
    config_citations = [c.heading for c in broadcast.citations if c.kind == "config"]
    assert config_citations and config_citations[0].endswith("> spark.sql.autoBroadcastJoinThreshold"), broadcast.citations


def test_only_catalog_entries_of_settings_a_finding_names_are_cited(tmp_path, monkeypatch, shared_knowledge_index,
                                                                    eventlog_fixtures) -> None:
    """A catalog entry that merely shares words with a finding's query (a barrier-scheduling key next to job
    failures, the top catalog hit for it) is not cited; the entry of a setting the rule looks up is."""
    from tests.catalog_entries import BARRIER_CHECK_MAX_FAILURES, TASK_MAX_FAILURES
    from tools.findings import CONFIG_NAME

    index_with_catalog(tmp_path, monkeypatch, shared_knowledge_index, [TASK_MAX_FAILURES, BARRIER_CHECK_MAX_FAILURES])
    report = graph.analyze([str(eventlog_fixtures.parent / "workloads" / "retried_tasks.zstd")])
    assert {"task_failures", "job_failures"} <= {f.finding.rule_id for f in report.findings}
    for item in report.findings:
        named = {c.key for c in item.finding.recommendation.config_changes}
        named |= set(CONFIG_NAME.findall(item.finding.doc_query))
        for citation in item.citations:
            assert citation.kind != "config" or citation.heading.rsplit(" > ", 1)[-1] in named, \
                (item.finding.rule_id, citation.heading)
    retries = next(f for f in report.findings if f.finding.rule_id == "task_failures")
    assert any(c.kind == "config" and c.heading.endswith("spark.task.maxFailures") for c in retries.citations)


def test_a_setting_the_runtime_model_does_not_cover_is_not_predicted_and_raises_no_caveat(offline_report: Report) -> None:
    [dynamic] = [i for i in offline_report.findings if i.finding.rule_id == "dynamic_allocation_settings"]
    assert dynamic.finding.recommendation.config_changes[0].key == "spark.dynamicAllocation.maxExecutors"
    assert dynamic.predicted_effect is None
    assert not [c for c in offline_report.caveats if c.startswith("runtime model")], offline_report.caveats


def test_a_change_partly_covered_by_the_model_is_predicted_for_the_covered_settings(yarn_log: str) -> None:
    from graph.adapters import load_profiles
    from graph.config import GraphConfig
    from graph.nodes import Nodes
    from graph.state import AppFinding
    from tools.findings import ConfigChange, Finding, Recommendation, Severity

    config = GraphConfig()
    profile = load_profiles(yarn_log, config)[0]
    changes = [ConfigChange(key="spark.sql.adaptive.skewJoin.enabled", value="true"),  # the uncovered one first
               ConfigChange(key="spark.sql.shuffle.partitions", value="60")]
    finding = Finding(rule_id="stage_task_skew", category="skew", severity=Severity.moderate, title="t",
                      recommendation=Recommendation(summary="s", config_changes=changes))
    ranked = Nodes(config, None).rank({"profiles": [profile],
                                        "findings": [AppFinding(app_id=profile.app_id, specialist="skew", finding=finding)]})
    [effect] = ranked["artifacts"][profile.app_id].effects.values()
    assert effect.method.endswith("(spark.sql.shuffle.partitions only)") and "runtime model" in effect.method
    assert effect.runtime_after_ms != effect.runtime_before_ms and not ranked["caveats"]


def test_a_rule_estimate_of_the_code_change_is_labelled_as_such(yarn_log: str) -> None:
    """A finding whose saving is the code change's (built-ins for a Python UDF) may still paste a setting (Arrow
    evaluation): its effect line must not read as the setting's."""
    from graph.adapters import load_profiles
    from graph.config import GraphConfig
    from graph.nodes import CODE_CHANGE_ESTIMATE, finding_effect
    from tools.findings import ConfigChange, Finding, Recommendation, Savings, Severity

    config = GraphConfig()
    profile = load_profiles(yarn_log, config)[0]
    finding = Finding(rule_id="python_udf_row_at_a_time", category="python_udf", severity=Severity.moderate, title="t",
                      recommendation=Recommendation(summary="s", config_changes=[
                          ConfigChange(key="spark.sql.execution.pythonUDF.arrow.enabled", value="true")]),
                      estimated_savings=Savings(wall_ms=1000.0, code_change_only=True))
    effect = finding_effect(finding, profile, config)
    assert effect.method == CODE_CHANGE_ESTIMATE
    assert effect.runtime_after_ms == pytest.approx(profile.duration_ms - 1000.0)
    finding.estimated_savings.code_change_only = False
    assert finding_effect(finding, profile, config).method == "rule estimate"


def test_a_local_mode_question_about_executors_is_answered_in_cores(eventlog_fixtures, tmp_path_factory) -> None:
    """skewed_join ran on local[2]: the report's answer says the executor count is fixed and reads the question's
    number as cores, and the answer verifies against the what-if rows."""
    log = str(eventlog_fixtures.parent / "workloads" / "skewed_join.zstd")
    with isolated_env(tmp_path_factory):
        report = graph.analyze([log], question="how long with 4 executors?")
    four = next(p for p in report.apps[0].what_if if p.cores_per_executor == 4)
    assert report.answer.startswith("This run is in local mode: one JVM runs every task"), report.answer
    assert f"With 4 cores the simulator predicts {four.runtime_ms / 1000:.1f} s" in report.answer
    assert verify_report(report) == []


def test_a_shell_session_is_described_as_one_and_a_redacted_master_is_not_printed(eventlog_fixtures, yarn_log: str) -> None:
    """The public app-20200706201101-0003 is a spark-shell session whose log already carries Spark's redaction
    marker for spark.master: the report's description and the chat overview say what it is, and not the marker."""
    from graph.compose import describe_app
    from graph.intents import overview
    from graph.tools import Toolbox
    from graph.topics import time_facts
    from tools.eventlog import load_profile

    shell = load_profile(eventlog_fixtures / "apache__spark" / "spark-events" / "app-20200706201101-0003")
    assert describe_app(shell).startswith(
        "Spark shell is an interactive SQL/DataFrame session (spark-shell) on Spark 3.1.0-SNAPSHOT "
        "(master redacted in the log) that ran 3 jobs")
    chat = overview("what is this app?", Toolbox(shell))
    assert "an interactive spark-shell session" in chat and "Spark 3.1.0-SNAPSHOT, master redacted in the log:" in chat
    assert "*****" not in describe_app(shell) + chat
    assert "(driver only; in an interactive spark-shell session mostly time between commands)" in time_facts(Toolbox(shell))
    job = load_profile(yarn_log)
    assert describe_app(job).startswith(f"ProcessLargeDataset is an SQL/DataFrame application on Spark {job.spark_version} (master yarn")
    assert "interactive" not in overview("what is this app?", Toolbox(job)) + time_facts(Toolbox(job))


def test_a_description_without_a_spark_version_keeps_one_parenthesis(eventlog_fixtures) -> None:
    """Spark 1.3 logs carry no version: "(spark-shell, master local[*])", not "(spark-shell) (master local[*])"."""
    from graph.compose import describe_app
    from tools.eventlog import load_profile

    old = load_profile(eventlog_fixtures / "apache__spark" / "spark-events" / "local-1426533911241")
    assert old.spark_version is None
    assert describe_app(old) == ("Spark shell is an interactive RDD session (spark-shell, master local[*]) that ran "
                                 "1 job / 1 stage / 8 tasks.")


def test_a_streaming_application_is_described_by_its_queries_not_by_a_runtime_what_if(eventlog_fixtures) -> None:
    """A stream runs until it is stopped: the report gives each query's micro-batch figures (in the narrative and
    the JSON), no executor-count runtime curve, and a caveat saying why; the narrative still verifies."""
    from evals.harness.faithfulness import check_faithfulness
    from tools.eventlog import load_profile

    log = eventlog_fixtures.parent / "workloads" / "stopped_stream.zstd"
    report = graph.analyze([str(log)])
    [app] = report.apps
    [query] = app.streaming
    assert query.name == "rate_counts" and query.batches == 4
    assert f"Streaming query rate_counts: 4 micro-batches, {query.input_rows_per_second_mean:,.0f} rows/s arriving" \
        in report.narrative
    assert "rows of state" in report.narrative
    from graph.compose import evidence_digest  # what an LLM writing the narrative is given

    assert "  streaming: Streaming query rate_counts: 4 micro-batches" in evidence_digest(report)
    assert app.what_if == []
    assert any("is a streaming application: it runs until it is stopped" in c for c in report.caveats)
    assert verify_report(report) == []
    claims = check_faithfulness(report, [load_profile(str(log))])
    assert claims and all(c.supported for c in claims), [c.text for c in claims if not c.supported]


def test_a_streaming_applications_findings_predict_no_runtime(eventlog_fixtures) -> None:
    """lagging_stream's UDF finding saves core time, but no change shortens a stream that runs until stopped: the
    report carries no runtime effect for any of its findings, and its falling-behind finding is there."""
    report = graph.analyze([str(eventlog_fixtures.parent / "workloads" / "lagging_stream.zstd")])
    rules = {f.finding.rule_id for f in report.findings}
    assert {"python_udf_row_at_a_time", "streaming_falling_behind"} <= rules
    assert all(f.predicted_effect is None for f in report.findings)
    udf = next(f for f in report.findings if f.finding.rule_id == "python_udf_row_at_a_time")
    assert udf.finding.estimated_savings.core_ms > 0
    behind = next(f for f in report.findings if f.finding.rule_id == "streaming_falling_behind")
    assert behind.citations and behind.citations[0].source.startswith("Streaming query falling behind")


def test_the_chat_says_a_log_without_a_finished_task_had_nothing_to_check(eventlog_fixtures, tmp_path) -> None:
    """Asked for problems in a log cut off before its first task ended, the chat said 'The rules found nothing
    worth changing here.', which reads as a clean run."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    log = eventlog_fixtures / "apache__spark" / "spark-events" / "application_1536831636016_59384_1"
    lines = log.read_text().splitlines(keepends=True)
    cut = tmp_path / "cut_before_tasks"
    cut.write_text("".join(lines[:next(i for i, line in enumerate(lines) if '"SparkListenerTaskEnd"' in line)]))
    answer = answer_offline("what are the problems?", Toolbox(load_profile(cut)))
    assert "No task finished in this log, so the rules had nothing to check." in answer
    assert "nothing worth changing" not in answer
    whole = answer_offline("what are the problems?", Toolbox(load_profile(log)))
    assert "nothing to check" not in whole


def test_memory_and_idle_questions_that_name_executors_get_their_topic(yarn_log: str) -> None:
    """'how much memory do executors need?' got the executor-count curve (any question naming executors did), and
    'why are my executors idle?' the driver-time figures: now the heap peaks and the memory finding, and where the
    allocated core time went."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(yarn_log))
    memory = answer_offline("how much memory do executors need?", toolbox)
    assert memory.startswith("The largest heap peak was 1.1 GiB; spark.executor.memory is 9397M.")
    # on YARN the driver is a JVM of its own: its heap is said apart (this log records no driver peaks)
    assert "The driver's heap peak is not in the log; spark.driver.memory is 2048M." in memory
    assert "Executors peaked at 1.1 GiB of heap with 9.2 GiB allocated" in memory and "Simulated runtime" not in memory
    idle = answer_offline("why are my executors idle?", toolbox)
    assert idle.startswith("Of 18.2 min of executor core time, tasks ran 4.5 min (25%)")
    assert "Stages that left the most cores waiting: stage 3: 30 cores for 18.6 s" in idle


def test_yes_no_questions_about_a_setting_get_the_runs_value_and_what_it_did(yarn_log: str) -> None:
    """'did it use dynamic allocation?' got the overview: now the run's value, for dynamic allocation its bounds and
    how the executor count moved, and the finding that changes its bounds."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(yarn_log))
    answer = answer_offline("did it use dynamic allocation?", toolbox).splitlines()
    assert answer[:2] == [
        "In this run spark.dynamicAllocation.enabled = true.",
        "Bounds: minExecutors not set, initialExecutors not set, maxExecutors not set. "
        "Executors: 10 in all, at most 10 at once, none removed before the end."]
    assert answer[2].startswith('Finding "Dynamic allocation: maxExecutors unbounded (this run peaked at 10 executors)" '
                                "changes spark.dynamicAllocation.maxExecutors:")
    assert answer_offline("was AQE on?", toolbox) == (
        "This run did not set spark.sql.adaptive.enabled (Spark's default applies: true).")
    assert answer_offline("is speculation enabled?", toolbox) == (
        "This run did not set spark.speculation (Spark's default applies: false).")
    off = Toolbox(load_profile(yarn_log.replace("join_agg_on_yarn_eventlog.zstd", "aqeshuffle_eventlog.zstd")))
    assert answer_offline("did it use dynamic allocation?", off) == (  # no bounds or scaling for a run without it
        "This run did not set spark.dynamicAllocation.enabled (Spark's default applies: false).")


def test_the_bottleneck_is_where_the_time_went_with_the_findings_on_the_longest_stages(yarn_log: str) -> None:
    """'what is the bottleneck?' got three unrelated documentation passages; 'what is taking the most time?' the
    figures and then documentation, although the longest stage (3, the critical path) has a skew finding."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(yarn_log))
    for question in ("what is the bottleneck?", "what is taking the most time?"):
        answer = answer_offline(question, toolbox)
        assert answer.startswith("The run took 43.7 s; 14.5 s with no job running")
        assert "\n1. [moderate] Stage 3: longest task 18.6 s vs median 3.1 s (6.0x)\n" in answer
        assert "the documentation" not in answer


def test_partition_questions_get_the_setting_and_the_data_per_task(eventlog_fixtures) -> None:
    """'how big were the partitions?' got the overview. Now the setting and AQE (which coalesced the default 200
    shuffle partitions of this Spark 3.2 run into 13 tasks), the stages that read the most with their data per
    task, and the spill finding those partitions caused."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    profile = load_profile(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "aqeshuffle_eventlog.zstd")
    lines = answer_offline("how big were the partitions?", Toolbox(profile)).splitlines()
    assert lines[:3] == [
        "This run did not set spark.sql.shuffle.partitions (Spark's default applies: 200).",
        "This run did not set spark.sql.adaptive.enabled (Spark's default applies: true).",
        "Stage 4: 13 tasks reading 96.7 MiB of shuffle data, median 7.7 MiB per task, largest 7.7 MiB."]
    assert "1. [severe] Stage 4 spilled 113.4 MiB to disk (1.2x of its input)" in lines


def test_what_to_change_first_without_a_setting_to_change_gives_the_biggest_fix(eventlog_fixtures) -> None:
    """The spark-shell log's only finding is fixed by ending the session, not by a setting: 'what should I change
    first?' answered only 'No finding calls for a configuration change.'"""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    profile = load_profile(eventlog_fixtures / "apache__spark" / "spark-events" / "local-1642039451826")
    lines = answer_offline("what should I change first?", Toolbox(profile)).splitlines()
    assert lines[0] == "No finding calls for a configuration change. The biggest fix:"
    assert lines[1].startswith("1. [moderate] 99% of the spark-shell session (85.0 s) had no Spark job running")
    assert any(line.startswith("   code: End the session when the work is done") for line in lines)


def test_cores_a_concurrent_stage_kept_busy_do_not_count_as_waiting(yarn_log: str) -> None:
    """Stage 0 of the YARN join log ran 1 task on 30 cores: '2% busy'. Had another stage's tasks kept 10 of those
    cores busy meanwhile (a concurrent job, the other side of a join), the cores did not all wait: the answer
    counts them and says so."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    profile = load_profile(yarn_log)
    stage = next(s for s in profile.stages if s.stage_id == 0)
    busy = stage.metrics.duration_ms.model_copy(update={"sum": 10.0 * stage.duration_ms, "count": 60})
    other = stage.model_copy(update={"stage_id": 99, "num_tasks": 60,
                                     "metrics": stage.metrics.model_copy(update={"duration_ms": busy})})
    alone = answer_offline("why is the utilization low?", Toolbox(profile))
    assert "stage 0: 30 cores for 5.3 s, 2% busy (1 task on 30 cores)" in alone
    shared = answer_offline("why is the utilization low?",
                            Toolbox(profile.model_copy(update={"stages": [*profile.stages, other]})))
    assert "stage 0: 30 cores for 5.3 s, 35% busy, 10.0 of them on average by concurrent stages (1 task on 30 cores)" in shared


def test_streaming_questions_get_each_querys_progress_and_whether_it_keeps_up(eventlog_fixtures, yarn_log: str) -> None:
    """'is the stream keeping up?' got the overview and 'The rules found nothing worth changing here.'; 'what is
    the processing rate?' three unrelated documentation passages. Now the query's rates, batches and a verdict; a
    query processing slower than its rows arrive is falling behind, with the rule's finding."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    profile = load_profile(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "streaming_eventlog.zstd")
    expected = ("Streaming query c86ef692-94c1-4171-919e-477831146f91: 1 micro-batch, 7 rows/s arriving and 26 rows/s "
                "processed on average; median batch 2.7 min, longest 2.7 min; then it was stopped. It is keeping up: it "
                "processes rows 3.7x as fast as they arrive.")
    assert answer_offline("is the stream keeping up?", Toolbox(profile)) == expected
    assert answer_offline("what is the processing rate?", Toolbox(profile)) == expected  # a figure of the run: no docs
    query = profile.streaming[0]
    slow = query.model_copy(update={"batches": 5, "processed_rows_per_second_mean": 3.5})
    behind = answer_offline("is the stream keeping up?", Toolbox(profile.model_copy(update={"streaming": [slow]})))
    assert "It is falling behind: it processes rows 0.5x as fast as they arrive." in behind
    assert "\n1. [severe] Query c86ef692 processes 4 rows/s but receives 7 rows/s: its backlog grows\n" in behind
    assert answer_offline("is the stream keeping up?", Toolbox(load_profile(yarn_log))) == (
        "This application ran no structured-streaming query (the log has no query progress events).")


def test_is_there_skew_is_answered_with_the_most_uneven_stages(yarn_log: str, eventlog_fixtures) -> None:
    """'is there skew?' said only 'No finding about skew in this run.' on a run without skew, and gave no figures
    beside the finding on one with it: now the stages whose longest task ran furthest above the median."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    skewed = answer_offline("is there skew?", Toolbox(load_profile(yarn_log)))
    assert skewed.startswith("Most uneven stages (longest task against the median): stage 3: 18.6 s vs 3.1 s (6.0x); "
                             "stage 2: 190 ms vs 50 ms (3.8x); stage 5: 2.3 s vs 1.9 s (1.2x).\n1. [moderate] Stage 3:")
    even = load_profile(eventlog_fixtures / "apache__spark" / "spark-events" / "local-1422981759269")
    assert answer_offline("is there skew?", Toolbox(even)) == (
        "Most uneven stages (longest task against the median): stage 5: 23 ms vs 20 ms (1.1x); "
        "stage 0: 561 ms vs 552 ms (1.0x); stage 4: 251 ms vs 247 ms (1.0x).")


def test_what_the_driver_collected_is_answered_with_the_result_sizes(eventlog_fixtures) -> None:
    """'how much data was collected to the driver?' got the driver-time figures (the word 'driver'): now what the
    tasks sent back, by stage, against spark.driver.maxResultSize."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    profile = load_profile(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "jdbc_eventlog.zstd")
    assert answer_offline("how much data was collected to the driver?", Toolbox(profile)) == (
        "Tasks sent 766.5 KiB of results to the driver; most in stage 2 (759.3 KiB), stage 3 (2.6 KiB), stage 0 "
        "(2.3 KiB). This run did not set spark.driver.maxResultSize (Spark's default applies: 1g).")


def test_a_job_or_stage_named_by_its_place_in_the_run_is_answered(yarn_log: str) -> None:
    """'why was the first job slow?' got the findings list: the first, second, third and last job or stage are the
    lowest, second, third and highest ids."""
    from graph.intents import answer_offline
    from graph.query_answers import ordinal_id
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(yarn_log))
    assert answer_offline("why was the first job slow?", toolbox).startswith("Job 0 ran 5.3 s, succeeded; stage 0.")
    assert answer_offline("what did the last stage do?", toolbox).startswith(
        "Stage 5 (SQL 0: HashAggregate, BroadcastHashJoin) ran 2.3 s with 16 tasks")
    assert answer_offline("what did the last job do?", toolbox).startswith("Job 4 ran 2.3 s")
    assert answer_offline("what did the first stage do?", toolbox).startswith(
        "Stage 0 (parquet at NativeMethodAccessorImpl.java:0) ran 5.3 s with 1 task;")  # not '1 tasks'
    assert ordinal_id("the second stage", "stage", [4, 1, 9]) == 4 and ordinal_id("the third job", "job", [0, 1]) is None


def test_sizing_and_speed_questions_get_the_runs_values_and_findings(yarn_log: str) -> None:
    """'is 9g of executor memory too much?' got a model prediction for 9g (read as a change), 'can I use smaller
    executors?' the executor-count curve and 'how do I make it faster?' documentation: now the run's value with the
    finding's recommended one, and the findings ranked by savings."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(yarn_log))
    for question in ("is 9g of executor memory too much?", "can I use smaller executors?"):
        assert answer_offline(question, toolbox).startswith(
            "In this run spark.executor.memory = 9397M.\nRecommended: spark.executor.memory=1751m, from \"Executors peaked "
            "at 1.1 GiB of heap with 9.2 GiB allocated\"")
    assert answer_offline("how do I make it faster?", toolbox).startswith(
        "1. [moderate] Stage 3: longest task 18.6 s vs median 3.1 s (6.0x)")


def test_why_a_stream_stopped_is_answered_with_its_error(eventlog_fixtures) -> None:
    """A query that stopped with an error (real PySpark log: its foreachBatch sink raised on the third batch): the
    chat's streaming answer says so, with the exception, and the finding follows."""
    from pathlib import Path

    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    log = Path(eventlog_fixtures).parent / "workloads" / "failed_stream.zstd"
    answer = answer_offline("why did the stream stop?", Toolbox(load_profile(log)))
    assert answer.startswith("Streaming query failing_sink: 2 micro-batches, ")
    assert ("; it failed: py4j.Py4JException: An exception was raised by the Python Proxy. Return Message: "
            "RuntimeError: sink rejected batch 2: target table is read-only.") in answer
    assert "\n1. [severe] Query failing_sink stopped with an error after 2 micro-batches\n" in answer
    stopped = load_profile(Path(eventlog_fixtures).parent / "workloads" / "stopped_stream.zstd")
    assert "; then it was stopped." in answer_offline("is the stream keeping up?", Toolbox(stopped))


def test_speculative_copies_are_counted_by_stage(eventlog_fixtures, yarn_log: str) -> None:
    """'were there any speculative tasks?' got the overview: now spark.speculation and the copies, by stage (this
    public YARN log ran with speculation on and launched one copy of its straggler in stage 0)."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    on = load_profile(eventlog_fixtures / "apache__spark" / "spark-events" / "application_1628109047826_1317105")
    assert answer_offline("were there any speculative tasks?", Toolbox(on)).startswith(
        "In this run spark.speculation = true. 1 speculative task attempt ran, in stage 0 (1).")
    assert answer_offline("were there any speculative tasks?", Toolbox(load_profile(yarn_log))) == (
        "This run did not set spark.speculation (Spark's default applies: false). No task ran a speculative copy.")


def test_cost_questions_with_a_schedule_or_by_stage(yarn_log: str) -> None:
    """'how much would it cost per month if it runs daily?' and 'which stage costs the most?' got the run's cost only."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(yarn_log))
    run = toolbox.app_cost().amount
    monthly = answer_offline("how much would it cost per month if it runs daily?", toolbox).splitlines()
    assert monthly[0].startswith("The run cost about $0.0144")
    assert monthly[1].startswith("Run once a day, that is about ") and f"${run * 365:.2f} a year" in monthly[1]
    assert answer_offline("which stage costs the most?", toolbox).splitlines()[1] == (
        "Stages by task time (their share of the cost of busy cores): stage 3 2.6 min (58%); stage 1 77.4 s (29%); "
        "stage 5 29.7 s (11%).")
    assert len(answer_offline("what did it cost?", toolbox).splitlines()) == 1


def test_join_questions_list_the_plans_joins(eventlog_fixtures, yarn_log: str) -> None:
    """'what joins ran?' got the overview and 'were there broadcast joins?' 'No finding about broadcast joins': now
    the joins of the SQL plans by strategy, each with its keys and output rows."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    profile = load_profile(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "rp_sql_eventlog.zstd")
    expected = ("Joins in the SQL plans: 1 SortMergeJoin.\nSQL 0: SortMergeJoin (Inner) on a = b, 10,000,000 output rows "
                "from 10,000,000 and 10,000,000 (1.00x the larger input)")
    assert answer_offline("what joins ran?", Toolbox(profile)).startswith(expected)
    assert answer_offline("were there broadcast joins?", Toolbox(profile)).startswith(expected)
    rdd = load_profile(eventlog_fixtures / "apache__spark" / "spark-events" / "local-1422981759269")
    assert answer_offline("what joins ran?", Toolbox(rdd)).startswith("The log has no SQL plans")
    # AQE renames a join whose skewed partitions it split: it was missed ('No SQL plan in this log has a join.')
    split = load_profile(eventlog_fixtures.parent / "workloads" / "aqe_skew_split.zstd")
    assert answer_offline("what joins ran?", Toolbox(split)).startswith(
        "Joins in the SQL plans: 1 SortMergeJoin.\nSQL 0: SortMergeJoin (Inner, skewed partitions split by AQE) on k, "
        "2,000,000 output rows from 2,000,000 and 50,000 (1.00x the larger input)")


def test_caching_questions_get_the_persisted_data_and_the_finding(eventlog_fixtures) -> None:
    """'what was cached?' had no answer (the profile kept no cache information): now each persisted dataset with its
    storage level and the actions that ran it, then the finding on the one never reused; a concept question about
    caching also gets the documentation after the run's findings."""
    from pathlib import Path

    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    workloads = Path(eventlog_fixtures).parent / "workloads"
    toolbox = Toolbox(load_profile(workloads / "cache_read_once.zstd"))
    answer = answer_offline("what was cached?", toolbox)
    assert answer.startswith("2 persisted datasets:\n  RDD 7 (HashAggregate(keys=[_groupingexpression], functions=[sum(id)]")
    assert ("  RDD 23 (Project [(id % 97) AS k, (id * 3) AS v] +- Range (0, 1000000, step=1, splits=2)): Disk Memory "
            "Serialized 1x Replicated, 2 partitions, run by 1 action (SQL 2); read once, never reused; never unpersisted\n"
            ) in answer
    assert "run by 2 actions (SQL 0, SQL 1); unpersisted\n" in answer
    assert "\n1. [low] 1 cached dataset read by one action only: never reused\n" in answer
    concept = answer_offline("what is the difference between cache and persist?", toolbox)
    assert "\n1. [low] 1 cached dataset" in concept and "\n\nThe documentation:\n\n" in concept
    assert "DataFrame.persist" in concept.split("The documentation:")[1]
    healthy = Toolbox(load_profile(workloads / "healthy.zstd"))
    assert answer_offline("was anything cached?", healthy) == (
        "Nothing was cached: no stage ran through a persisted RDD or cached DataFrame.")


def test_the_jobs_and_stages_are_listed_in_order(yarn_log: str) -> None:
    """The public YARN log: 5 jobs (three of them run for SQL 0) and 6 stages, one skipped (its shuffle was reused)."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(yarn_log))
    jobs = answer_offline("list the jobs", toolbox).splitlines()
    assert jobs[0] == "5 jobs; jobs were running for 29.2 s of the run:"
    assert jobs[1] == "  job 0: 5.3 s, succeeded, stage 0"
    assert jobs[4] == "  job 3: 18.6 s, succeeded, stage 3, SQL 0"
    assert jobs[5] == "  job 4: 2.3 s, succeeded, stages 4-5, SQL 0"
    stages = answer_offline("what stages ran?", toolbox).splitlines()
    assert stages[0] == "6 stages (5 complete, 1 skipped):"
    assert stages[4] == "  stage 3 (SQL 0: Scan parquet, Filter, BroadcastHashJoin, HashAggregate): complete, 30 tasks, 18.6 s"
    assert stages[5] == "  stage 4 (saveAsTable at NativeMethodAccessorImpl.java:0): skipped"


def test_the_cached_data_tool_gives_a_model_each_persisted_dataset(eventlog_fixtures) -> None:
    import json

    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(eventlog_fixtures.parent / "workloads" / "cache_read_once.zstd"))
    reused, once = json.loads(toolbox.call("cached_data", {}))
    assert (reused["rdd_id"], reused["actions"], reused["unpersisted"]) == (7, 2, True)
    assert (once["rdd_id"], once["actions"], once["sql_execution_ids"]) == (23, 1, [2])
    assert once["storage_level"] == "Disk Memory Serialized 1x Replicated"
    assert "cached_data" in [t.name for t in toolbox.langchain_tools()]


def test_the_executor_count_and_a_settings_value_are_answered_from_the_run(eventlog_fixtures) -> None:
    """A public YARN shell session (9 executors, at most 8 at once, 2-4 cores each) and a local-mode workload."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    yarn = Toolbox(load_profile(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "rp_sql_eventlog.zstd"))
    assert answer_offline("how many executors did it use?", yarn).startswith(
        "9 executors, at most 8 at once, 2-4 cores each: 24 cores at the peak.\nExecutors by task time (+4 more):\n")
    assert answer_offline("what was the executor memory?", yarn) == "In this run spark.executor.memory = 20g."
    assert answer_offline("what was the broadcast threshold?", yarn) == (  # a byte count is also given as a size
        "In this run spark.sql.autoBroadcastJoinThreshold = 26214400 (25.0 MiB).")
    assert answer_offline("what was the shuffle partitions setting?", yarn) == (
        "This run did not set spark.sql.shuffle.partitions (Spark's default applies: 200).")
    local = Toolbox(load_profile(eventlog_fixtures.parent / "workloads" / "healthy.zstd"))
    assert answer_offline("how many cores did it have?", local).startswith(
        "Local mode: the tasks ran in the driver's JVM, 2 cores.\n")


def test_what_to_change_first_leads_with_the_biggest_fix_when_it_is_not_a_setting(eventlog_fixtures) -> None:
    """BisectingKMeans on YARN lost 8 of its 9 executors; the only setting any finding changes is the dynamic-allocation
    bound. 'what should I change first?' answered with that bound alone."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(eventlog_fixtures / "apache__spark" / "spark-events" / "application_1538416563558_0014"))
    answer = answer_offline("what should I change first?", toolbox)
    assert answer.startswith("The biggest fix is not a setting:\n1. [severe] 8 task attempts failed (22.9%)")
    assert "\n\nSettings the other findings change:\n\n# Dynamic allocation: maxExecutors unbounded" in answer
    assert answer_offline("show me the config to change", toolbox).startswith("# Dynamic allocation")


def test_what_aqe_did_is_read_from_the_final_plans(eventlog_fixtures) -> None:
    """'what did AQE do?' got the overview and every finding. The YARN join log's aggregation wrote 1,000 shuffle
    partitions that AQE read as 16; the spark-shell join read both sides' 200 as 13; Spark 3.1 without AQE says so."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    rapids = eventlog_fixtures / "NVIDIA__spark-rapids-tools"
    yarn = answer_offline("what did AQE do?", Toolbox(load_profile(rapids / "join_agg_on_yarn_eventlog.zstd")))
    assert yarn == ("This run did not set spark.sql.adaptive.enabled (Spark's default applies: true).\n"
                    "SQL 0: coalesced shuffle read, 1,000 shuffle partitions read as 16")
    join = answer_offline("what did AQE do?", Toolbox(load_profile(rapids / "aqeshuffle_eventlog.zstd")))
    assert join.endswith("SQL 0: coalesced shuffle read, 200 shuffle partitions read as 13 (2 reads)")
    off = answer_offline("what did AQE do?", Toolbox(load_profile(rapids / "rp_sql_eventlog.zstd")))
    assert off.startswith("This run did not set spark.sql.adaptive.enabled (Spark's default applies: false).\n"
                          "No AQE shuffle read in the final plans")
    assert "\n1. [moderate] AQE is off for 1 SQL execution with shuffles\n" in off
    split = answer_offline("what did AQE do?", Toolbox(load_profile(eventlog_fixtures.parent / "workloads" / "aqe_skew_split.zstd")))
    assert ("SQL 0: coalesced and skewed shuffle read, 16 shuffle partitions read as 5; 1 skewed partition split into "
            "2 tasks\n") in split


def test_a_stage_not_in_the_run_is_named_with_the_ones_it_has(eventlog_fixtures) -> None:
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(eventlog_fixtures.parent / "workloads" / "healthy.zstd"))
    assert answer_offline("why is stage 12 slow?", toolbox) == (
        "I cannot answer that from this log: stage 12 is not in this application (it has stages 0-3).")


def test_analyze_answers_a_topic_question_with_that_topics_findings(eventlog_fixtures) -> None:
    """`copilot analyze --ask 'what was cached?'` answered with the top finding whatever the topic; it now names the
    topic's findings, or says there is none before giving the top fix."""
    log = str(eventlog_fixtures.parent / "workloads" / "cache_read_once.zstd")
    cached = graph.analyze([log], question="what was cached?")
    assert cached.answer == "On caching: #1 1 cached dataset read by one action only: never reused."
    skew = graph.analyze([log], question="is there skew?")
    assert skew.answer.startswith("No finding about skew in this run. The most valuable change is #1: 1 cached dataset")
    slow = graph.analyze([log], question="why is it taking so long?")
    assert slow.answer.startswith("The most valuable change is #1: ")
    assert parse_question("why is it taking so long?").subject is None
    assert parse_question("did anything spill?").categories == ["spill"]


def test_the_fix_in_an_answer_gives_the_code_change_when_no_setting_applies(eventlog_fixtures) -> None:
    """A JDBC read in one partition: no setting splits it, so the fix is the read's options. The answers (analyze
    --ask, the chat's fix list and its stage answer) stopped at 'Split the stage's work into at least 6
    partitions', which says nothing about how."""
    log = str(eventlog_fixtures.parent / "workloads" / "jdbc_one_partition.zstd")
    result = graph.analyze([log], question="how can I make the JDBC read faster?")
    assert result.answer.startswith("The most valuable change is #1: Stage 1 ran 1 task on 2 cores for 8.9 s. Split the "
                                    "stage's work into at least 6 partitions (about 3 per core). The stage reads ORDERS "
                                    "over JDBC in 1 partition")
    assert "partitionColumn" in result.answer and "numPartitions=6" in result.answer
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(log))
    assert "   -> Split the stage's work into at least 6 partitions (about 3 per core). The stage reads ORDERS over JDBC" in (
        answer_offline("what should I fix?", toolbox))
    assert "- Stage 1 ran 1 task on 2 cores for 8.9 s -> Split the stage's work into at least 6 partitions (about 3 per " \
           "core). The stage reads ORDERS over JDBC" in answer_offline("why is stage 1 slow?", toolbox)


def test_why_is_it_slow_with_nothing_to_fix_says_where_the_time_went(eventlog_fixtures) -> None:
    """A Spark 2.2 spark-shell session: 47 s, of which 0.5 s ran jobs, under every rule's threshold. 'why is it
    slow?' answered only that nothing was worth changing."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "spark2-eventlog.zstd"))
    assert answer_offline("why is it slow?", toolbox).startswith(
        "The rules found nothing worth changing here. Where the time went:\nThe run took 47.1 s; 46.5 s with no job "
        "running (driver only; in an interactive spark-shell session mostly time between commands)")
    assert answer_offline("what should I fix?", toolbox) == "The rules found nothing worth changing here."


def test_a_join_that_multiplies_rows_is_answered_with_its_inputs_and_the_finding(eventlog_fixtures) -> None:
    """exploding_join: 'does a join multiply rows?' gives each join's rows in and out and the join-explosion finding;
    'what joins ran?' shows the same rows against the larger input."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(eventlog_fixtures.parent / "workloads" / "exploding_join.zstd"))
    answer = answer_offline("does a join multiply rows?", toolbox)
    assert "12,500,000 output rows from 500,000 and 500,000 (25.0x the larger input)" in answer
    assert "1. [moderate] BroadcastHashJoin in SQL 0 multiplies rows 25.0x" in answer
    assert "side.groupBy('customer_id').count().where('count > 1')" in answer
    healthy = Toolbox(load_profile(eventlog_fixtures.parent / "workloads" / "healthy.zstd"))
    joins = answer_offline("what joins ran?", healthy)
    assert "1,000,000 output rows from 1,000,000 and 10,000 (1.00x the larger input)" in joins
    assert "multiplies rows" not in joins
    report = graph.analyze([str(eventlog_fixtures.parent / "workloads" / "exploding_join.zstd")],
                           question="are there duplicate keys?")
    assert report.answer.startswith("On join row explosion: #1 BroadcastHashJoin in SQL 0 multiplies rows 25.0x")


def test_files_read_again_by_later_queries_are_told_with_the_caching_facts(eventlog_fixtures) -> None:
    """repeated_read: three actions each read the same filtered Parquet files. 'is any input read twice?' said only
    that nothing was cached; it now names the files, the SQL executions and the bytes read again, also when they are
    under the rule's threshold (no finding)."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(eventlog_fixtures.parent / "workloads" / "repeated_read.zstd"))
    answer = answer_offline("is any input read twice?", toolbox)
    first, second = answer.splitlines()
    assert first == "Nothing was cached: no stage ran through a persisted RDD or cached DataFrame."
    assert second.startswith("Parquet files at file:/tmp/problem-repeated_read-")
    assert second.endswith("/events read by 3 SQL executions (SQL 1, SQL 2, SQL 3): 255.5 MiB read again after the first read")


def test_a_union_reading_its_files_once_per_branch_is_told_with_the_caching_facts(eventlog_fixtures) -> None:
    """union_of_filters: one query unions 8 filtered copies of the orders. 'why does my union read the table 8
    times?' names the query, the branches' filter values and the file bytes read again, then the finding."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(eventlog_fixtures.parent / "workloads" / "union_of_filters.zstd"))
    answer = answer_offline("why does my union read the table 8 times?", toolbox)
    assert "SQL 1: a union of 8 branches (region: 0, 1, 2, 3, 4, ... (8 values)) scanned Parquet files at" in answer
    assert "/orders once per branch: 2.4 GiB of files read again\n1. [moderate] SQL 1 (save): a union of 8" in answer


def test_a_cache_holding_columns_no_query_used_is_told_with_the_caching_facts(eventlog_fixtures) -> None:
    """cached_wide_table: 30 columns cached, two queries using 3. 'why is my cache slow to fill?' names the columns
    the readers used beside the cache's, then the finding."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(eventlog_fixtures.parent / "workloads" / "cached_wide_table.zstd"))
    answer = answer_offline("why is my cache slow to fill?", toolbox)
    assert ("SQL 1 cached 30 columns of Scan parquet; the queries reading it (SQL 1, SQL 2) used 3: customer_id, "
            "amount, status\n1. [moderate] SQL 1 (save): the cache holds all 30 columns") in answer


def test_a_summary_recomputed_by_later_actions_is_told_with_the_caching_facts(eventlog_fixtures) -> None:
    """summary_recomputed: a joined and aggregated summary written, then collected and totalled without persisting.
    'why does my job compute the summary three times?' names what each later query ran again, then the finding."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(eventlog_fixtures.parent / "workloads" / "summary_recomputed.zstd"))
    answer = answer_offline("why does my job compute the summary three times?", toolbox)
    assert ("SQL 3 ran again the HashAggregate, SortMergeJoin, Sort that SQL 2 ran, over the same inputs (stages 13, "
            "14, 17: 5.2 s of task time)\nSQL 4 ran again the SortMergeJoin, Sort that SQL 2 ran") in answer
    assert "\n1. [moderate] SQL 2 (parquet): its HashAggregate, SortMergeJoin, Sort run again by 2 later" in answer


def test_a_loop_whose_passes_get_slower_is_answered_with_what_each_pass_reran(eventlog_fixtures) -> None:
    """iterative_ranks: six passes extending one DataFrame. 'why does each iteration of my loop get slower?' is a
    caching question: each later pass's rerun work, then the loop finding."""
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    toolbox = Toolbox(load_profile(eventlog_fixtures.parent / "workloads" / "iterative_ranks.zstd"))
    answer = answer_offline("why does each iteration of my loop get slower?", toolbox)
    assert "SQL 3 ran again the HashAggregate, BroadcastHashJoin that SQL 2 ran, over the same inputs (stages 27" in answer
    assert "\n1. [moderate] SQL 1 (first at " in answer and "Each pass of a loop ran every pass before" in answer


def test_analyze_answers_which_stage_took_longest_with_that_stage(eventlog_fixtures) -> None:
    """`analyze --ask 'which stage took longest and why?'` answered with the top fix; it now answers with the longest
    stage's figures (named by what ran in it) and the findings on it, every number traced to the report."""
    from graph.verify import verify_report

    assert parse_question("which stage took longest and why?").longest_stage
    assert not parse_question("why is stage 3 slow?").longest_stage
    report = graph.analyze([str(eventlog_fixtures.parent / "workloads" / "skewed_join.zstd")],
                           question="which stage took longest and why?")
    assert [s.stage_id for s in report.apps[0].asked_stages] == [4]
    assert report.answer.startswith("Stage 4 (SQL 0: Sort, SortMergeJoin, HashAggregate) ran 50.8 s with 16 tasks; "
                                    "median task 1.2 s, slowest 38.8 s")
    assert "Findings on this stage: #1 Stage 4: longest task 38.8 s vs median 1.2 s (31.3x)" in report.answer
    # and which of its operators took the time: the pre-aggregation of the 48.6M joined rows
    assert "SortMergeJoin: 48,600,000 rows; HashAggregate: 592 rows, peak memory 4.0 MiB, time in aggregation build 49.5 s." in report.answer
    assert verify_report(report) == []


def test_the_narrative_writer_is_told_what_ran_in_each_findings_stages(offline_report: Report) -> None:
    """An LLM writing the narrative sees the same 'where' lines the report shows, so it can name the join rather
    than only 'stage 3'; they are evidence the verifier traces too."""
    from graph.compose import evidence_digest

    digest = evidence_digest(offline_report)
    assert "  where: stage 3: SQL 0: Scan parquet, Filter, BroadcastHashJoin, HashAggregate" in digest
    assert all(f"  where: {line}" in digest for item in offline_report.findings for line in item.where)
