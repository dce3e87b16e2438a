"""Offline chat: route a question to the same tools by intent and answer in plain sentences."""

from __future__ import annotations

import re
from collections.abc import Callable

from graph import units
from graph.adapters import ToolUnavailable
from graph.comparison import comparison_answer
from graph.compose import conf_flags, conf_set_lines, evidence_line, stage_sentence, streaming_sentence
from graph.query_answers import (JOB_ID, JOB_QUESTION, LIST_QUESTION, ORDINAL, SOURCES_QUESTION, SQL_ID, SQL_QUESTION,
                                 findings_on, job, listed, ordinal_id, ranked, slowest_jobs, sources, sql_execution,
                                 sql_queries)
from graph.question_changes import changes_in
from graph.report import LOCAL_MODE_WHAT_IF, Citation, what_if_axis, what_if_size
from graph.report_text import citation_text, where_it_flattens
from graph.setting_advice import asked_setting, asked_state, setting_advice, setting_state, spelled, value_line
from graph.topics import (CHEAPER, SAVINGS, SLOWEST_STAGE, asks_about_executors, asks_to_fix, finding_fix, related_findings,
                          savings_answer, time_facts, topic_answer, topic_of)
from graph.verify import CONFIG_KEY
from graph.tools import Toolbox
from tools.findings import Finding

HELP = """I can answer from the loaded event log(s), offline:
  - "summary" / "what is this app?"          overview, runtime, executors, utilization
  - "what's wrong?" / "why is it slow?"        findings ranked by savings, with evidence
  - "why is stage 7 slow?"                     one stage's figures and the findings on it
  - "which stage is the slowest?"              the longest stages, the longest in detail
  - "which query is the slowest?" / "what does SQL 3 do?" / "show me the plan of query 3"
                                               SQL executions: operators with rows, sizes, spill and memory
  - "how many executors did it use?" / "what was the executor memory?"   the run's executors, a setting's value
  - "which job took the longest?" / "what does job 2 do?"   jobs: time, stages, query, findings
  - "list the jobs" / "what stages ran?"        every job (or stage) in order: time, status, stages or tasks
  - "which tables were read?" / "how much data was read?"   scans, locations, bytes and records
  - "compare the two runs" / "why is this run slower than the last one?"   with two logs loaded: the last against
    the one before it (runtime, executors, data, settings that differ, stages that grew and why, findings)
  - "what if I double the executors?" / "what would 20 executors cost?"   simulated runtime (and cost)
  - "how many executors should I use?"         the simulated curve and where it flattens
  - "what if I use 400 shuffle partitions?" / "with AQE off and 2x the data?"   runtime model
  - "show me the config to change"             --conf flags and spark.conf.set lines
  - "what did it cost?"                        cost and idle share
  - "is there skew?" / "did anything spill?" / "how do I fix the GC time?"   a topic's findings, fixes and figures
    (skew, speculation, AQE, spill, GC, partitions, shuffle, streaming, caching, failures, driver time, results
    sent to the driver, executors, memory, joins, broadcast, UDFs, small files)
  - "does a join multiply rows?" / "is any input read twice?"   joins' rows in against out; files several
    queries read again
  - "why is utilization so low?"               where the allocated core time went, stages that left cores waiting
  - "what is the bottleneck?"                   where the run's time went and the findings on its longest stages
  - "how much would I save?" / "can I make it cheaper?"   each finding's savings and all of them together
  - "docs about adaptive query execution"      documentation passages
  - "what is the difference between cache and persist?"   the installed PySpark's API reference (no log needed)
  - "what does spark.sql.adaptive.skewJoin.enabled do?"   the setting's documentation
  - "how many shuffle partitions should I use?"   its value now, the findings' value, the model by value
  - "did it use dynamic allocation?" / "was AQE on?"   the run's value (or Spark's default) and the findings on it
Commands: /load PATH, /report, /help, /quit"""


