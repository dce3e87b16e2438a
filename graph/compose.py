"""Assemble the `Report` from the state (deterministic), write the template narrative, and render the evidence digest.

The structure (findings, config lines, effects, what-if, citations) is always built
here from tool results; an LLM only rewrites the narrative text, which verify checks
against `evidence_digest`.
"""

from __future__ import annotations

import math

from graph import units
from graph.charts import charts_for
from graph.report import LOCAL_MODE_WHAT_IF, AppSummary, Report, ReportFinding, what_if_axis, what_if_size
from graph.report_text import ran_no_task, report_period
from graph.state import AnalysisState, AppFinding
from graph.state import Question
from graph.tools import app_facts, stage_summary
from tools.eventlog.model import AppProfile, StreamingProgress, stage_label
from tools.findings import ConfigChange, Finding
from tools.redact import redact_text

# Properties Spark reads once at start-up: spark.conf.set cannot change them in a running session.
STREAMS_DESCRIBED = 3  # streaming queries the narrative describes; the report's JSON has every one
STATIC_PREFIXES = (
    "spark.executor.", "spark.driver.", "spark.dynamicAllocation.", "spark.memory.", "spark.serializer",
    "spark.kryo", "spark.task.", "spark.cores.max", "spark.speculation", "spark.shuffle.service",
    "spark.locality.", "spark.scheduler.", "spark.network.", "spark.sql.extensions", "spark.sql.catalog",
    "spark.default.parallelism", "spark.eventLog.", "spark.yarn.", "spark.kubernetes.",
)


def is_static(key: str) -> bool:
    return key.startswith(STATIC_PREFIXES)


def conf_flags(changes: list[ConfigChange]) -> list[str]:
    return [f"--conf {c.key}={c.value}" for c in changes]


def conf_set_lines(changes: list[ConfigChange]) -> list[str]:
    lines = []
    for c in changes:
        line = f'spark.conf.set("{c.key}", "{c.value}")'
        lines.append(f"# {line}  -- static: pass it with --conf at submit time" if is_static(c.key) else line)
    return lines


def finite(finding: Finding) -> Finding:
    """The finding with infinite / NaN evidence values spelled out (JSON has no infinity)."""
    bad = [e for e in finding.evidence if isinstance(e.value, float) and not math.isfinite(e.value)]
    if not bad:
        return finding
    evidence = [e.model_copy(update={"value": "infinite" if e.value == e.value else "undefined"}) if e in bad else e
                for e in finding.evidence]
    return finding.model_copy(update={"evidence": evidence})


def savings_key(item: AppFinding | Finding) -> tuple:
    """Rank by money saved, then core time, then wall time, then severity."""
    finding = item.finding if isinstance(item, AppFinding) else item
    s = finding.estimated_savings
    return (-(s.cost or 0.0), -s.core_ms, -s.wall_ms, -finding.severity.rank)


def describe_app(profile: AppProfile) -> str:
    """One sentence: what the application is."""
    kind = "streaming" if profile.streaming else "SQL/DataFrame" if profile.sql_executions else "RDD/batch"
    shell = profile.interactive_shell
    if shell:
        what = f"an interactive {kind.replace('RDD/batch', 'RDD')} session"
    else:
        what = f"{'an' if kind[0] in 'RS' else 'a'} {kind} application"  # an RDD..., an SQL...
    master = f"master {units.master(profile.master)}" if profile.master else ""
    sentence = f"{profile.app_name or profile.app_id} is {what}"
    if profile.spark_version:  # "... session (spark-shell) on Spark 3.1.1 (master yarn)"
        sentence += (f" ({shell})" if shell else "") + f" on Spark {profile.spark_version}" + (f" ({master})" if master else "")
    elif shell or master:  # "... session (spark-shell, master local[*])"
        sentence += f" ({', '.join(x for x in (shell, master) if x)})"
    jobs, stages = len(profile.jobs), len(profile.stages)
    return (f"{sentence} that ran {units.count(jobs, 'job')} / {units.count(stages, 'stage')} / "
            f"{units.count(profile.total_tasks, 'task')}.")


