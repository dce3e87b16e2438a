"""Offline answers about the units of work a user names: a job, a SQL query, the sources the queries read.

'what does job 2 do?', 'which job took the longest?', 'what does SQL 3 do?', 'show me the plan of
query 3', 'which tables were read?': the profile's figures for that unit and the findings on it.
"""

from __future__ import annotations

import re
from collections import Counter

from graph import units
from graph.compose import savings_key, streaming_sentence
from graph.sql_plans import id_ranges, one_line, plan_lines, query_executions, scans
from graph.tools import Toolbox, not_in_app
from tools.eventlog.model import stage_label
from tools.findings import Finding
from tools.rules.failures import cancelled
from tools.redact import redact_text

# 'SQL 3', 'query #3', 'execution 3' (not 'spark.sql.shuffle.partitions 3'): one SQL execution by its id.
SQL_ID = re.compile(r"(?<![.\w])(?:sql|query|execution)\s+(?:execution\s+|id\s+)?#?(\d+)\b")
_SQL_WORDS = re.compile(r"(?<![.\w])sql(?![.\w])|\bplans?\b")
# 'the slowest query', 'which queries ran?', 'show me the physical plan', 'SQL' on its own.
SQL_QUESTION = re.compile(
    r"(?<![.\w])sql(?![.\w])|\b(?:physical|query|sql|execution)\s+plans?\b|\bthe\s+plans?\b"
    r"|\b(?:slowest|longest|which|what|all|list|show(?:\s+me)?(?:\s+the)?)\s+quer(?:y|ies)\b|\bquer(?:y|ies)\s+(?:ran|run)\b")
JOB_ID = re.compile(r"\bjob\s+#?(\d+)\b")
# 'why was the first job slow?', 'what did the last stage do?': a job or stage by its place in the run
ORDINAL = re.compile(r"\b(first|second|third|last|final)\s+(job|stage)\b")
_ORDINALS = {"first": 0, "second": 1, "third": 2, "last": -1, "final": -1}


def ordinal_id(text: str, kind: str, ids: list[int]) -> int | None:
    """The id a question names by order ('the first job': the lowest job id), else None."""
    match = ORDINAL.search(text)
    if match is None or match.group(2) != kind or not ids:
        return None
    index, ordered = _ORDINALS[match.group(1)], sorted(set(ids))
    return ordered[index] if -len(ordered) <= index < len(ordered) else None


# 'list the jobs', 'show me all stages', 'how many jobs were there?', 'what stages ran?': every job or stage in order
LIST_QUESTION = re.compile(r"\b(?:list|show|all|every)\b(?:\s+(?:me|the|of|all))*\s+(jobs|stages)\b"
                           r"|\bhow\s+many\s+(jobs|stages)\b|\b(?:what|which)\s+(jobs|stages)\s+(?:ran|were\s+(?:there|run))\b")
LISTED = 20  # jobs or stages named one per line
JOB_QUESTION = re.compile(r"\b(?:slowest|longest|which|what|all|list)\s+jobs?\b|\bjobs?\s+(?:took|ran|run|failed)\b")
SOURCES_QUESTION = re.compile(r"\b(?:which|what)\s+(?:tables?|files?|sources?|data\s*sources?|paths?|inputs?)\b"
                              r"|\b(?:tables?|files?|sources?|paths?)\s+(?:were|was|did\s+it)\s+read\b|\bread\s+from\b"
                              r"|\bwhat\s+did\s+(?:it|the\s+(?:job|app|application|query|run))\s+read\b")


def ranked(toolbox: Toolbox) -> list[Finding]:
    """The findings in the report's order: priced, by money saved first."""
    return sorted(toolbox.priced(toolbox.diagnose()), key=savings_key)


def sql_execution(text: str, toolbox: Toolbox) -> str:
    """'what does SQL 3 do?', 'show me the plan of query 3': one SQL execution, its operators' figures and findings."""
    return _sql_answer(int(SQL_ID.search(text).group(1)), toolbox, with_plan_text="plan" in text)