def answer_offline(question: str, toolbox: Toolbox) -> str:
    """The answer to one question from the tools, chosen by the intent the words show."""
    text = question.lower()
    if toolbox.profile is None:
        if _asks_for_docs(text) or asks_a_concept(text):  # the documentation needs no log
            return docs(text, toolbox)
        return "No event log is loaded yet. Load one with /load PATH (a log file or directory)."
    if toolbox.baseline is not None and _RAN_DIFFERENTLY.search(text) and not _HYPOTHETICAL.search(text):
        return compare(text, toolbox)  # 'why is this run slower?' with two runs loaded: against the one before
    for matches, handler in INTENTS:
        if matches(text):
            try:
                return handler(text, toolbox)
            except ToolUnavailable as exc:
                return f"I cannot answer that from this log: {exc}."
    return overview(text, toolbox) + "\n\n" + findings(text, toolbox)


def overview(text: str, toolbox: Toolbox) -> str:
    o = toolbox.app_overview()
    session = f" (an interactive {o.interactive_shell} session)" if o.interactive_shell else ""
    lines = [f"{o.app_name or o.app_id} ({o.app_id}){session}, Spark {o.spark_version or '?'}, master {units.master(o.master)}: "
             f"ran {units.duration(o.duration_ms)} with {units.executors(o.executors, o.peak_executors)}"
             + (f" ({units.count(o.total_cores, 'core')})" if o.total_cores else "")
             + f", {units.count(o.jobs, 'job')}, {units.count(o.stages, 'stage')}, {units.count(o.tasks, 'task')}"
             + (f", {o.failed_tasks} failed" if o.failed_tasks else "") + "."]
    if o.core_utilization is not None:
        lines.append(f"Tasks kept {units.busy(o.core_utilization, o.lost_core_share)}.")
    if o.longest_stages:
        lines.append("Longest stages: " + ", ".join(
            f"{s.stage_id} ({units.duration(s.duration_ms)})" for s in o.longest_stages[:3]) + ".")
    lines += [streaming_sentence(query) for query in toolbox.profile.streaming]
    return " ".join(lines)


_SLOW = re.compile(r"\b(?:slow|long|faster|speed|quicker)")


def findings(text: str, toolbox: Toolbox, only: Callable[[Finding], bool] = lambda f: True) -> str:
    shown_findings = [f for f in ranked(toolbox) if only(f)]
    if not shown_findings:
        if not toolbox.profile.total_tasks and not toolbox.profile.streaming:
            return "No task finished in this log, so the rules had nothing to check."
        if _SLOW.search(text):  # 'why is it slow?' with nothing to fix: where the time went says why
            return "The rules found nothing worth changing here. Where the time went:\n" + time_facts(toolbox)
        return "The rules found nothing worth changing here."
    out = []
    for i, f in enumerate(shown_findings[:5], start=1):
        shown = "; ".join(evidence_line(e) for e in f.evidence[:2])
        out.append(f"{i}. [{f.severity.value}] {f.title}" + (f": {shown}" if shown else "") + f"\n   -> {f.recommendation.how()}")
    more = f"\n(+{len(shown_findings) - 5} more; /report shows everything)" if len(shown_findings) > 5 else ""
    return "\n".join(out) + more


def stage(text: str, toolbox: Toolbox) -> str:
    named = re.search(r"stage\s+#?(\d+)", text)
    stage_id = int(named.group(1)) if named else ordinal_id(text, "stage", [s.stage_id for s in toolbox.profile.stages])
    if stage_id is None:
        return "The application has no such stage."
    return _stage_answer(stage_id, toolbox)


def _stage_answer(stage_id: int, toolbox: Toolbox) -> str:
    details = toolbox.stage_details(stage_id)
    related = [f for f in ranked(toolbox) if stage_id in f.stage_ids]
    return "\n".join([stage_sentence(details), *findings_on(related, "stage")])


