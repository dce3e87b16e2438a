"""The chat agent as a library: offline intents, the scripted-LLM tool loop, and threads that survive a restart."""

from __future__ import annotations

import pytest
from llm_doubles import OpenAIStub, ScriptedChatModel
from planted_secrets import SECRET_VALUES

from graph.chat import open_chat
from graph.config import GraphConfig, LLMConfig


def answers(log: str, *questions: str) -> list[str]:
    """The offline answers to `questions`, asked in order in one new thread on `log`."""
    agent = open_chat()
    thread = agent.new_thread_id()
    agent.load(thread, log)
    try:
        return ["".join(agent.ask(thread, question)) for question in questions]
    finally:
        agent.close()


def test_offline_answers_come_from_the_same_tools(yarn_log: str) -> None:
    agent = open_chat()
    thread = agent.new_thread_id()
    agent.load(thread, yarn_log)
    config = "".join(agent.ask(thread, "show me the config to change"))
    assert "--conf spark.executor.memory=1751m" in config
    assert '# spark.conf.set("spark.executor.memory", "1751m")  -- static: pass it with --conf at submit time' in config
    assert "The run cost about $" in "".join(agent.ask(thread, "what did it cost?"))
    assert "Stage 3" in "".join(agent.ask(thread, "is there skew?"))
    assert "Data skew" in "".join(agent.ask(thread, "docs about data skew in joins"))
    agent.close()


def test_offline_chat_shows_the_slowest_query_its_operators_findings_and_plan(eventlog_fixtures) -> None:
    log = str(eventlog_fixtures.parent / "workloads" / "skewed_join.zstd")
    slowest, by_id, missing = answers(log, "which query is the slowest?", "show me the plan of SQL 0", "what does sql 7 do?")
    assert slowest.startswith("1 SQL execution ran Spark jobs; the longest: SQL 0 (75.5 s, save at"), slowest
    assert "\nSQL 0 (save at NativeMethodAccessorImpl.java:0) ran 75.5 s: jobs 0-3, stages 0-8.\n" in slowest
    assert "SortMergeJoin [k], [k], Inner: 48,600,000 rows [stage 4]\n" in slowest
    findings = slowest.split("\nFindings on this query:\n")[1]
    assert findings.startswith("- Stage 4: longest task 38.8 s") and "\n- SortMergeJoin in SQL 0: one side is only 1.1 MiB" in findings
    assert "Physical plan as Spark logged it" not in slowest  # the plan text only when asked for
    assert by_id.startswith("SQL 0 (save at") and "\nPhysical plan as Spark logged it:\n== Physical Plan ==\n" in by_id
    assert missing == ("I cannot answer that from this log: SQL execution 7 is not in this application (it has SQL "
                       "execution 0).")


def test_offline_chat_answers_about_jobs_sources_and_data_read(yarn_log: str) -> None:
    longest, job, missing, sources, data = answers(yarn_log, "which job took the longest?", "what does job 2 do?",
                                                   "job 99", "which tables were read?", "how much data was read?")
    assert longest.startswith("Longest jobs: 3 (18.6 s), 0 (5.3 s), 1 (2.9 s).\nJob 3 ran 18.6 s, succeeded; stage 3.\n"), longest
    assert "\nIts longest stage: 3 (18.6 s, 30 tasks, SQL 0: Scan parquet, Filter, BroadcastHashJoin, HashAggregate)" in longest
    assert "\nFindings on this job:\n- Stage 3: longest task 18.6 s vs median 3.1 s" in longest
    assert job.startswith("Job 2 (Broadcast exchange (runId") and job.endswith("No rule flagged this job.")
    assert 'It ran for SQL 0 (ask "what does SQL 0 do?").' in job
    assert missing == "I cannot answer that from this log: job 99 is not in this application (it has jobs 0-4)."
    assert sources == ("What the SQL queries read:\n- SQL 0: Scan parquet (2 files, 562.3 MiB of files, 50,000,000 rows)\n"
                       "  location: hdfs://ip-127-12-56-78.us-west-2.compute.internal:8020/large_dataset")
    assert data.startswith("Tasks read 250.9 MiB in 52,000,000 records of input (most in stage 3"), data