def _sql_answer(execution_id: int, toolbox: Toolbox, with_plan_text: bool) -> str:
    plan = toolbox.sql_plan(execution_id)
    head = f"SQL {plan.execution_id}" + (f" ({plan.description})" if plan.description else "")
    head += f" ran {units.duration(plan.duration_ms)}" if plan.duration_ms is not None else ""
    if plan.job_ids:
        head += f": {id_ranges(plan.job_ids, 'job')}" + (f", {id_ranges(plan.stage_ids, 'stage')}" if plan.stage_ids else "")
    else:
        head += ": it ran no Spark job"
    lines = [head + "." + (f" It failed: {plan.error}." if plan.error else "")]
    if plan.operators:
        lines += ["Operators in plan order, with their figures and the stages they ran in:", *plan_lines(plan)]
    lines += findings_on([f for f in ranked(toolbox) if execution_id in f.sql_execution_ids], "query")
    if with_plan_text and plan.plan_text:
        lines += ["Physical plan as Spark logged it:", plan.plan_text]
    return "\n".join(lines)


def sql_queries(text: str, toolbox: Toolbox) -> str:
    """'which query is the slowest?', 'show me the SQL plan': the longest SQL executions, then the longest in detail."""
    profile = toolbox.profile
    if profile.streaming and not _SQL_WORDS.search(text):  # a streaming query: its micro-batches, not its SQL
        return "\n".join(streaming_sentence(query) for query in profile.streaming)
    longest = toolbox.sql_executions(5)
    if not longest:
        if profile.release == (0, 0):
            return ("This log has no SQL execution: the application ran RDD code, or its Spark (the log does not name "
                    "the version) was too old to log SQL queries.")
        if profile.release < (2, 0):
            return f"This log has no SQL execution (Spark {profile.spark_version} may not log SQL queries)."
        return "This application ran no SQL or DataFrame query (its jobs come from RDD code)."
    count = units.count(len(query_executions(profile)), "SQL execution")
    ranking = (f"{count} ran Spark jobs; the longest: " if longest[0].job_ids else f"{count}, none of which ran a Spark job: ")
    ranking += "; ".join(f"SQL {q.execution_id} ({units.duration(q.duration_ms)}, {one_line(q.description, 60) or 'no description'})"
                         for q in longest[:3])
    return ranking + ".\n" + _sql_answer(longest[0].execution_id, toolbox, with_plan_text="plan" in text)


def job(text: str, toolbox: Toolbox) -> str:
    """'what does job 2 do?': the job's time, status, stages, SQL execution and the findings on its stages."""
    named = JOB_ID.search(text)
    job_id = int(named.group(1)) if named else ordinal_id(text, "job", [j.job_id for j in toolbox.profile.jobs])
    if job_id is None:
        return "The application has no such job."
    return _job_answer(job_id, toolbox)


def _job_answer(job_id: int, toolbox: Toolbox) -> str:
    profile = toolbox.profile
    found = next((j for j in profile.jobs if j.job_id == job_id), None)
    if found is None:
        raise not_in_app("job", job_id, [j.job_id for j in profile.jobs])
    stages = profile.stages_of(found.stage_ids)
    ran = [s for s in stages if s.status != "skipped"]
    head = f"Job {job_id}" + (f" ({redact_text(one_line(found.description, 80))})" if found.description else "")
    head += f" ran {units.duration(found.duration_ms)}, {found.status}" if found.duration_ms is not None else f", {found.status}"
    head += f"; {id_ranges(found.stage_ids, 'stage')}" if found.stage_ids else "; no stages"
    if len(ran) < len(stages):
        head += f" ({len(stages) - len(ran)} skipped: their output was reused)"
    lines = [head + "."]
    if ran:
        longest = max(ran, key=lambda s: s.duration_ms or 0)
        lines.append(f"Its longest stage: {longest.stage_id} ({units.duration(longest.duration_ms)}, "
                     f"{units.count(longest.num_tasks, 'task')}, {redact_text(one_line(stage_label(longest), 80))}).")
    if found.sql_execution_id is not None:
        lines.append(f"It ran for SQL {found.sql_execution_id} (ask \"what does SQL {found.sql_execution_id} do?\").")
    if found.failure_reason:
        lines.append(f"It failed: {redact_text(found.failure_reason[:200])}.")
    job_stages = set(found.stage_ids)
    lines += findings_on([f for f in ranked(toolbox) if job_stages & set(f.stage_ids)], "job")
    return "\n".join(lines)