def compare(text: str, toolbox: Toolbox) -> str:
    """'compare the two runs', 'why is this run slower than the last one?': the last log against the one before."""
    return comparison_answer(toolbox)


def what_if(text: str, toolbox: Toolbox) -> str:
    points = toolbox.what_if_executors()
    if not points:
        return "The simulator could not build an executor what-if for this application."
    current = next((p for p in points if p.current), points[0])
    axis = what_if_axis(points)
    now = what_if_size(current, axis)
    wanted = re.search(r"(\d+)\s+(executors?|cores?)", text)
    cores_asked = axis == "executor" and wanted is not None and wanted.group(2).startswith("core")
    if wanted:
        target = int(wanted.group(1))
        if cores_asked:  # N cores in total, in executors of this size
            target = max(1, round(target / (current.cores_per_executor or 1)))
    elif "double" in text or "twice" in text or "2x" in text:
        target = now * 2
    elif "half" in text:
        target = max(1, now // 2)
    else:
        target = None
    priced = _asks_cost(text) and all(p.cost is not None for p in points)
    currency = toolbox.app_cost().currency if priced else None
    rows = [f"{units.count(what_if_size(p, axis), axis):>12}: {units.duration(p.runtime_ms)}"
            + (f" ({units.duration_range(p.runtime_low_ms, p.runtime_high_ms)})" if p.runtime_low_ms is not None else "")
            + (f", {units.money(p.cost, currency)}" if priced else "")
            + (" <- now" if p.current else "") for p in points]
    head = LOCAL_MODE_WHAT_IF + "\n" if axis == "core" and "executor" in text else ""  # asked in executors
    if target is not None:
        p = min(points, key=lambda w: abs(what_if_size(w, axis) - target))
        size = units.count(what_if_size(p, axis), axis)
        if cores_asked and p.cores_per_executor:
            size += f" ({units.count(p.executors * p.cores_per_executor, 'core')})"
        head += (f"With {size} the simulator predicts {units.duration(p.runtime_ms)} "
                 f"against {units.duration(current.runtime_ms)} now")
        if priced:
            head += f", costing about {units.money(p.cost, currency)} against {units.money(current.cost, currency)} now"
        head += ".\n"
    else:
        head += where_it_flattens(points, currency if priced else None) + "\n"
    title = "Simulated runtime and cost" if priced else "Simulated runtime"
    return head + f"{title} by {axis} count:\n" + "\n".join(rows)


def _asks_cost(text: str) -> bool:
    return any(word in text for word in COST_WORDS)


def slowest_stages(text: str, toolbox: Toolbox) -> str:
    """The longest stages, then the longest one in detail."""
    longest = toolbox.app_overview().longest_stages
    if not longest:
        return "No stage ran in this application."
    ranking = "Longest stages: " + ", ".join(
        f"{s.stage_id} ({units.duration(s.duration_ms)}, {units.count(s.num_tasks, 'task')})" for s in longest[:3]) + "."
    return ranking + "\n" + _stage_answer(longest[0].stage_id, toolbox)


def predicted(text: str, toolbox: Toolbox) -> str:
    """A what-if on settings the runtime model answers (shuffle partitions, AQE, broadcast, cores, memory, data)."""
    changes = changes_in(text)
    named = ", ".join(f"{key}={value}" for key, value in changes.items())
    effect = toolbox.predict_runtime(changes)
    if effect is None:
        return f"The runtime model does not cover {named}."
    before, after = effect.runtime_before_ms, effect.runtime_after_ms
    interval = (f" (80% interval {units.duration_range(effect.runtime_low_ms, effect.runtime_high_ms)})"
                if effect.runtime_low_ms is not None and effect.runtime_high_ms is not None else "")
    verdict = units.speed_change(before / after if after > 0 else 1.0)
    if effect.direction == "uncertain":
        verdict += (" at the point estimate; the interval includes today's runtime, so the run may also stay as it "
                    f"is or get {'slower' if after < before else 'faster'}")
    lines = [f"With {named} the {effect.method} predicts {units.duration(after)}{interval} against "
             f"{units.duration(before)} now: {verdict}."]
    if effect.cost_before is not None and effect.cost_after is not None:
        lines.append(f"It would cost about {units.money(effect.cost_after, effect.currency)} against "
                     f"{units.money(effect.cost_before, effect.currency)} now.")
    lines += [f"Caveat: {caveat}." for caveat in effect.caveats]
    return "\n".join(lines)


def _asks_a_value(text: str) -> bool:
    """'how many shuffle partitions should I use?', 'should I use 400 shuffle partitions?': one setting, by value."""
    key = asked_setting(text)
    return key is not None and set(changes_in(text)) <= {key}


def setting_value(text: str, toolbox: Toolbox) -> str:
    """The run's value of the setting asked about, the findings' recommended value and the model's view by value."""
    return setting_advice(asked_setting(text) or "", toolbox, ranked(toolbox), list(changes_in(text).values()))


def setting_used(text: str, toolbox: Toolbox) -> str:
    """'did it use dynamic allocation?': the run's value of the setting, what it did, the findings that change it."""
    return setting_state(asked_state(text) or "", toolbox, ranked(toolbox))


def config(text: str, toolbox: Toolbox) -> str:
    in_order = ranked(toolbox)
    changes = [(f, f.recommendation.config_changes) for f in in_order if f.recommendation.config_changes]
    if not changes:
        if not in_order:
            return "No finding calls for a configuration change, or for any other."
        # 'what should I change first?' with fixes that are code or operations, not settings: the biggest of them
        return "No finding calls for a configuration change. The biggest fix:\n" + finding_fix(1, in_order[0], toolbox)
    out = []
    for f, cc in changes[:5]:
        out.append(f"# {f.title}\n" + "\n".join(conf_flags(cc)) + "\n" + "\n".join(conf_set_lines(cc)))
    if _FIRST.search(text) and not in_order[0].recommendation.config_changes:
        # 'what should I change first?' when the biggest fix is code or operations: that fix, then the settings
        return ("The biggest fix is not a setting:\n" + finding_fix(1, in_order[0], toolbox)
                + "\n\nSettings the other findings change:\n\n" + "\n\n".join(out))
    return "\n\n".join(out)


_FIRST = re.compile(r"\b(?:first|priorit\w*|most\s+important|biggest|top)\b")


# 'if it runs daily', 'every 6 hours', '3 times a day': runs per day
_SCHEDULE = re.compile(r"\b(hourly|daily|nightly|weekly|monthly)\b|\bevery\s+(\d+)\s+hours?\b|\b(\d+)\s+times\s+(?:a|per)\s+day\b")
_RUNS_PER_DAY = {"hourly": 24.0, "daily": 1.0, "nightly": 1.0, "weekly": 1 / 7, "monthly": 12 / 365}


def cost(text: str, toolbox: Toolbox) -> str:
    """What the run cost; with a schedule in the question, per month and year; asked by stage, the stages' shares."""
    c = toolbox.app_cost()
    idle = f", {units.money(c.idle_amount, c.currency)} of it for idle cores" if c.idle_amount else ""
    lines = [f"The run cost about {units.money(c.amount, c.currency)}{idle} ({c.method})."]
    if (per_day := runs_per_day(text)) and not toolbox.profile.streaming:
        often = "once a day" if per_day == 1 else f"{per_day:.3g} times a day"
        lines.append(f"Run {often}, that is about "
                     f"{units.money(c.amount * per_day * 30, c.currency)} a month and "
                     f"{units.money(c.amount * per_day * 365, c.currency)} a year at these prices.")
    if re.search(r"\bstages?\b", text):
        lines.append(_stage_cost_shares(toolbox))
    return "\n".join(lines)


def runs_per_day(text: str) -> float | None:
    """Runs a day a question's schedule implies ('daily': 1, 'every 6 hours': 4, '3 times a day': 3), else None."""
    match = _SCHEDULE.search(text)
    if match is None:
        return None
    if match.group(1):
        return _RUNS_PER_DAY[match.group(1)]
    hours = match.group(2)
    return 24 / int(hours) if hours else float(match.group(3)) if int(match.group(3)) > 0 else None


def _stage_cost_shares(toolbox: Toolbox) -> str:
    """The stages whose tasks used the most core time, with their share of all task time: what a stage costs, as
    the cluster's price is paid for the cores the tasks keep busy (idle cores are the run's, not a stage's)."""
    times = [(s.metrics.duration_ms.sum, s.stage_id) for s in toolbox.profile.stages if s.metrics.duration_ms]
    total = sum(t for t, _ in times)
    if not total:
        return "No stage recorded task times to share the cost by."
    top = sorted(times, reverse=True)[:3]
    return "Stages by task time (their share of the cost of busy cores): " + "; ".join(
        f"stage {stage_id} {units.duration(t)} ({units.percent(t / total)})" for t, stage_id in top) + "."


def topic(text: str, toolbox: Toolbox) -> str:
    """'did anything spill?', 'how do I fix the skew?': the topic's figures and findings with their fixes (and the
    documentation when a fix or an explanation is asked for and no finding has one)."""
    in_order = ranked(toolbox)
    answer = topic_answer(text, toolbox, in_order)
    concept = asks_a_concept(text) and not (_RUN_FIGURE.match(text) and topic_of(text).facts is not None)
    found = related_findings(text, in_order, toolbox)
    if (asks_to_fix(text) or concept) and not found:
        said = topic_of(text).facts is None  # topic_answer already said there is no finding
        lead = "The documentation:" if said else "No finding about it in this run; the documentation:"
        answer = "\n\n".join(part for part in (answer, lead, docs(text, toolbox)) if part)
    elif concept and not asks_to_fix(text):
        # 'what is the difference between cache and persist?': what Spark says too, after the run's findings
        answer = "\n\n".join((answer, "The documentation:", docs(text, toolbox)))
    return answer


def savings(text: str, toolbox: Toolbox) -> str:
    return savings_answer(toolbox, ranked(toolbox))


def docs(text: str, toolbox: Toolbox) -> str:
    query = re.sub(r"^(docs?|documentation)\s+(about|on|for)\s+", "", text).strip() or text
    if key := CONFIG_KEY.search(text):
        query = f"{key.group(0)} {query}"  # the key first: its catalog entry leads the passages
    passages = toolbox.search_docs(query, 3)
    # the API methods a question about Spark names come first ('cache', 'persist'); a setting's key is not read for
    # them ('sql' in spark.sql.adaptive.enabled)
    if asks_a_concept(text) and not key:
        methods = _named_api(query, toolbox)
        shown = {(p.source, p.heading) for p in methods}
        passages = (methods + [p for p in passages if (p.source, p.heading) not in shown])[: max(3, len(methods))]
    if not passages:
        return "Nothing in the knowledge base matches that."
    answer = "\n\n".join(f"{citation_text(p)}\n{p.excerpt}" for p in passages)
    if key:  # and what the run set it to, spelled as the passages spell it
        named = [k for p in passages for k in CONFIG_KEY.findall(f"{p.heading} {p.excerpt}")]
        answer += "\n\n" + value_line(spelled(key.group(0).rstrip("."), named, toolbox), toolbox)
    return answer


def _named_api(query: str, toolbox: Toolbox) -> list[Citation]:
    """The API reference entries of the methods or functions the question names by their name ('cache', 'persist')."""
    from knowledge.api_reference import api_names

    try:
        names = api_names()
    except ImportError:
        return []
    wanted = [full for word in _api_words(query.lower()) for full in names.get(word, [])]
    if not wanted:
        return []
    return toolbox.search_docs(query, len(wanted), {"kind": "api", "api_name": wanted})


# English words that are also PySpark names: read as names only in code form ('.to(', 'first()', '`where`')
_PROSE_FIRST = frozenset({"to", "where", "first", "mode"})
_DETERMINER_BEFORE = re.compile(r"\b(?:the|a|an|this|that|my|our|its|each|every)\s+$")


def _api_words(text: str) -> list[str]:
    """The words of `text` that may name an API: not a word in prose use ('the first thing to check'), unless it is
    written as code."""
    words = []
    for match in re.finditer(r"[a-z_][a-z0-9_]+", text):
        word, before = match.group(0), text[:match.start()]
        code = before.endswith((".", "`")) or text[match.end():].lstrip().startswith("(")
        if code or (word not in _PROSE_FIRST and not _DETERMINER_BEFORE.search(before)):
            words.append(word)
    return list(dict.fromkeys(words))


def _asks_for_docs(text: str) -> bool:
    """'docs about AQE', 'explain broadcast joins', 'how do I read a CSV?'; not 'how do I make it faster?' (the run)."""
    match = re.match(r"\s*(docs?|documentation|explain|how do i)\b", text)
    return match is not None and (match.group(1) != "how do i" or _ABOUT_THE_RUN.search(text) is None)


# 'what is the difference between cache and persist?', 'when should I use broadcast()?', 'how does coalesce work?'
_CONCEPT = re.compile(
    r"\bdifferen\w*\s+between\b|\bvs\.?\s|\bversus\b"
    r"|^\s*(?:what(?:'s|\s+is|\s+are|\s+does|\s+do)|how\s+(?:does|do)|when\s+(?:should|would|do)\s+(?:i|we|you)"
    r"|why\s+(?:would|should)\s+(?:i|we|you)|is\s+it\s+better\s+to)\b")
# 'what is the processing rate?', 'what was its peak memory?': one of the run's figures, which the topic's facts give
_RUN_FIGURE = re.compile(r"^\s*what(?:'s|\s+is|\s+was|\s+were|\s+are)\s+(?:the|its)\s+(?!differen)")
_ABOUT_THE_RUN = re.compile(r"\b(?:my|our|the)\s+(?:run|job|app|application|log|cluster|query|stage)s?\b"
                            r"|\b(?:it|this|here|going on|happen\w*|you)\b")


def asks_a_concept(text: str) -> bool:
    """A question about Spark itself (what an API call or a concept is), not about the loaded run."""
    return _CONCEPT.search(text) is not None and _ABOUT_THE_RUN.search(text) is None


def _has(*words: str) -> Callable[[str], bool]:
    return lambda text: any(w in text for w in words)


COST_WORDS = ("cost", "price", "money", "spend", "$")


def _asks_about_a_key(text: str) -> bool:
    """'what does spark.sql.adaptive.skewJoin.enabled do?': a key without a value to set."""
    return CONFIG_KEY.search(text) is not None and not changes_in(text)


# 'compare the two runs', 'why is this run slower than the last one?', 'what changed since the previous run?' (not
# 'what is the difference between cache and persist?' or 'data from the first stage')
_COMPARE = re.compile(
    r"\bcompar\w*\b.*\b(?:runs?|logs?|apps?|applications?|jobs?|them|yesterday|before|previous|last|other|baseline)\b"
    r"|\bwhat(?:'s|\s+has|\s+have)?\s+changed\b|\bregress"
    r"|\b(?:than|since|vs\.?|versus)\s+(?:the\s+)?(?:last|previous|earlier|other|baseline|yesterday)"
    r"|\bdifferen\w*\s+between\s+(?:the\s+)?(?:two|runs|them|these)|\btwo\s+runs\b")
# With two runs loaded: 'why is this run slower?', 'did it get faster?' ask about the difference between them
_RAN_DIFFERENTLY = re.compile(r"\b(?:slower|faster|longer|shorter|more\s+expensive|cheaper)\b")
_HYPOTHETICAL = re.compile(r"\b(?:with|if|would|could|make|should|can)\b")
# 'help', 'what can you do?', 'how can you help me?': the assistant's help, not 'does AQE help with skew?'
_ASKS_FOR_HELP = re.compile(r"^\W*help\W*$|\bhelp me\W*$|\bwhat can (?:you|i ask)\b|\bhow can you help\b"
                            r"|\bwhat do you do\b")
# Words of the executor-count what-if: 'what if I double the executors?', 'how many executors should I use?'
_WHAT_IF = re.compile(r"\bwhat if\b|\bhow many\b|\bdoubl|\bhalv|\btwice\b|\b(?:more|fewer|extra)\s+executors\b|"
                      r"\bfaster with\b|\bscal|\b\d+\s*x\b")
# "with 8 cores?", "how many cores should I use?": the what-if curve, by cores in local mode
_N_CORES = re.compile(r"\b\d+\s+cores?\b|\bhow\s+many\s+cores\b")


def _names_by_order(text: str, kind: str) -> bool:
    match = ORDINAL.search(text)
    return match is not None and match.group(2) == kind


def _a_topic_not_a_what_if(text: str) -> bool:
    """A topic's question that names executors ('why do executors spill?') without asking what more or fewer
    would do: the what-if intent below takes every question that names executors."""
    return ("executor" in text and topic_of(text) is not None and _WHAT_IF.search(text) is None
            and _N_CORES.search(text) is None)


INTENTS: list[tuple[Callable[[str], bool], Callable[[str, Toolbox], str]]] = [
    (lambda t: _ASKS_FOR_HELP.search(t) is not None, lambda text, tb: HELP),
    (asks_to_fix, topic),  # 'how do I fix the skew?': the findings' fix before the documentation's
    (lambda t: CHEAPER.search(t) is not None, savings),  # 'how do I reduce the cost?': likewise
    (_asks_for_docs, docs),
    (lambda t: _COMPARE.search(t) is not None, compare),
    (lambda t: re.search(r"stage\s+#?\d+", t) is not None or _names_by_order(t, "stage"), stage),
    (lambda t: SQL_ID.search(t) is not None, sql_execution),
    (lambda t: JOB_ID.search(t) is not None or _names_by_order(t, "job"), job),
    (_asks_a_value, setting_value),
    (lambda t: asked_state(t) is not None, setting_used),
    (_asks_about_a_key, docs),
    (lambda t: bool(changes_in(t)), predicted),
    (lambda t: SLOWEST_STAGE.search(t) is not None, slowest_stages),
    (lambda t: SQL_QUESTION.search(t) is not None, sql_queries),
    (lambda t: LIST_QUESTION.search(t) is not None and "fail" not in t, listed),  # failures: the topic
    (lambda t: JOB_QUESTION.search(t) is not None, slowest_jobs),
    (lambda t: SOURCES_QUESTION.search(t) is not None, sources),
    (asks_about_executors, topic),
    (_a_topic_not_a_what_if, topic),  # 'how much memory do executors need?': memory, not the executor-count curve
    (lambda t: _has("what if", "executors", "double", "scale", "faster with")(t) or _N_CORES.search(t) is not None, what_if),
    (_has("config", "conf ", "--conf", "setting", "change", "paste"), config),
    (lambda t: SAVINGS.search(t) is not None, savings),
    (_has(*COST_WORDS), cost),
    (lambda t: topic_of(t) is not None, topic),
    (_has("documentation", " docs"), docs),
    (_has("summary", "overview", "what is this", "what is the app", "about this app", "version", "how long did",
          "how long was", "how long it", "runtime", "duration"), overview),
    (_has("wrong", "slow", "problem", "finding", "issue", "improve", "fix", "faster", "speed up", "quicker", "optimi"),
     findings),
    (asks_a_concept, docs),  # 'what is the difference between cache and persist?': nothing above, and not this run
]