def test_which_job_failed_names_failed_and_cancelled_jobs_with_their_reasons(eventlog_fixtures, yarn_log: str) -> None:
    workloads = eventlog_fixtures.parent / "workloads"
    (retried,) = answers(str(workloads / "retried_tasks.zstd"), "which job failed?")
    assert retried.startswith("Job 1 failed after 2.0 s: [PYTHON_EXCEPTION] An exception was thrown"), retried
    (cancelled,) = answers(str(workloads / "cancelled_job.zstd"), "which job failed?")
    assert " was cancelled after " in cancelled and " failed after " not in cancelled, cancelled
    (none,) = answers(yarn_log, "which job failed?")
    assert none == "None of the 5 jobs failed."


def test_a_log_without_sql_executions_says_why_by_its_spark_version(eventlog_fixtures) -> None:
    events = eventlog_fixtures / "apache__spark" / "spark-events"
    (mllib,) = answers(str(events / "application_1538416563558_0014"), "which query is the slowest?")  # MLlib on RDDs
    assert mllib == "This application ran no SQL or DataFrame query (its jobs come from RDD code)."
    (unnamed,) = answers(str(events / "local-1422981759269"), "which query is the slowest?")  # an early 1.x log, no version
    assert unnamed.startswith("This log has no SQL execution: the application ran RDD code, or its Spark")


def test_a_query_plan_in_chat_carries_no_credentials(eventlog_fixtures, tmp_path) -> None:
    from planted_secrets import PLAN_SECRETS, plant_in_plans

    source = eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "python_udf_eventlog"
    log = str(plant_in_plans(source, tmp_path / "local-1774375206999"))
    listed, plan, read = answers(log, "which queries ran?", "show me the plan of SQL 0", "which tables were read?")
    assert "JDBCRelation(jdbc:postgresql://etl:" in plan  # the plan is shown ...
    assert not [s for s in PLAN_SECRETS if s in listed + plan + read]  # ... without its password


def test_offline_chat_answers_slowest_stage_what_if_cost_and_a_named_setting(yarn_log: str) -> None:
    agent = open_chat()
    thread = agent.new_thread_id()
    agent.load(thread, yarn_log)
    slowest = "".join(agent.ask(thread, "which stage is the slowest?"))
    assert slowest.startswith("Longest stages: 3 (18.6 s, 30 tasks), 0 (5.3 s, 1 task)"), slowest
    assert "Stage 3 (SQL 0: Scan parquet, Filter, BroadcastHashJoin, HashAggregate) ran 18.6 s" in slowest and "Findings on this stage" in slowest
    priced = "".join(agent.ask(thread, "what would 20 executors cost?"))
    run_cost = "".join(agent.ask(thread, "what did it cost?")).split("about ")[1].split(" ")[0].rstrip(",")
    assert priced.startswith("With 20 executors the simulator predicts 43.7 s against 43.7 s now, costing about $"), priced
    assert f"against {run_cost} now." in priced  # the observed row costs what the run cost
    assert f"{run_cost} <- now" in priced
    setting = "".join(agent.ask(thread, "what does spark.sql.adaptive.skewJoin.enabled do?"))
    agent.close()
    assert setting.startswith("Data skew in shuffles and joins > "), setting  # the docs, not the findings
    assert "`spark.sql.adaptive.skewJoin.enabled`" in setting
    heading, excerpt = setting.split("\n")[:2]
    assert not excerpt.startswith("Data skew"), "the excerpt repeats the heading path"
    assert "Longest stages" not in setting and "[moderate]" not in setting
    # then what the run set it to, the key spelled as Spark spells it (the question is matched lower-cased)
    assert setting.endswith("\n\nThis run did not set spark.sql.adaptive.skewJoin.enabled (Spark's default applies).")


