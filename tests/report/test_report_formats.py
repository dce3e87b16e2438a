"""`copilot analyze` end to end, offline, on a real event log, in every output format."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.cli import app
from graph.report import Report

runner = CliRunner()


def analyze(*args: str) -> str:
    result = runner.invoke(app, ["analyze", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


class Elements(HTMLParser):
    """Collects start tags and their attributes, and fails on unbalanced svg."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))
        self.depth += tag == "svg"

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag == "svg"


def test_json_output_is_the_report_schema(yarn_log: str) -> None:
    data = json.loads(analyze(yarn_log, "--format", "json", "--ask", "why is stage 3 slow?"))
    report = Report.model_validate(data)
    assert data["schema_version"] == "1.0" and report.path == "template"
    assert report.apps[0].app_id == "application_1724877841851_0016"
    assert report.answer.startswith("Stage 3")


def test_json_flag_is_the_json_format(yarn_log: str) -> None:
    assert Report.model_validate_json(analyze(yarn_log, "--json")).apps[0].executors == 10


def test_markdown_output_has_summary_what_if_and_caveats(yarn_log: str) -> None:
    text = analyze(yarn_log, "--format", "md")
    assert text.startswith("# Spark Copilot report")
    assert "## What if: executor count" in text and "| 10 (now) |" in text
    assert "## Findings (ranked by savings)" in text


def test_every_format_states_the_app_description_once(yarn_log: str, tmp_path: Path) -> None:
    """The template narrative opens with the app's description: the header does not print it a second time."""
    report = Report.model_validate_json(analyze(yarn_log, "--format", "json"))
    description = report.apps[0].description
    assert description and report.narrative.startswith(description)
    html = tmp_path / "report.html"
    analyze(yarn_log, "--format", "html", "--out", str(html))
    for text in (analyze(yarn_log, "--format", "md"), analyze(yarn_log), html.read_text()):
        assert " ".join(text.split()).count(" ".join(description.split())) == 1