def app_summary(profile: AppProfile, state: AnalysisState, skewed: list[int]) -> AppSummary:
    art = (state.get("artifacts") or {}).get(profile.app_id)
    question = state.get("question") or Question()
    asked = [stage_summary(st, profile) for sid in question.stage_ids if (st := profile.stage(sid)) is not None]
    if question.longest_stage and profile.stages:
        longest = max(profile.stages, key=lambda s: s.duration_ms or 0)
        asked += [stage_summary(longest, profile)] if longest.stage_id not in question.stage_ids else []
    return AppSummary(
        **app_facts(profile), log_path=profile.source.path if profile.source else "", user=profile.user,
        description=describe_app(profile), cost=art.cost if art else None,
        what_if=art.what_if if art else [], streaming=profile.streaming, asked_stages=asked,
        charts=charts_for(profile, skewed),
    )


WHERE_SHOWN = 3


def where_lines(profile: AppProfile | None, finding: Finding) -> list[str]:
    """'stage 4: SQL 0: Sort, SortMergeJoin, HashAggregate' for the finding's first stages that have a label (what ran
    in them, else their call site); '(+5 more stages)' after them."""
    lines = [f"stage {stage.stage_id}: {redact_text(label)}" for sid in finding.stage_ids
             if profile is not None and (stage := profile.stage(sid)) is not None and (label := stage_label(stage))]
    more = len(lines) - WHERE_SHOWN
    return lines[:WHERE_SHOWN] + ([f"(+{units.count(more, 'more stage')})"] if more > 0 else [])


def build_report(state: AnalysisState) -> Report:
    """The full report with the template narrative (path = template)."""
    profiles = state.get("profiles") or []
    ranked = sorted(state.get("findings") or [], key=savings_key)
    citations = state.get("citations") or {}
    artifacts = state.get("artifacts") or {}
    by_app = {p.app_id: p for p in profiles}
    findings = []
    for rank, item in enumerate(ranked, start=1):
        item = item.model_copy(update={"finding": finite(item.finding)})
        changes = item.finding.recommendation.config_changes
        art = artifacts.get(item.app_id)
        findings.append(ReportFinding(
            rank=rank, app_id=item.app_id, finding=item.finding, specialist=item.specialist,
            conf_flags=conf_flags(changes), conf_set_lines=conf_set_lines(changes),
            predicted_effect=art.effects.get(item.key) if art else None,
            citations=citations.get(item.key, []),
            where=where_lines(by_app.get(item.app_id), item.finding),
        ))
    apps = []
    for profile in profiles:
        skewed = [s for f in ranked if f.app_id == profile.app_id and f.finding.category == "skew" for s in f.finding.stage_ids]
        apps.append(app_summary(profile, state, skewed))
    caveats = list(dict.fromkeys(state.get("caveats") or []))
    question = state.get("question")
    report = Report(
        question=question.text if question and question.text else None, apps=apps, findings=findings,
        table=state.get("table_summary"), caveats=caveats, specialists=state.get("specialist_runs") or [],
    )
    return write_template(report, question, copy=False)  # the report was just built: no copy needed


def write_template(report: Report, question: Question | None = None, copy: bool = True) -> Report:
    """Fill the headline, narrative and per-finding explanations from templates (always verifiable).

    `copy=False` fills `report` itself (a deep copy costs as much as the rest of a fast analysis).
    """
    if copy:
        report = report.model_copy(deep=True)
    report.path = "template"
    report.headline = template_headline(report)
    report.narrative = template_narrative(report)
    report.answer = template_answer(report, question) if question and question.text else ""
    for item in report.findings:
        item.explanation = ""  # the template adds nothing to the evidence, effect and recommendation already shown
    return report