def test_offline_settings_what_if_is_answered_by_the_runtime_model(yarn_log: str) -> None:
    from models import predict_runtime
    from tools.eventlog import load_profile

    agent = open_chat()
    thread = agent.new_thread_id()
    agent.load(thread, yarn_log)
    answer = "".join(agent.ask(thread, "what if I use 400 shuffle partitions and turn AQE off?"))
    agent.close()
    expected = predict_runtime(load_profile(yarn_log), {"spark.sql.shuffle.partitions": "400",
                                                        "spark.sql.adaptive.enabled": "false"})
    assert answer.startswith("With spark.sql.shuffle.partitions=400, spark.sql.adaptive.enabled=false the "), answer
    assert f"predicts {expected.estimated_duration_ms / 1000:.1f} s" in answer
    assert "80% interval" in answer and "against 43.7 s now" in answer
    assert expected.direction == "uncertain"  # its interval includes today's 43.7 s, and the answer says so
    assert "at the point estimate; the interval includes today's runtime, so the run may also stay as it is" in answer
    from graph.units import money
    from tools.cost import load_pricing

    priced = predict_runtime(load_profile(yarn_log), expected.changes, pricing=load_pricing())
    assert (f"It would cost about {money(priced.estimated_cost, 'USD')} against {money(priced.observed_cost, 'USD')} now."
            in answer), answer
    assert "Caveat: spark.sql.shuffle.partitions=400 is outside the trained range" in answer


def test_a_thread_survives_a_new_agent_on_the_same_store(yarn_log: str) -> None:
    first = open_chat()
    thread = first.new_thread_id()
    first.load(thread, yarn_log)
    "".join(first.ask(thread, "why is stage 3 slow?"))
    first.close()
    second = open_chat()
    assert second.logs(thread) == [yarn_log]
    assert [m.type for m in second.history(thread)] == ["human", "ai"]
    assert "ran 43.7 s" in "".join(second.ask(thread, "summary"))
    second.close()


def test_scripted_llm_calls_tools_and_streams_its_answer(yarn_log: str) -> None:
    model = ScriptedChatModel()
    agent = open_chat(llm=model)
    thread = agent.new_thread_id()
    agent.load(thread, yarn_log)
    chunks = list(agent.ask(thread, "what is this application?"))
    assert "".join(chunks) == "Looked at application_1724877841851_0016 with the tools."
    kinds = [m.type for m in agent.state(thread)["messages"]]
    assert kinds == ["human", "ai", "tool", "ai"]  # the tool call and its result are part of the thread
    assert '<data name="loaded_applications">' in model.prompts[0][0].content
    agent.close()


def test_with_two_logs_the_model_is_told_which_is_the_baseline(yarn_log: str, eventlog_fixtures) -> None:
    """The tools answer about the log loaded last; the model's context names the earlier one as the baseline that
    compare_runs compares it with."""
    model = ScriptedChatModel()
    agent = open_chat(llm=model)
    thread = agent.new_thread_id()
    agent.load(thread, str(eventlog_fixtures.parent / "workloads" / "healthy.zstd"))
    agent.load(thread, yarn_log)
    "".join(agent.ask(thread, "what changed?"))
    agent.close()
    context = model.prompts[0][0].content.split('<data name="loaded_applications">')[1]
    assert context.index("local-1795645700884") < context.index('"loaded_as": "baseline (loaded before)"')
    assert context.index('"loaded_as": "baseline (loaded before)"') < context.index("application_1724877841851_0016")


def test_secrets_typed_into_a_chat_are_not_stored(secret_chat_log: str, copilot_home) -> None:
    agent = open_chat(llm=ScriptedChatModel())
    thread = agent.new_thread_id()
    agent.load(thread, secret_chat_log)
    "".join(agent.ask(thread, "connect with jdbc:postgresql://db:5432/x?user=a&password=JdbcPlantedPw99 please"))
    "".join(agent.ask(thread, "or with jdbc:oracle:thin:scott/OraclePlantedPw7@db:1521/x"))
    agent.close()
    stored = (copilot_home / "threads.sqlite").read_bytes()
    assert b"jdbc:postgresql://db:5432/x" in stored and b"jdbc:oracle:thin:scott/" in stored
    assert not [s for s in (*SECRET_VALUES, "OraclePlantedPw7") if s.encode() in stored]