def slowest_jobs(text: str, toolbox: Toolbox) -> str:
    """'which job took the longest?': the longest jobs, then the longest in detail ('which job failed?': the failed)."""
    jobs = sorted(toolbox.profile.jobs, key=lambda j: j.duration_ms or 0, reverse=True)
    if not jobs:
        return "No job ran in this application."
    if "fail" in text:
        failed = [j for j in sorted(jobs, key=lambda j: j.job_id) if j.status == "failed"]
        if not failed:
            return f"None of the {units.count(len(jobs), 'job')} failed."
        return "\n".join(f"Job {j.job_id} {'was cancelled' if cancelled(j.failure_reason) else 'failed'} after "
                         f"{units.duration(j.duration_ms)}"
                         + (f": {redact_text(one_line(j.failure_reason, 200))}" if j.failure_reason else "") for j in failed[:5])
    ranking = "Longest jobs: " + ", ".join(f"{j.job_id} ({units.duration(j.duration_ms)})" for j in jobs[:3]) + "."
    return ranking + "\n" + _job_answer(jobs[0].job_id, toolbox)


def listed(text: str, toolbox: Toolbox) -> str:
    """'list the jobs' / 'how many stages were there?': every job (or stage) in order, one line each."""
    match = LIST_QUESTION.search(text)
    kind = next((g for g in match.groups() if g), "jobs") if match else "jobs"
    return stage_list(toolbox) if kind == "stages" else job_list(toolbox)


def job_list(toolbox: Toolbox) -> str:
    jobs = sorted(toolbox.profile.jobs, key=lambda j: j.job_id)
    if not jobs:
        return "No job ran in this application."
    failed = sum(1 for j in jobs if j.status == "failed")
    lines = [f"{units.count(len(jobs), 'job')}" + (f", {failed} of them failed or cancelled" if failed else "")
             + f"; jobs were running for {units.duration(toolbox.profile.executor_time_ms)} of the run:"]
    for j in jobs[:LISTED]:
        what = f" ({one_line(j.description, 70)})" if j.description else ""
        sql = f", SQL {j.sql_execution_id}" if j.sql_execution_id is not None else ""
        lines.append(f"  job {j.job_id}{what}: {units.duration(j.duration_ms)}, {j.status}, "
                     f"{id_ranges(j.stage_ids, 'stage') if j.stage_ids else 'no stages'}{sql}")
    if len(jobs) > LISTED:
        lines.append(f"  (+{len(jobs) - LISTED} more; ask \"which job took the longest?\")")
    return "\n".join(lines)


def stage_list(toolbox: Toolbox) -> str:
    stages = sorted(toolbox.profile.stages, key=lambda s: (s.stage_id, s.attempt_id))
    if not stages:
        return "No stage ran in this application."
    counts = ", ".join(f"{n} {status}" for status, n in Counter(s.status for s in stages).most_common())
    lines = [f"{units.count(len({s.stage_id for s in stages}), 'stage')} ({counts}):"]
    for s in stages[:LISTED]:
        attempt = f" (attempt {s.attempt_id})" if s.attempt_id else ""
        name = f" ({one_line(label, 80)})" if (label := stage_label(s)) else ""
        ran = (f", {units.count(s.tasks_succeeded + s.tasks_failed + s.tasks_killed, 'task')}, "
               f"{units.duration(s.duration_ms)}" if s.status != "skipped" else "")
        lines.append(f"  stage {s.stage_id}{attempt}{name}: {s.status}{ran}")
    if len(stages) > LISTED:
        lines.append(f"  (+{len(stages) - LISTED} more; ask \"which stages took the longest?\")")
    return "\n".join(lines)


def sources(text: str, toolbox: Toolbox) -> str:
    """'which tables were read?': each query's scans with files, bytes and rows, and the locations its plan names."""
    found = [(execution_id, found_scans, locations) for execution_id, found_scans, locations in scans(toolbox.profile)
             if found_scans or locations]
    if not found:
        return ("The log names no table or file scan: the application ran no SQL or DataFrame query, or its "
                "plans were not logged. The stages' input figures: ask \"how much data was read?\".")
    lines = ["What the SQL queries read:"]
    for execution_id, found_scans, locations in found[:8]:
        lines += [f"- SQL {execution_id}: {scan}" for scan in found_scans]
        lines += [f"  location: {location}" for location in locations[:3]]
    if len(found) > 8:
        lines.append(f"(+{len(found) - 8} more queries)")
    return "\n".join(lines)


def findings_on(related: list[Finding], unit: str) -> list[str]:
    """'Findings on this stage:' and each finding with its fix, or that no rule flagged it."""
    if not related:
        return [f"No rule flagged this {unit}."]
    return [f"Findings on this {unit}:", *(f"- {f.title} -> {f.recommendation.how()}" for f in related)]