def template_headline(report: Report) -> str:
    if not report.findings:
        if ran_no_task(report):
            return "Nothing to check: the log records no finished task."
        return "No significant problems found."
    top = report.findings[0].finding
    more = len(report.findings) - 1
    return f"{top.title}" + (f" (+{more} more finding{'s' if more != 1 else ''})" if more else "")


def template_narrative(report: Report) -> str:
    parts = []
    for app in report.apps:
        text = f"{app.description} It ran for {units.duration(app.duration_ms)} on {units.executors(app.executors, app.peak_executors)}"
        text += f" ({units.count(app.total_cores, 'core')})" if app.total_cores else ""
        if app.core_utilization is not None:
            text += f", keeping {units.busy(app.core_utilization, app.lost_core_share)}"
        text += "."
        if app.cost:
            text += f" It cost about {units.money(app.cost.amount, app.cost.currency)}."
        parts.append(text)
        parts += [streaming_sentence(query) for query in app.streaming[:STREAMS_DESCRIBED]]
    if report.findings:
        severe = sum(1 for f in report.findings if f.finding.severity.rank >= 3)
        if len(report.findings) == 1:
            parts.append(f"1 finding, {report.findings[0].finding.severity.value}: {report.findings[0].finding.title}.")
        else:
            parts.append(f"{len(report.findings)} findings, {severe} of them severe or critical; the biggest: "
                         f"{report.findings[0].finding.title}.")
        total = total_savings(report)
        if total:
            parts.append(f"Fixing {'it' if len(report.findings) == 1 else 'them'} could save about {total}.")
    elif ran_no_task(report):
        parts.append("No task finished, so the rules had nothing to check.")
    else:
        parts.append("The rules found nothing worth changing.")
    return " ".join(parts)


def streaming_sentence(query: StreamingProgress) -> str:
    """'Streaming query rate_counts: 4 micro-batches, 1,998 rows/s arriving and 5,321 rows/s processed on average;
    median batch 412 ms, longest 1.2 s; up to 1,000 rows of state.' (the parts the progress events have)."""
    figures = [f"{query.batches:,} micro-batch{'' if query.batches == 1 else 'es'}"]
    rates = [f"{rate:,.0f} rows/s {what}" for rate, what in ((query.input_rows_per_second_mean, "arriving"),
                                                               (query.processed_rows_per_second_mean, "processed"))
             if rate is not None]
    if rates:
        figures[0] += ", " + " and ".join(rates) + " on average"
    if query.batch_duration_ms_median is not None:
        figures.append(f"median batch {units.duration(query.batch_duration_ms_median)}"
                       + (f", longest {units.duration(query.batch_duration_ms_max)}"
                          if query.batch_duration_ms_max is not None else ""))
    if query.state_rows_max:
        figures.append(f"up to {query.state_rows_max:,} rows of state")
    if query.exception:
        figures.append(f"it failed: {query.exception}")
    elif query.terminated:
        figures.append("then it was stopped")
    return f"Streaming query {query.name or query.query_id}: {'; '.join(figures)}."