@pytest.mark.slow
def test_a_failing_endpoint_mid_chat_falls_back_to_offline_answers(yarn_log: str, copilot_home) -> None:
    notices: list[str] = []
    with OpenAIStub(mode="500") as stub:
        config = GraphConfig(home=copilot_home, llm=LLMConfig(base_url=stub.base_url, max_retries=0))
        agent = open_chat(config, notice=notices.append)
        thread = agent.new_thread_id()
        agent.load(thread, yarn_log)
        first = "".join(agent.ask(thread, "summary"))
        second = "".join(agent.ask(thread, "summary"))
        agent.close()
    assert "answering offline" in first and "ran 43.7 s" in first
    assert "answering offline" not in second and "ran 43.7 s" in second  # offline from then on, silently
    assert len([n for n in notices if "warning" in n]) == 1


def test_offline_chat_lists_findings_in_the_reports_order(yarn_log: str) -> None:
    """Ranked by money saved, as the report ranks them (the memory finding saves money, not core time)."""
    import graph

    report = graph.analyze([yarn_log])
    agent = open_chat()
    thread = agent.new_thread_id()
    agent.load(thread, yarn_log)
    answer = "".join(agent.ask(thread, "what's wrong?"))
    agent.close()
    numbered = [line for line in answer.splitlines() if line[:1].isdigit()]
    expected = [f"{rank}. [{i.finding.severity.value}] {i.finding.title}" for rank, i in enumerate(report.findings, 1)]
    assert len(numbered) == len(expected) and all(line.startswith(e) for line, e in zip(numbered, expected)), answer


def test_a_local_mode_what_if_is_answered_in_cores(eventlog_fixtures) -> None:
    """skewed_join ran on local[2]: one JVM, so the curve varies its cores; "4 executors" is read as 4 cores and
    the answer says why, and the rows count cores, not "1 executors" six times."""
    from tools.eventlog import load_profile
    from tools.simulate import what_if_curve

    log = str(eventlog_fixtures.parent / "workloads" / "skewed_join.zstd")
    four = next(p for p in what_if_curve(load_profile(log)).points if p.cores == 4)
    executors, cores, summary = answers(log, "what if I use 4 executors?", "and with 8 cores?", "summary")
    assert executors.startswith("This run is in local mode: one JVM runs every task"), executors
    assert f"With 4 cores the simulator predicts {four.estimated_duration_ms / 1000:.1f} s" in executors
    assert "Simulated runtime by core count:" in executors and "2 cores: " in executors and "executors:" not in executors
    assert cores.startswith("With 8 cores the simulator predicts") and "local mode" not in cores
    assert "with 1 executor (2 cores)" in summary


@pytest.mark.parametrize(("log", "where"), [
    ("NVIDIA__spark-rapids-tools/join_agg_on_yarn_eventlog.zstd", "now"),  # YARN, 10 executors: flat from there on
    ("apache__spark/spark-events/application_1516285256255_0012", "fewer"),  # YARN, driver-bound: 1 executor does
    ("../workloads/skewed_join.zstd", "more"),  # local[2]: 4 cores would still help
])
def test_how_many_executors_names_where_the_curve_flattens(eventlog_fixtures, log: str, where: str) -> None:
    """'How many executors should I use?' gets the fewest executors (cores in local mode) within 5% of the fastest
    simulated runtime, against today's count, before the curve itself."""
    from graph.report import what_if_axis, what_if_size
    from graph.tools import Toolbox
    from graph.units import count, duration
    from tools.eventlog import load_profile

    path = str(eventlog_fixtures / log)
    [answer] = answers(path, "how many executors should I use?")
    points = Toolbox(load_profile(path), GraphConfig()).what_if_executors()
    axis = what_if_axis(points)
    ordered = sorted(points, key=lambda p: what_if_size(p, axis))
    knee = next(p for p in ordered if p.runtime_ms <= 1.05 * min(p.runtime_ms for p in points))
    current = next(p for p in points if p.current)
    size, now = what_if_size(knee, axis), what_if_size(current, axis)
    assert (size == now, size < now, size > now) == (where == "now", where == "fewer", where == "more")
    sentence = next(line for line in answer.splitlines() if "curve" in line)
    if where == "now":
        assert sentence.startswith(f"The curve flattens at {count(now, axis)}, today's count: more do not make")
    elif where == "fewer":
        assert sentence.startswith(f"The curve flattens at {count(size, axis)}: {duration(knee.runtime_ms)} against "
                                   f"{duration(current.runtime_ms)} now, so the {count(now - size, axis)} above")
    else:
        faster = 1 - knee.runtime_ms / current.runtime_ms
        assert sentence == (f"More {axis}s help up to {size}: {duration(knee.runtime_ms)} against "
                            f"{duration(current.runtime_ms)} now ({faster:.0%} faster); beyond that the curve is flat.")
    assert answer.index(sentence) < answer.index(f"by {axis} count:")