def test_html_is_self_contained_and_carries_the_charts(yarn_log: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["analyze", yarn_log, "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    parser = Elements()
    parser.feed(html)
    parser.close()
    assert parser.depth == 0
    classes = {attrs.get("class", "") for tag, attrs in parser.tags if tag == "svg"}
    assert {"chart timeline", "chart utilization", "chart whatif", "chart distribution"} <= classes  # stage 3 is skewed
    assert "Stage 3: task durations" in html
    assert not [t for t, a in parser.tags if t == "script" or (t == "link" and "href" in a)]
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_terminal_output_shows_numbers_and_the_what_if_table(yarn_log: str) -> None:
    text = analyze(yarn_log)
    assert "ProcessLargeDataset" in text and "43.7 s" in text
    assert "What if: executor count" in text and "10 (now)" in text
    assert "[runtime model]" in text, "bracketed text in a finding is shown, not read as rich markup"


def test_out_writes_the_terminal_report_to_a_file(yarn_log: str, tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    result = runner.invoke(app, ["analyze", yarn_log, "--out", str(out)])
    assert result.exit_code == 0
    assert "What if: executor count" in out.read_text()


@pytest.mark.slow
def test_a_bad_log_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-log.json"
    bogus.write_text('{"hello": "world"}\n')
    done = subprocess.run([str(Path(sys.executable).with_name("copilot")), "analyze", str(bogus)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("copilot: error:")]
    assert len(lines) == 1 and "Traceback" not in done.stderr


@pytest.mark.slow
def test_the_llm_endpoint_comes_from_the_environment(yarn_log: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from llm_doubles import OpenAIStub

    from copilot.settings import get_settings

    with OpenAIStub() as stub:
        monkeypatch.setenv("COPILOT_LLM__BASE_URL", stub.base_url)
        monkeypatch.setenv("COPILOT_LLM__MODEL", "env-model")
        get_settings.cache_clear()
        data = json.loads(analyze(yarn_log, "--format", "json"))
    assert data["path"] == "llm" and data["narrative"] == "The application ran for 43.7 s."
    assert {r["model"] for r in stub.requests} == {"env-model"}


def test_model_predicted_effects_carry_the_models_caveats_into_every_format(yarn_log: str) -> None:
    report = Report.model_validate_json(analyze(yarn_log, "--json"))
    modelled = [item for item in report.findings
                if item.predicted_effect is not None and "runtime model" in item.predicted_effect.method]
    assert modelled, "the yarn log has a finding whose effect the runtime model predicts"
    caveats = modelled[0].predicted_effect.caveats
    assert any("outside the trained runtimes" in c for c in caveats), caveats  # a 44 s run; trained on <= 31 s
    text = analyze(yarn_log, "--format", "md")
    assert f"caveat: {caveats[0]}" in text


def test_an_effect_whose_interval_includes_todays_runtime_says_so(yarn_log: str) -> None:
    """An 80% interval that holds the observed runtime cannot tell a gain from a loss: the JSON's `direction` says
    "uncertain" and the written effect "which includes no change", whatever the point estimate."""
    from copilot.report.json_report import json_schema

    data = json.loads(analyze(yarn_log, "--json"))
    effects = [f["predicted_effect"] for f in data["findings"]
               if f["predicted_effect"] and f["predicted_effect"]["runtime_low_ms"] is not None]
    spanning = [e for e in effects if e["runtime_low_ms"] < e["runtime_before_ms"] < e["runtime_high_ms"]]
    assert spanning, effects  # the oversized-memory change: 43.7 s -> 44.5 s, likely 18.4 s to 66.1 s
    assert [e["direction"] for e in effects] == ["uncertain" if e in spanning else e["direction"] for e in effects]
    assert all(e["direction"] in ("faster", "slower", "unchanged") for e in effects if e not in spanning)
    assert analyze(yarn_log, "--format", "md").count(", which includes no change)") == len(spanning)
    assert "direction" in json.loads(json_schema())["$defs"]["PredictedEffect"]["properties"]


def test_terminal_shows_written_text_verbatim_even_with_brackets(yarn_log: str) -> None:
    """An LLM's narrative (or a caveat) with "[/...]" in it must print as written, not crash rich's markup parser."""
    from io import StringIO

    from rich.console import Console

    from copilot.report.terminal import render_terminal

    report = Report.model_validate_json(analyze(yarn_log, "--json"))
    report = report.model_copy(update={"narrative": "Set [spark.sql.shuffle.partitions] lower [/see docs].",
                                       "caveats": [*report.caveats, "ran on local[4] [/tmp]"]})
    out = StringIO()
    render_terminal(report, Console(file=out, width=200))
    assert "Set [spark.sql.shuffle.partitions] lower [/see docs]." in out.getvalue()
    assert "ran on local[4] [/tmp]" in out.getvalue()


def test_oversized_executor_memory_is_priced_as_memory_freed_and_the_prose_traces_it(yarn_log: str) -> None:
    """9.2 GiB executors that peaked at 1.1 GiB: the saving is container GB-hours at the GB price, not 'not estimated'."""
    from evals.harness.faithfulness import check_faithfulness
    from tools.eventlog import load_profile

    report = Report.model_validate_json(analyze(yarn_log, "--json"))
    [memory] = [i for i in report.findings if i.finding.rule_id == "executor_memory_overprovisioned"]
    savings = memory.finding.estimated_savings
    assert savings.memory_gb_ms > 0 and savings.core_ms == 0
    assert savings.cost == pytest.approx(savings.memory_gb_ms / 3.6e6 * 0.0042)  # the default price per GB-hour
    total_memory = sum(i.finding.estimated_savings.memory_gb_ms for i in report.findings)
    assert f"{total_memory / 3.6e6:.2f} GB-h of executor memory" in report.narrative.replace("\n", " ")
    text = analyze(yarn_log, "--format", "md")
    assert f"{savings.memory_gb_ms / 3.6e6:.2f} GB-h executor memory" in text
    claims = check_faithfulness(report, profiles=[load_profile(yarn_log)])
    assert [c for c in claims if "GB-h" in c.text] and all(c.supported for c in claims if "GB-h" in c.text)


def test_executors_that_came_and_went_are_counted_with_the_most_alive_at_once(eventlog_fixtures: Path, tmp_path: Path) -> None:
    """The MLlib job lost 8 one-core containers one after another: 9 executors, never more than 2 (2 cores) at once.
    Every format says so, and the narrative's figures trace to the evidence."""
    log = str(eventlog_fixtures / "apache__spark" / "spark-events" / "application_1538416563558_0014")
    report = Report.model_validate_json(analyze(log, "--format", "json"))
    facts = report.apps[0]
    assert (facts.executors, facts.peak_executors, facts.total_cores) == (9, 2, 2)
    narrative = " ".join(report.narrative.split())
    assert "on 9 executors, at most 2 at once (2 cores)" in narrative
    # its containers died mid-task: the cores were held, half of that time by attempts that failed
    assert facts.lost_core_share == pytest.approx(0.5, abs=0.01) and facts.core_utilization > 0.95
    assert "busy (50% of that in task attempts that failed or were killed)" in narrative
    html = tmp_path / "report.html"
    analyze(log, "--format", "html", "--out", str(html))
    for text in (analyze(log), analyze(log, "--format", "md"), html.read_text()):
        flat = " ".join(text.split())
        assert "9 executors, at most 2 at once | 2 cores |" in flat and "9 cores" not in flat


def test_a_finding_heading_lists_its_stages_unless_the_title_names_them(yarn_log: str) -> None:
    headings = [line for line in analyze(yarn_log, "--format", "md").splitlines() if line.startswith("### ")]
    skew = next(h for h in headings if "Stage 3: longest task" in h)
    gc = next(h for h in headings if "GC took" in h)
    assert not skew.endswith("(stage 3)"), "the title already names stage 3"
    assert gc.endswith("(stages 1, 5)")


def test_every_format_says_where_the_executor_curve_flattens(yarn_log: str, tmp_path: Path) -> None:
    """The what-if table came with no reading of it: every format now says under it where the simulated curve
    flattens (the public YARN log: at its 10 executors, 8 would be slower)."""
    from html import escape

    from graph.report_text import where_it_flattens

    report = Report.model_validate_json(analyze(yarn_log, "--format", "json"))
    app_summary = report.apps[0]
    line = where_it_flattens(app_summary.what_if, app_summary.cost.currency)
    assert line.startswith("The curve flattens at 10 executors, today's count:") and "(8 executors: " in line
    html = tmp_path / "report.html"
    analyze(yarn_log, "--format", "html", "--out", str(html))
    markdown = analyze(yarn_log, "--format", "md")
    assert "| 40 | 3 |" in markdown and f"\n\n{line}\n" in markdown
    assert f"<p>{escape(line)}</p>" in html.read_text()
    assert line in " ".join(analyze(yarn_log).split())


def test_a_local_mode_what_if_table_counts_cores(eventlog_fixtures: Path, tmp_path: Path) -> None:
    """local[2] runs every task in one JVM: the curve varies its cores, and the table says so (it read '1 (now) | 2'
    in an 'executors | cores each' table under a line about cores)."""
    log = str(eventlog_fixtures.parent / "workloads" / "skewed_join.zstd")
    markdown = analyze(log, "--format", "md")
    assert "## What if: core count (local mode, one JVM) (`" in markdown
    assert "| cores | runtime | likely range | cost |\n|---:|---:|---:|---:|\n| 1 | " in markdown
    assert "\n| 2 (now) | " in markdown and "cores each" not in markdown
    html = tmp_path / "report.html"
    analyze(log, "--format", "html", "--out", str(html))
    assert "<tr><th>cores</th><th>runtime</th>" in html.read_text()
    terminal = analyze(log)
    assert "What if: core count (local mode, one JVM)" in terminal and "2 (now)" in terminal


def test_a_log_cut_off_before_any_task_says_there_was_nothing_to_check(eventlog_fixtures: Path, tmp_path: Path) -> None:
    """A log cut off before its first task ended read 'No significant problems found.': a user took that for a
    clean run. Every format now says that no task finished, so nothing was checked."""
    log = eventlog_fixtures / "apache__spark" / "spark-events" / "application_1536831636016_59384_1"
    lines = log.read_text().splitlines(keepends=True)
    first_task_end = next(i for i, line in enumerate(lines) if '"SparkListenerTaskEnd"' in line)
    cut = tmp_path / "cut_before_tasks"
    cut.write_text("".join(lines[:first_task_end]))
    report = Report.model_validate_json(analyze(str(cut), "--format", "json"))
    assert report.findings == [] and report.apps[0].tasks == 0
    assert report.headline == "Nothing to check: the log records no finished task."
    assert "No task finished, so the rules had nothing to check." in report.narrative
    line = "No findings: the log records no finished task, so there was nothing to check."
    assert f"\n{line}\n" in analyze(str(cut), "--format", "md")
    html = tmp_path / "report.html"
    analyze(str(cut), "--format", "html", "--out", str(html))
    assert f"<p>{line}</p>" in html.read_text()
    terminal = " ".join(analyze(str(cut)).split())
    assert line in terminal and "No significant problems" not in terminal


def test_writing_a_report_says_where_and_how_many_findings(eventlog_fixtures: Path, tmp_path: Path) -> None:
    """'report written to ... (template, 1 findings)': the count reads as English."""
    out = tmp_path / "report.md"
    log = str(eventlog_fixtures.parent / "workloads" / "cache_read_once.zstd")
    result = runner.invoke(app, ["analyze", log, "--format", "md", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"report written to {out} (template, 1 finding)" in " ".join(result.output.split())  # rich wraps it


def test_every_format_says_what_ran_in_a_findings_stages(yarn_log: str, tmp_path: Path) -> None:
    """'Stage 3' alone cannot be found in the code (Spark names it after PySpark's reflection frame): each finding
    says what ran in its stages, the SQL execution and the operators whose metrics the stage updated."""
    where = "stage 3: SQL 0: Scan parquet, Filter, BroadcastHashJoin, HashAggregate"
    report = Report.model_validate_json(analyze(yarn_log, "--json"))
    skew = next(f for f in report.findings if f.finding.title.startswith("Stage 3: longest task"))
    assert skew.where == [where]
    gc = next(f for f in report.findings if f.finding.title.startswith("GC took"))
    assert gc.where == ["stage 1: SQL 0: Range, Filter", "stage 5: SQL 0: HashAggregate, BroadcastHashJoin"]
    assert f"- where: {where}" in analyze(yarn_log, "--format", "md")
    assert "where     stage 3: SQL 0: Scan parquet, Filter," in analyze(yarn_log)  # wrapped at 80 columns
    analyze(yarn_log, "--format", "html", "--out", str(tmp_path / "r.html"))
    assert f"<li>where: {where}</li>" in (tmp_path / "r.html").read_text()