def template_answer(report: Report, question: Question) -> str:
    """A direct answer to the question from the same facts: named stages, an executor count, cost, else the top fix."""
    parts: list[str] = []
    for app in report.apps:
        for st in app.asked_stages:
            parts.append(stage_sentence(st))
            related = [f for f in report.findings if f.app_id == app.app_id and st.stage_id in f.finding.stage_ids]
            parts.append("Findings on this stage: " + "; ".join(f"#{f.rank} {f.finding.title}" for f in related) + "."
                         if related else "No rule flagged this stage.")
        missing = [sid for sid in question.stage_ids if sid not in {st.stage_id for st in app.asked_stages}]
        if missing:
            parts.append(f"{app.app_id} has no stage {', '.join(map(str, missing))}.")
        if question.executors and app.what_if:
            axis = what_if_axis(app.what_if)
            if axis == "core":
                parts.append(LOCAL_MODE_WHAT_IF)
            p = min(app.what_if, key=lambda w: abs(what_if_size(w, axis) - question.executors))
            parts.append(f"With {units.count(what_if_size(p, axis), axis)} the simulator predicts {units.duration(p.runtime_ms)}"
                         + (f" ({units.duration_range(p.runtime_low_ms, p.runtime_high_ms)})"
                            if p.runtime_low_ms is not None and p.runtime_high_ms is not None else "")
                         + f" against {units.duration(app.duration_ms)} observed.")
        if "cost" in question.topics and app.cost:
            parts.append(f"The run cost {units.money(app.cost.amount, app.cost.currency)}"
                         + (f", of which {units.money(app.cost.idle_amount, app.cost.currency)} paid for idle cores"
                            if app.cost.idle_amount else "") + ".")
    answered = bool(parts)
    if not answered and question.subject:
        related = [f for f in report.findings
                   if f.finding.category in question.categories or f.finding.rule_id in question.rule_ids]
        answered = bool(related)
        parts.append(f"On {question.subject}: " + "; ".join(f"#{f.rank} {f.finding.title}" for f in related[:3]) + "."
                     if related else f"No finding about {question.subject} in this run.")
    if not answered:  # nothing specific asked, or a topic without a finding: the top fix
        if report.findings:
            top = report.findings[0]
            parts.append(f"The most valuable change is #1: {top.finding.title}. {top.finding.recommendation.how()}")
        else:
            parts.append("Nothing in the log points to a problem the rules know about.")
    return " ".join(parts)


def stage_sentence(st) -> str:
    named = f"Stage {st.stage_id}" + (f" ({st.name})" if st.name else "")
    if st.status == "skipped":
        return f"{named} was skipped: its output was already there (an earlier stage wrote the same shuffle), so it ran no task."
    text = f"{named} ran {units.duration(st.duration_ms)} with {units.count(st.num_tasks, 'task')}"
    if st.task_duration_median_ms is not None and st.task_duration_max_ms is not None:
        text += (f"; median task {units.duration(st.task_duration_median_ms)}, slowest "
                 f"{units.duration(st.task_duration_max_ms)}")
    for label, value in (("input", st.input_bytes), ("shuffle read", st.shuffle_read_bytes),
                         ("shuffle write", st.shuffle_write_bytes), ("spilled to disk", st.disk_bytes_spilled)):
        if value:
            text += f"; {label} {units.size(value)}"
    if st.jvm_gc_time_ms and st.executor_run_time_ms:
        text += f"; GC {units.duration(st.jvm_gc_time_ms)} of {units.duration(st.executor_run_time_ms)} task time"
    if st.tasks_failed:
        text += f"; {units.count(st.tasks_failed, 'failed task')}"
    return text + "." + (f" Its operators: {st.operators}." if st.operators else "")


def evidence_line(e) -> str:
    line = f"{e.name} {units.number(e.value, e.unit)}"
    if e.threshold is not None:
        line += f" ({e.threshold_word} {units.number(e.threshold, e.unit)})"
    if e.stage_id is not None:
        line += f" in stage {e.stage_id}"
    return line


def total_savings(report: Report) -> str:
    """Core time, memory and money all findings together could save per run, or over a stream's logged period (empty
    when nothing is estimated)."""
    core_ms = sum(f.finding.estimated_savings.core_ms for f in report.findings)
    memory_gb_ms = sum(f.finding.estimated_savings.memory_gb_ms for f in report.findings)
    money = [f.finding.estimated_savings for f in report.findings if f.finding.estimated_savings.cost]
    amounts = ([f"{units.duration(core_ms)} of executor core time"] if core_ms else []) + (
        [f"{units.gb_hours(memory_gb_ms)} of executor memory"] if memory_gb_ms else [])
    if not amounts:
        return ""
    text = " and ".join(amounts) + " " + report_period(report)
    if money:
        text += f" ({units.money(sum(s.cost for s in money), money[0].currency)})"
    return text