def test_a_value_question_gets_the_runs_value_the_findings_value_and_the_model_by_value(eventlog_fixtures) -> None:
    """spilling_sort ran with 2 shuffle partitions and its spill finding recommends 8: the answer says both, and the
    model's estimate for 8 is the one `predict_runtime` gives, not a documentation page about the key."""
    from graph.units import duration
    from models import predict_runtime
    from tools.eventlog import load_profile

    log = str(eventlog_fixtures.parent / "workloads" / "spilling_sort.zstd")
    profile = load_profile(log)
    eight = predict_runtime(profile, {"spark.sql.shuffle.partitions": "8"})
    answer, in_words, executors = answers(log, "what should I set spark.sql.shuffle.partitions to?",
                                          "how many shuffle partitions should I use?", "how many executors should I use?")
    lines = answer.splitlines()
    assert lines[0] == "In this run spark.sql.shuffle.partitions = 2.", answer
    assert lines[1].startswith('Recommended: spark.sql.shuffle.partitions=8, from "Stage 2 spilled'), answer
    rows = {line.split(":")[0].strip(): line.split(":", 1)[1] for line in lines[3:]}
    assert rows["2"].strip() == f"{duration(profile.duration_ms)} <- now (observed)"
    assert rows["8"].strip().startswith(f"{duration(eight.estimated_duration_ms)} (") and rows["8"].endswith("<- recommended")
    assert ("which includes no change)" in rows["8"]) == (eight.direction == "uncertain")
    assert "configuration >" not in answer  # not the catalog entry
    assert in_words == answer
    assert executors.startswith("This run is in local mode: one JVM runs every task")  # the simulator's question
    assert "Simulated runtime by core count:" in executors


def test_a_value_question_says_when_every_interval_includes_todays_runtime(eventlog_fixtures) -> None:
    """On the skewed join no shuffle-partition count has an interval clear of the observed 99.9 s."""
    (answer,) = answers(str(eventlog_fixtures.parent / "workloads" / "skewed_join.zstd"),
                        "how many shuffle partitions should I use?")
    rows = [line for line in answer.splitlines() if line.startswith(" ") and "<- now" not in line]
    assert len(rows) >= 3 and all(row.endswith("which includes no change)") for row in rows), answer
    assert answer.endswith("\nEvery interval includes today's 99.9 s: on this run the model cannot tell these values "
                           "apart; the findings' evidence is the better guide.")


def test_a_value_question_reads_the_default_of_the_logs_spark_version(yarn_log: str) -> None:
    """The YARN log (Spark 3.2+) never set AQE: its default there is on, so 'true' is the observed row."""
    (answer,) = answers(yarn_log, "should spark.sql.adaptive.enabled be on?")
    assert answer.startswith("This run did not set spark.sql.adaptive.enabled (Spark's default applies: true)."), answer
    assert "true: 43.7 s <- now (observed)" in answer and "false: " in answer