def evidence_digest(report: Report) -> str:
    """Every fact the narrative may use, as text (what the LLM sees and what verify checks against)."""
    lines: list[str] = []
    if total_savings(report):
        lines.append(f"all findings together could save {total_savings(report)}")
    for app in report.apps:
        lines.append(f"app {app.app_id} ({app.app_name}): {app.description}")
        lines.append(f"  runtime {units.duration(app.duration_ms)} ({app.duration_ms} ms); executors {app.executors}, at most {app.peak_executors} at once; "
                     f"cores {app.total_cores} at the peak; jobs {app.jobs}; stages {app.stages}; tasks {app.tasks}; "
                     f"failed tasks {app.failed_tasks}; core utilization {units.percent(app.core_utilization)}; "
                     f"share of used core time in failed or killed task attempts {units.percent(app.lost_core_share)}")
        if app.cost:
            lines.append(f"  cost {units.money(app.cost.amount, app.cost.currency)} ({app.cost.method}); "
                         f"core hours {app.cost.core_hours}; idle {units.money(app.cost.idle_amount, app.cost.currency)}")
        for st in app.asked_stages:
            lines.append(f"  asked: {stage_sentence(st)}")
        for query in app.streaming:  # a stream runs until stopped: its micro-batches say how it keeps up
            lines.append(f"  streaming: {streaming_sentence(query)}")
        axis = what_if_axis(app.what_if)
        for p in app.what_if:
            lines.append(f"  what-if {units.count(what_if_size(p, axis), axis)}: runtime {units.duration(p.runtime_ms)}"
                         + (f" ({units.duration_range(p.runtime_low_ms, p.runtime_high_ms)})"
                            if p.runtime_low_ms is not None and p.runtime_high_ms is not None else "")
                         + (f", cost {units.money(p.cost)}" if p.cost is not None else ""))
    for item in report.findings:
        f = item.finding
        lines.append(f"finding {finding_key(item)} [{f.severity.value}] {f.title}; stages {f.stage_ids}")
        lines += [f"  where: {where}" for where in item.where]
        for e in f.evidence:
            lines.append(f"  evidence: {evidence_line(e)} (raw {e.value})")
        lines.append(f"  recommendation: {f.recommendation.summary}")
        if f.recommendation.code_change:
            lines.append(f"  code change: {f.recommendation.code_change}")
        for c in f.recommendation.config_changes:
            lines.append(f"  config: {c.key}={c.value} (current {c.current or 'default'})")
        s = f.estimated_savings
        if s.core_ms or s.wall_ms or s.memory_gb_ms or s.cost:
            lines.append(f"  savings: {units.duration(s.core_ms)} core time, {units.duration(s.wall_ms)} wall time"
                         + (f", {units.gb_hours(s.memory_gb_ms)} executor memory" if s.memory_gb_ms else "")
                         + (f", {units.money(s.cost, s.currency)}" if s.cost is not None else ""))
        if item.predicted_effect:
            e = item.predicted_effect
            lines.append(f"  predicted runtime {units.duration(e.runtime_before_ms)} -> {units.duration(e.runtime_after_ms)}"
                         + (f" ({units.duration_range(e.runtime_low_ms, e.runtime_high_ms)})"
                            if e.runtime_low_ms is not None and e.runtime_high_ms is not None else "")
                         + f" by {e.method}"
                         + (", the interval includes the observed runtime (no change is possible)"
                            if e.direction == "uncertain" else "")
                         + (f", cost {units.money(e.cost_before, e.currency)} -> {units.money(e.cost_after, e.currency)}"
                            if e.cost_before is not None and e.cost_after is not None else ""))
    return "\n".join(lines)


def finding_key(item: ReportFinding | AppFinding) -> str:
    """A short stable key the LLM uses to attach explanations: '#rank rule_id' for reports."""
    if isinstance(item, ReportFinding):
        return f"{item.rank}:{item.finding.rule_id}"
    return item.key


def finding_of(report: Report, item_key: str) -> ReportFinding | None:
    return next((f for f in report.findings if finding_key(f) == item_key), None)