def test_a_topic_question_gets_the_runs_figures_and_the_findings_fixes(eventlog_fixtures) -> None:
    """spilling_sort: 'did anything spill?' and 'how do I fix the spill?' used to get the overview and every finding
    (or documentation only); they get the spill figures from the profile and the spill finding as a fix."""
    from graph.units import size
    from tools.eventlog import load_profile

    log = str(eventlog_fixtures.parent / "workloads" / "spilling_sort.zstd")
    profile = load_profile(log)
    spilled = sum(s.metrics.disk_bytes_spilled.sum for s in profile.stages if s.metrics.disk_bytes_spilled)
    spill, fix, gc, busiest, memory = answers(log, "did anything spill?", "how do I fix the spill?",
                                              "how do I reduce GC time?", "which executor was busiest?",
                                              "is memory a problem?")
    assert spill.startswith(f"Spilled {size(spilled)} to disk"), spill
    assert "1. [severe] Stage 2 spilled" in spill and "   --conf spark.sql.shuffle.partitions=8" in spill
    assert "   saves: " in spill and "   effect: " in spill
    assert "AQE" not in spill  # only the topic's findings
    assert fix == spill
    assert gc.startswith("GC took ") and "No finding about it in this run; the documentation:" in gc
    assert "Garbage collection" in gc  # the docs follow when no finding has a fix
    assert busiest.startswith("Local mode: the tasks ran in the driver's JVM, 2 cores.\nExecutors by task time:\n  driver on ")
    peak = max(e.peak_jvm_heap_bytes for e in profile.executors if e.peak_jvm_heap_bytes)
    assert memory.startswith(f"The largest heap peak was {size(peak)}; spark.driver.memory is 1g.")  # local mode
    assert "1. [severe] Stage 2 spilled" in memory


def test_how_much_would_i_save_lists_each_findings_savings_and_their_sum(eventlog_fixtures) -> None:
    from graph.query_answers import ranked
    from graph.report_text import savings_line
    from graph.tools import Toolbox
    from tools.eventlog import load_profile

    log = str(eventlog_fixtures.parent / "workloads" / "skewed_join.zstd")
    in_order = ranked(Toolbox(load_profile(log)))
    (answer,) = answers(log, "how much would I save?")
    lines = answer.splitlines()
    estimated = [f for f in in_order if f.estimated_savings.core_ms or f.estimated_savings.wall_ms]
    assert lines[:-1] == [f"{i}. {f.title}: {savings_line(f.estimated_savings)}" for i, f in enumerate(estimated, 1)]
    assert lines[-1].startswith("Together up to ") and "upper bound" in lines[-1]


def test_a_value_question_finds_a_camel_case_key_in_the_lower_cased_question(eventlog_fixtures) -> None:
    """The question is matched lower-cased; the run's property and the finding's change still match its key."""
    log = str(eventlog_fixtures.parent / "workloads" / "skewed_join.zstd")
    (answer,) = answers(log, "what should I set spark.sql.adaptive.skewJoin.enabled to?")
    assert answer.startswith("In this run spark.sql.adaptive.skewJoin.enabled = false.\n"
                             "Recommended: spark.sql.adaptive.skewJoin.enabled=true, from \"Stage 4:"), answer


def test_a_stream_is_described_by_its_queries_and_has_no_executor_what_if(eventlog_fixtures) -> None:
    agent = open_chat()
    thread = agent.new_thread_id()
    agent.load(thread, str(eventlog_fixtures.parent / "workloads" / "lagging_stream.zstd"))
    overview = "".join(agent.ask(thread, "give me an overview"))
    executors = "".join(agent.ask(thread, "what if I use 8 executors?"))
    agent.close()
    assert "Streaming query digests: 6 micro-batches, 19,090 rows/s arriving and 12,403 rows/s processed" in overview
    assert executors.startswith("I cannot answer that from this log: ") and "is a streaming application" in executors


def _no_job_core_ms(profile) -> float:
    """Core-ms of every executor (the local-mode driver too) while no job ran, from the job intervals."""
    end = profile.end_time_ms
    jobs = sorted((j.submission_time_ms, j.completion_time_ms or end) for j in profile.jobs if j.submission_time_ms)
    total = 0.0
    for e in profile.executors:
        if not e.cores or e.added_time_ms is None:
            continue
        start, until = e.added_time_ms, e.removed_time_ms or end
        covered, cursor = 0, start
        for a, b in jobs:  # the part of the executor's life inside some job, each instant once
            a, b = max(a, cursor), min(b, until)
            if b > a:
                covered += b - a
                cursor = b
        total += e.cores * (until - start - covered)
    return total


@pytest.mark.parametrize("log", ["NVIDIA__spark-rapids-tools/join_agg_on_yarn_eventlog.zstd", "../workloads/healthy.zstd"])
def test_a_utilization_question_splits_the_core_time_and_names_the_stages_that_left_cores_waiting(eventlog_fixtures, log):
    """'Why is utilization only 25%?' got the overview. It now splits the allocated core time into task time, cores
    waiting while no job ran and cores waiting inside jobs (the three add up), names the stages whose cores waited
    longest with why, and lists the findings on it (the skewed stage of the YARN log)."""
    from graph.units import duration
    from tools.eventlog import load_profile

    path = str(eventlog_fixtures / log)
    profile = load_profile(path)
    [answer] = answers(path, "why is utilization so low?")
    allocated, used = profile.allocated_core_ms, profile.used_core_ms
    between = _no_job_core_ms(profile)
    assert answer.startswith(
        f"Of {duration(allocated)} of executor core time, tasks ran {duration(used)} ({used / allocated:.0%}); cores "
        f"waited {duration(between)} while no job ran (the driver working alone, {duration(profile.driver_time_ms)} of "
        f"the run) and {duration(allocated - used - between)} inside jobs"), answer
    stages = answer.splitlines()[1]
    assert stages.startswith("Stages that left the most cores waiting: stage ")
    if "yarn" in log:
        assert stages.startswith("Stages that left the most cores waiting: stage 3: 30 cores for 18.6 s, ")
        assert "(longest task 18.6 s, median 3.1 s)" in stages and "(1 task on 30 cores)" in stages
        assert "Stage 3: longest task 18.6 s vs median 3.1 s" in answer  # the skew finding, with its fix
    else:  # local mode: the one JVM's cores, between jobs too
        assert between > 0


def test_a_question_about_the_api_gets_the_installed_pysparks_reference_with_or_without_a_log(yarn_log: str) -> None:
    """'What is the difference between cache and persist?' got the run's overview and findings; it now gets the
    two methods' documentation from the installed PySpark, and needs no log loaded for it."""
    from importlib.metadata import version

    [loaded] = answers(yarn_log, "what is the difference between cache and persist?")
    agent = open_chat()
    try:
        no_log = "".join(agent.ask(agent.new_thread_id(), "what is the difference between cache and persist?"))
        needs_log = "".join(agent.ask(agent.new_thread_id(), "why is stage 3 slow?"))
    finally:
        agent.close()
    for answer in (loaded, no_log):
        assert f"PySpark {version('pyspark')} API > DataFrame.cache" in answer, answer
        assert f"PySpark {version('pyspark')} API > DataFrame.persist" in answer
        assert "MEMORY_AND_DISK_DESER" in answer and "Findings" not in answer
    assert needs_log.startswith("No event log is loaded yet.")
    # a method named by its bare name comes first, before config entries that share the word (spark.broadcast.*)
    [broadcast] = answers(yarn_log, "how does broadcast work?")
    documentation = broadcast.split("The documentation:\n\n", 1)[1]
    assert documentation.startswith(f"PySpark {version('pyspark')} API > functions.broadcast\n"), broadcast


def test_a_streams_savings_are_over_the_period_its_log_covers_not_per_run(eventlog_fixtures) -> None:
    """A stream has no runs: its findings' savings are measured over what the log holds, and say so, in the
    chat and in every report format; a batch application's stay 'per run'."""
    from copilot.report.markdown import render_markdown
    from graph.report_text import savings_period
    from graph.units import duration
    from graph import analyze
    from tools.eventlog import load_profile

    stream = str(eventlog_fixtures.parent / "workloads" / "lagging_stream.zstd")
    profile = load_profile(stream)
    period = f"over the {duration(profile.duration_ms)} logged"
    assert savings_period(profile) == period
    assert savings_period(load_profile(str(eventlog_fixtures.parent / "workloads" / "healthy.zstd"))) == "per run"
    (answer,) = answers(stream, "how much would I save?")
    assert f" {period}, " in answer.splitlines()[0] and "per run" not in answer
    report = analyze([stream])
    markdown = render_markdown(report)
    assert f"- saves: $" in markdown and f" {period}, " in markdown and "per run" not in markdown
    assert f"executor core time {period} (" in report.narrative
