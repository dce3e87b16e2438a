"""Offline answers about one topic of a run: spill, shuffle, GC, failures, driver time, executors, savings.

'did anything spill?', 'how do I fix the skew?', 'how much would I save?': each topic answers
with the findings in its categories (evidence, the change, what it saves, the predicted effect)
and, with or without findings, the run's own figures for it, so a question about a topic never
gets the generic overview instead.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from graph import units
from graph.adapters import ToolUnavailable
from graph.compose import conf_flags, evidence_line, streaming_sentence
from graph.report_text import effect_text, savings_line, savings_period
from graph.setting_advice import value_line
from graph.tools import Toolbox, stage_summary
from tools.eventlog.master import heap_key
from tools.eventlog.model import AQE_READS, AppProfile
from tools.findings import Finding
from tools.redact import redact_text
from tools.eventlog.slots import cores_used_beside, peak_alive, peak_executors
from tools.rules.cache_columns import wide_caches
from tools.rules.caching import cached_label, cached_once, read_label, reading_executions, repeated_reads, reread_bytes
from tools.rules.driver import cores_between_jobs_ms
from tools.rules.executors import idle_core_time, removal_cause
from tools.rules.join_plan import join_inputs, join_text, side_exchange
from tools.rules.measure import operator_name, task_time_ms
from tools.rules.pruning import cached_whole_tables
from tools.rules.recompute import recomputations
from tools.rules.unions import union_rereads
from tools.sources.streaming import StreamingThresholds

TOP = 3  # stages or executors named per figure
MOSTLY_BUSY = 0.8  # a stage whose tasks kept this share of its cores busy is not named as leaving cores waiting


def _largest(toolbox: Toolbox, field: str, label: Callable[[float], str]) -> str:
    """'stage 4 (9.1 MiB), stage 1 (8.7 MiB)': the stages with the most of a StageSummary figure."""
    summaries = (stage_summary(s, toolbox.profile) for s in toolbox.profile.stages)
    stages = sorted((s for s in summaries if getattr(s, field)),
                    key=lambda s: getattr(s, field), reverse=True)
    return ", ".join(f"stage {s.stage_id} ({label(getattr(s, field))})" for s in stages[:TOP]) or "none"


def _totals(toolbox: Toolbox, *fields: str) -> list[float]:
    summaries = [stage_summary(s, toolbox.profile) for s in toolbox.profile.stages]
    return [sum(getattr(s, field) or 0.0 for s in summaries) for field in fields]


def spill_facts(toolbox: Toolbox) -> str:
    disk, memory = _totals(toolbox, "disk_bytes_spilled", "memory_bytes_spilled")
    if not disk and not memory:
        return "No stage spilled."
    return (f"Spilled {units.size(disk)} to disk ({units.size(memory)} in memory before serialization); most in "
            f"{_largest(toolbox, 'disk_bytes_spilled' if disk else 'memory_bytes_spilled', units.size)}.")


def shuffle_facts(toolbox: Toolbox) -> str:
    read, written = _totals(toolbox, "shuffle_read_bytes", "shuffle_write_bytes")
    if not read and not written:
        return "Nothing was shuffled."
    return (f"Shuffled {units.size(written)} written, {units.size(read)} read; the largest reads: "
            f"{_largest(toolbox, 'shuffle_read_bytes', units.size)}.")


def io_facts(toolbox: Toolbox) -> str:
    """Bytes and records the stages read and wrote, and the stages that read the most."""
    def total(metric: str) -> float | None:
        values = [getattr(s.metrics, metric) for s in toolbox.profile.stages if getattr(s.metrics, metric) is not None]
        return sum(q.sum for q in values) if values else None

    profile = toolbox.profile
    inputs = [x for s in profile.stages if (x := profile.input_bytes(s)) is not None]
    read, read_rows = (sum(inputs) if inputs else None), total("input_records")
    written, written_rows = total("output_bytes"), total("output_records")
    shuffled, = _totals(toolbox, "shuffle_write_bytes")

    def amount(size: float | None, rows: float | None) -> str:
        return units.size(size or 0) + (f" in {units.number(rows)} records" if rows else "")

    text = f"Tasks read {amount(read, read_rows)} of input"
    if read:
        text += f" (most in {_largest(toolbox, 'input_bytes', units.size)})"
    if any(profile.missed_parquet_bytes(s) is not None for s in profile.stages):
        text += " (the Parquet files' size where the tasks' input metric missed Parquet's vectored reads)"
    text += f"; wrote {amount(written, written_rows)}; shuffled {units.size(shuffled)}."
    if read is None and written is None:
        text = f"The log has no input or output metrics (Spark before 1.x task metrics); shuffled {units.size(shuffled)}."
    return text


SKEW_MIN_TASKS = 4  # a stage with fewer tasks has no meaningful median to compare its longest task with


def skew_facts(toolbox: Toolbox) -> str:
    """The stages whose longest task ran furthest above their median ('is there skew?' answered with figures,
    also when no rule fired)."""
    rows = []
    for stage in toolbox.profile.stages:
        q = stage.metrics.duration_ms
        if q is not None and q.count >= SKEW_MIN_TASKS and q.median > 0:
            rows.append((q.max / q.median, stage.stage_id, q))
    if not rows:
        return f"No stage ran {SKEW_MIN_TASKS} or more tasks with timings, so task times cannot be compared."
    rows.sort(key=lambda row: -row[0])
    return "Most uneven stages (longest task against the median): " + "; ".join(
        f"stage {stage_id}: {units.duration(q.max)} vs {units.duration(q.median)} ({ratio:.1f}x)"
        for ratio, stage_id, q in rows[:TOP]) + "."


JOIN_OPERATORS = ("SortMergeJoin", "BroadcastHashJoin", "ShuffledHashJoin", "BroadcastNestedLoopJoin",
                  "CartesianProduct")


def join_facts(toolbox: Toolbox) -> str:
    """The joins of the SQL plans by strategy, and each join with its keys and output rows (the first few)."""
    executions = toolbox.profile.sql_executions
    if not executions:
        return "The log has no SQL plans (an RDD application or Spark before 1.x SQL events): its joins are not visible."
    joins = [(x.execution_id, n) for x in executions for n in x.nodes if operator_name(n) in JOIN_OPERATORS]
    if not joins:
        return "No SQL plan in this log has a join."
    kinds = Counter(operator_name(n) for _, n in joins)
    lines = ["Joins in the SQL plans: " + ", ".join(f"{count} {name}" for name, count in kinds.most_common()) + "."]
    trees = {x.execution_id: x.children() for x in executions}
    for execution_id, node in joins[:5]:
        rows = node.metrics.get("number of output rows")
        sides = join_inputs(trees[execution_id], node)
        inputs = ""
        if rows is not None and sides is not None:
            inputs = (f" from {units.number(sides[0])} and {units.number(sides[1])}"
                      f" ({units.number(rows / max(sides), 'x')} the larger input)")
        lines.append(f"SQL {execution_id}: {join_text(node, 100)}"
                     + (f", {units.number(rows)} output rows{inputs}" if rows is not None else ""))
    if len(joins) > 5:
        lines.append(f"(+{len(joins) - 5} more joins)")
    return "\n".join(lines)


def aqe_facts(toolbox: Toolbox) -> str:
    """What adaptive execution did in the final plans: each AQE shuffle read with the partitions the exchange wrote
    and the ones read (coalesced), the skewed partitions split, and reads made local."""
    lines = [value_line("spark.sql.adaptive.enabled", toolbox)]
    reads = []
    for execution in toolbox.profile.sql_executions:
        tree = execution.children()
        for node in execution.nodes:
            if node.name not in AQE_READS:
                continue
            how = node.description.removeprefix(node.name).strip() or "adaptive"
            read = node.metrics.get("number of partitions")
            exchange = side_exchange(tree, node)  # the shuffle the read re-cuts
            written = exchange.metrics.get("number of partitions") if exchange else None
            text = f"SQL {execution.execution_id}: {how} shuffle read"
            if read is not None:
                text += (f", {units.number(written)} shuffle partitions read as {units.number(read)}"
                         if written and written != read else f", {units.number(read)} partitions")
            skewed = node.metrics.get("number of skewed partitions")
            if skewed:
                splits = node.metrics.get("number of skewed partition splits")
                text += f"; {units.count(int(skewed), 'skewed partition')} split" + (
                    f" into {units.number(splits)} tasks" if splits else "")
            reads.append(text)
    if not reads:
        lines.append("No AQE shuffle read in the final plans: adaptive execution re-cut no shuffle here "
                     "(off, no shuffle, or the log's plans are not adaptive).")
        return "\n".join(lines)
    counted = Counter(reads)  # the two sides of a join often read alike
    lines += [text + (f" ({n} reads)" if n > 1 else "") for text, n in list(counted.items())[:8]]
    if len(counted) > 8:
        lines.append(f"(+{len(counted) - 8} more)")
    return "\n".join(lines)


def speculation_facts(toolbox: Toolbox) -> str:
    """spark.speculation, and the speculative task copies the run launched, by stage."""
    stages = [(s.stage_id, s.tasks_speculative) for s in toolbox.profile.stages if s.tasks_speculative]
    setting = value_line("spark.speculation", toolbox)
    if not stages:
        return f"{setting} No task ran a speculative copy."
    total = sum(n for _, n in stages)
    where = ", ".join(f"stage {stage_id} ({n})" for stage_id, n in stages[:TOP]) + (" and more" if len(stages) > TOP else "")
    return f"{setting} {units.count(total, 'speculative task attempt')} ran, in {where}."


def cache_facts(toolbox: Toolbox) -> str:
    """The persisted RDDs and cached DataFrames: how each was stored, what ran through it, whether it was released."""
    profile = toolbox.profile
    reread = reread_facts(profile)
    if not profile.cached:
        return "\n".join(["Nothing was cached: no stage ran through a persisted RDD or cached DataFrame.", *reread])
    once = {c.rdd_id for c in cached_once(profile)}
    lines = [f"{units.count(len(profile.cached), 'persisted dataset')}:"]
    for c in profile.cached[:5]:
        runs = ", ".join(f"SQL {x}" for x in c.sql_execution_ids[:TOP]) or ", ".join(f"job {j}" for j in c.job_ids[:TOP])
        more = " and more" if max(len(c.sql_execution_ids), len(c.job_ids)) > TOP else ""
        sized = ""
        if c.cached_partitions is not None:
            sized = (f"; {c.cached_partitions} of {c.partitions} partitions stored, {units.size(c.memory_bytes)} in memory"
                     + (f", {units.size(c.disk_bytes)} on disk" if c.disk_bytes else ""))
        lines.append(
            f"  {cached_label(c)}: {c.storage_level}, {units.count(c.partitions, 'partition')}, run by "
            f"{units.count(c.actions, 'action')} ({runs}{more})" + sized
            + ("; read once, never reused" if c.rdd_id in once else "")
            + ("; unpersisted" if c.unpersisted else "; never unpersisted"))
    if len(profile.cached) > 5:
        lines.append(f"  (+{len(profile.cached) - 5} more)")
    return "\n".join([*lines, *cache_scope_facts(profile), *reread])


def cache_scope_facts(profile: AppProfile) -> list[str]:
    """What the caches of file scans held beyond what their readers used: columns no query took, and partitions
    every query filtered away."""
    lines = []
    for wide in wide_caches(profile.sql_executions)[:TOP]:
        readers = ", ".join(f"SQL {x}" for x in wide.readers)
        lines.append(f"SQL {wide.build.execution_id} cached {units.count(wide.cached.total, 'column')} of "
                     f"{wide.scan.name}; the queries reading it ({readers}) used {len(wide.used)}: {', '.join(wide.used)}")
    for whole in cached_whole_tables(profile.sql_executions)[:TOP]:
        readers = ", ".join(f"SQL {x}" for x in whole.readers)
        lines.append(f"SQL {whole.build.execution_id} cached every partition of {whole.scan.name}; every query reading "
                     f"it ({readers}) kept {whole.condition}")
    return lines


def reread_facts(profile: AppProfile) -> list[str]:
    """The files more than one SQL execution read from storage (each read with its size), largest re-read first, and
    the files a union's branches each read again in one query."""
    lines = []
    for key, found in repeated_reads(profile.sql_executions)[:TOP]:
        executions = reading_executions(found)
        lines.append(f"{read_label(key, found[0][1])} read by {units.count(len(executions), 'SQL execution')} "
                     f"({', '.join(f'SQL {x}' for x in executions[:TOP])}{' and more' if len(executions) > TOP else ''}): "
                     f"{units.size(reread_bytes(found))} read again after the first read")
    for union in union_rereads(profile.sql_executions)[:TOP]:
        values = f" ({union.values})" if union.values else ""
        lines.append(f"SQL {union.execution.execution_id}: a union of {len(union.scans)} branches{values} "
                     f"scanned {union.label} once per branch: {units.size(union.again())} of files read again")
    for rerun in ([] if profile.streaming else recomputations(profile.sql_executions)[:TOP]):
        stages = ", ".join(str(s) for s in rerun.stage_ids) or "none alone"
        lines.append(f"SQL {rerun.execution.execution_id} ran again the {', '.join(rerun.operators()) or 'shuffle'} "
                     f"that SQL {rerun.first} ran, over the same inputs (stages {stages}: "
                     f"{units.duration(task_time_ms(profile.stages_of(rerun.stage_ids)))} of task time)")
    return lines


def streaming_facts(toolbox: Toolbox) -> str:
    """Each structured-streaming query's progress and whether it keeps up: the processed rate against the arrival
    rate (with the rule's ratio), the median batch against the time between batch starts, and its state."""
    queries = toolbox.profile.streaming
    if not queries:
        return "This application ran no structured-streaming query (the log has no query progress events)."
    keeps_up = StreamingThresholds().falling_behind_ratio
    lines = []
    for query in queries[:TOP]:
        parts = [streaming_sentence(query)]
        incoming, processed = query.input_rows_per_second_mean, query.processed_rows_per_second_mean
        if incoming and processed is not None:
            verdict = "keeping up" if processed >= incoming * keeps_up else "falling behind"
            parts.append(f"It is {verdict}: it processes rows {processed / incoming:.1f}x as fast as they arrive.")
        if query.batch_duration_ms_median and query.trigger_interval_ms:
            share = query.batch_duration_ms_median / query.trigger_interval_ms
            parts.append(f"The median batch takes {units.percent(share)} of the median "
                         f"{units.duration(query.trigger_interval_ms)} between batch starts.")
        if query.state_memory_bytes_max:
            parts.append(f"Its state took up to {units.size(query.state_memory_bytes_max)} of memory.")
        lines.append(" ".join(parts))
    if len(queries) > TOP:
        lines.append(f"(+{len(queries) - TOP} more queries)")
    return "\n".join(lines)


def partition_facts(toolbox: Toolbox) -> str:
    """The shuffle partition setting, then the stages that processed the most data: their task counts and the data
    per task ('are there too many partitions?', 'how big were the partitions?')."""
    if toolbox.profile.sql_executions:  # AQE coalesces (and splits) the shuffle partitions the setting asks for
        lines = [value_line("spark.sql.shuffle.partitions", toolbox), value_line("spark.sql.adaptive.enabled", toolbox)]
    else:  # RDD code: its shuffles take spark.default.parallelism or the partitions the code asks for
        lines = [value_line("spark.default.parallelism", toolbox)]
    rows = []
    for stage in toolbox.profile.stages:
        sources = ((stage.metrics.input_bytes, "input"), (stage.metrics.shuffle_read_bytes, "shuffle data"))
        read = max(((q, what) for q, what in sources if q is not None and q.sum > 0), key=lambda item: item[0].sum, default=None)
        files = toolbox.profile.missed_parquet_bytes(stage)
        if files is not None and stage.num_tasks:
            rows.append((files, f"Stage {stage.stage_id}: {units.count(stage.num_tasks, 'task')} reading "
                                f"{units.size(files)} of Parquet files, about {units.size(files / stage.num_tasks)} "
                                "per task (the tasks' input metric missed Parquet's vectored reads)."))
        elif read is not None:
            q, what = read
            rows.append((q.sum, f"Stage {stage.stage_id}: {units.count(q.count, 'task')} reading {units.size(q.sum)} "
                                f"of {what}, median {units.size(q.median)} per task, largest {units.size(q.max)}."))
    rows.sort(key=lambda row: -row[0])
    lines += [line for _, line in rows[:TOP]]
    if not rows:  # no bytes to size the partitions by: their count and how long their tasks took
        lines.append("No stage recorded input or shuffle bytes per task; the longest stages: " + "; ".join(
            f"stage {s.stage_id}: {units.count(s.metrics.duration_ms.count, 'task')}, median task "
            f"{units.duration(s.metrics.duration_ms.median)}"
            for s in sorted(toolbox.profile.stages, key=lambda s: s.duration_ms or 0, reverse=True)[:TOP]
            if s.metrics.duration_ms is not None) + ".")
    return "\n".join(lines)


def result_facts(toolbox: Toolbox) -> str:
    """What the tasks sent back to the driver (collect, toPandas, take; accumulators), against
    spark.driver.maxResultSize."""
    stages = [(s.metrics.result_size_bytes.sum, s.stage_id) for s in toolbox.profile.stages if s.metrics.result_size_bytes]
    limit = value_line("spark.driver.maxResultSize", toolbox)
    if not stages:
        return f"The log records no task result sizes. {limit}"
    largest = ", ".join(f"stage {stage_id} ({units.size(size)})" for size, stage_id in sorted(stages, reverse=True)[:TOP])
    return f"Tasks sent {units.size(sum(size for size, _ in stages))} of results to the driver; most in {largest}. {limit}"


def gc_facts(toolbox: Toolbox) -> str:
    gc, run = _totals(toolbox, "jvm_gc_time_ms", "executor_run_time_ms")
    if not run:
        return "The log has no task run time to compare GC time with."
    return (f"GC took {units.duration(gc)} of {units.duration(run)} task run time ({units.percent(gc / run)})"
            + (f"; most in {_largest(toolbox, 'jvm_gc_time_ms', units.duration)}." if gc else "."))


def memory_facts(toolbox: Toolbox) -> str:
    """The task JVMs' largest heap peak against their configured heap; on a cluster, the driver's heap too."""
    key = heap_key(toolbox.profile.master_url)
    executors = toolbox.executors()
    text = _heap_sentence("The largest heap peak", key, [e for e in executors if e.executor_id != "driver"] or executors,
                          toolbox)
    if key != "spark.driver.memory":  # on a cluster the driver is a JVM of its own
        text += " " + _heap_sentence("The driver's heap peak", "spark.driver.memory",
                                     [e for e in executors if e.executor_id == "driver"], toolbox)
    return text


def _heap_sentence(what: str, key: str, jvms: list, toolbox: Toolbox) -> str:
    """'The largest heap peak was 1.1 GiB; spark.executor.memory is 9397M.'"""
    configured = toolbox.spark_config().get(key)
    heap = f"{key} is {configured}" if configured else f"{key} is not set (1g)"
    peaks = [e.peak_jvm_heap_bytes for e in jvms if e.peak_jvm_heap_bytes]
    if not peaks:
        return f"{what} is not in the log; {heap}."
    return f"{what} was {units.size(max(peaks))}; {heap}."


def failure_facts(toolbox: Toolbox) -> str:
    profile = toolbox.profile
    lines = [f"{units.count(profile.failed_tasks, 'task')} failed and {profile.killed_tasks} killed "
             f"of {units.count(profile.total_tasks, 'task')}."]
    failed_stages = [s for s in profile.stages if s.tasks_failed or s.status == "failed"]
    for stage in failed_stages[:TOP]:
        common = sorted(stage.task_failure_reasons.items(), key=lambda item: -item[1])[:2]
        reasons = ", ".join(f"{reason} x{n}" for reason, n in common)
        lines.append(f"Stage {stage.stage_id}.{stage.attempt_id} ({stage.status}): {stage.tasks_failed} failed"
                     + (f" ({reasons})" if reasons else "") + (f"; {redact_text(stage.failure_reason[:160])}" if stage.failure_reason else ""))
    causes = Counter(removal_cause(e.removed_reason) for e in profile.executors if e.removed_reason)
    lines.append(f"{units.count(sum(causes.values()), 'executor')} of {len(profile.executors)} removed"
                 + ("; " + "; ".join(f"{n} x {redact_text(cause)}" for cause, n in causes.most_common(TOP)) if causes else ".")
                 )
    return "\n".join(lines)


def time_facts(toolbox: Toolbox) -> str:
    o = toolbox.app_overview()
    profile = toolbox.profile
    parts = [f"The run took {units.duration(o.duration_ms)}"]
    if profile.driver_time_ms is not None and profile.executor_time_ms is not None:
        idle = (f"driver only; in an interactive {o.interactive_shell} session mostly time between commands"
                if o.interactive_shell else "driver only")
        parts.append(f"{units.duration(profile.driver_time_ms)} with no job running ({idle}) and "
                     f"{units.duration(profile.executor_time_ms)} with jobs running")
    if profile.critical_path_ms is not None:
        parts.append(f"its longest chain of dependent stages (critical path) takes {units.duration(profile.critical_path_ms)}")
    text = "; ".join(parts) + "."
    if o.core_utilization is not None:
        text += f" Tasks kept {units.busy(o.core_utilization, o.lost_core_share)}."
    if o.longest_stages:
        text += " Longest stages: " + ", ".join(f"{s.stage_id} ({units.duration(s.duration_ms)})"
                                                for s in o.longest_stages[:TOP]) + "."
    return text


def utilization_facts(toolbox: Toolbox) -> str:
    """Where the allocated executor core time went: tasks, cores waiting while no job ran, cores waiting inside
    jobs, and the stages that left the most cores waiting (the answer to 'why is utilization only 25%?')."""
    profile = toolbox.profile
    measured = idle_core_time(profile)
    if measured is None:
        return time_facts(toolbox) + " The log does not record when executors started, so their core time is not split."
    between = min(cores_between_jobs_ms(profile, with_driver=True) or 0.0, max(measured.idle_ms, 0.0))
    inside = max(measured.idle_ms - between, 0.0)
    lines = [f"Of {units.duration(measured.allocated_ms)} of executor core time, tasks ran {units.duration(measured.used_ms)} "
             f"({units.percent(measured.used_ms / measured.allocated_ms)}); cores waited "
             f"{units.duration(between)} while no job ran (the driver working alone"
             + (f", {units.duration(profile.driver_time_ms)} of the run" if profile.driver_time_ms is not None else "")
             + f") and {units.duration(inside)} inside jobs (stages with fewer tasks than cores, waiting for their "
             "slowest tasks, or scheduling)."]
    waiting = _stages_leaving_cores_idle(toolbox)
    if waiting:
        lines.append("Stages that left the most cores waiting: " + "; ".join(waiting) + ".")
    return "\n".join(lines)


def _stages_leaving_cores_idle(toolbox: Toolbox) -> list[str]:
    """'stage 3: 30 cores for 18.6 s, 25% busy (longest task 18.6 s, median 3.1 s)' for the stages whose cores
    waited longest (cores alive during the stage x its wall time, less its task time)."""
    executors = [e for e in toolbox.profile.executors if e.cores]
    rows = []
    for stage in toolbox.profile.stages:
        q, wall = stage.metrics.duration_ms, stage.duration_ms
        if not executors or q is None or not wall:
            continue
        cores = peak_alive(executors, stage.submission_time_ms, stage.completion_time_ms)
        beside = cores_used_beside(toolbox.profile.stages, stage)  # concurrent stages' tasks on the same cores
        busy = q.sum + beside * wall
        if cores and busy < MOSTLY_BUSY * cores * wall:
            rows.append((cores * wall - busy, stage, cores, wall, q, beside))
    rows.sort(key=lambda row: -row[0])
    out = []
    for idle, stage, cores, wall, q, beside in rows[:TOP]:
        if q.count < cores:
            why = f"{units.count(q.count, 'task')} on {cores} cores"
        elif q.max < wall / 2:
            why = f"no task ran over {units.duration(q.max)}: the rest was scheduling and start-up"
        else:
            why = f"longest task {units.duration(q.max)}, median {units.duration(q.median)}"
        shared = f", {beside:.1f} of them on average by concurrent stages" if beside >= 0.5 else ""
        out.append(f"stage {stage.stage_id}: {cores} cores for {units.duration(wall)}, "
                   f"{units.percent(min(1.0 - idle / (cores * wall), 1.0))} busy{shared} ({why})")
    return out


def executor_facts(toolbox: Toolbox) -> str:
    executors = sorted(toolbox.executors(), key=lambda e: e.task_time_ms, reverse=True)
    if not executors:
        return "The log names no executors."
    rows = [f"{e.executor_id} on {e.host or '?'}: {units.count(e.task_count, 'task')}, {units.duration(e.task_time_ms)} "
            f"task time, GC {units.duration(e.gc_time_ms)}"
            + (f", peak heap {units.size(e.peak_jvm_heap_bytes)}" if e.peak_jvm_heap_bytes else "")
            + (f", {e.failed_task_count} failed" if e.failed_task_count else "")
            + (f", removed: {redact_text(e.removed_reason[:80])}" if e.removed_reason else "") for e in executors[:5]]
    more = f" (+{len(executors) - 5} more)" if len(executors) > 5 else ""
    return f"{_executor_count(toolbox)}\nExecutors by task time{more}:\n" + "\n".join(f"  {row}" for row in rows)


def _executor_count(toolbox: Toolbox) -> str:
    """'9 executors, at most 8 at once, 3 cores each: 24 cores at the peak.' (local mode: the driver's JVM)."""
    profile = toolbox.profile
    executors = profile.executors
    cores = sorted({e.cores for e in executors if e.cores})
    per = "" if not cores else f"{cores[0]} cores" if len(cores) == 1 else f"{cores[0]}-{cores[-1]} cores"
    if [e.executor_id for e in executors] == ["driver"]:
        return f"Local mode: the tasks ran in the driver's JVM" + (f", {per}." if per else ".")
    each = f", {per} each" if per else ""
    return f"{units.executors(len(executors), peak_executors(executors))}{each}: {peak_alive(executors)} cores at the peak."


@dataclass(frozen=True)
class Topic:
    name: str
    words: re.Pattern[str]
    categories: tuple[str, ...]
    facts: Callable[[Toolbox], str] | None = None
    rules: tuple[str, ...] = ()  # single rules whose category is broader than the topic


def _words(*words: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(words) + r")")


TOPICS = (
    Topic("speculation", _words("speculat"), ("speculation",), speculation_facts),
    Topic("caching", _words("cach", "persist", "unpersist", "storage level", "re-?read", "read (?:\\w+ )?(?:twice|again|"
                            "repeatedly|more than once|several times)", "recomput", "union(?:byname|all)?s?\\b",
                            "(?:comput|calculat)\\w* (?:\\w+ ){0,3}(?:twice|again|more than once|\\w+ times)",
                            "(?:each|every|later) (?:iteration|pass)", "lineage"),
          ("caching",), cache_facts),
    Topic("skew", _words("skew", "straggl", "hot key", "imbalanc", "uneven"), ("skew", "speculation"), skew_facts),
    Topic("adaptive execution", _words("aqe\\b", "adaptive (?:query )?execution"), ("aqe_disabled",), aqe_facts),
    Topic("spill", _words("spill"), ("spill",), spill_facts),
    Topic("garbage collection", _words("gc\\b", "garbage"), ("gc_pressure",), gc_facts),
    # 'were there broadcast joins?': the plans' joins; 'how does broadcast work?': the broadcast topic's documentation
    # 'does a join multiply rows?', 'are there duplicate keys?': before the joins topic, which it narrows
    Topic("join row explosion", _words("explosion", "exploding join", "joins? (?:that )?explod", "many[- ]to[- ]many",
                                       "duplicate(?:d)? (?:join )?keys?", "fan[- ]?out",
                                       "multipl(?:y|ies|ied|ying) (?:the )?rows"), ("join_explosion",), join_facts),
    Topic("joins", _words("joins?\\b", "joined"), ("broadcast_join_opportunity", "cartesian_join", "join_explosion"),
          join_facts),
    Topic("broadcast joins", _words("broadcast"), ("broadcast_join_opportunity",)),
    Topic("python UDFs", _words("udf", "python", "pandas", "df\\.rdd", "rdd\\.map"), ("python_udf",)),
    Topic("failures", _words("fail", "retr", "error", "crash", "lost", "died"), ("task_failures", "executor_loss"),
          failure_facts),
    # 'is my partitionBy too fine?', 'which column should I partition the table by?': the files a write makes
    Topic("small files", _words("small files?", "tiny files?", "file sizes?", "output files", "partitionby",
                                "partition (?:the |my )?(?:table|output|data) by", "[\\d,]+ files"), ("small_files",)),
    Topic("schema inference", _words("schemas?\\b", "infer", "samplingratio"), ("schema_inference",)),
    # not a bare 'skip': 'why were stages skipped?' is about reused shuffle output
    Topic("data skipping", _words("data skipping", "skip(?:s|ped|ping)? (?:the |any |no )?(?:row groups?|files)",
                                  "pushdown", "push(?:ed)? down", "z-?order", "liquid clustering", "row groups?",
                                  "min/max", "predicates?", "prun(?:e|es|ed|ing)\\b", "partition filters?"),
          ("data_skipping",)),
    Topic("distinct counts, cubes and exploded arrays",
          _words("count ?\\(?distinct", "distinct counts?", "countdistinct", "approx_count_distinct", "cubes?\\b",
                 "rollups?\\b", "grouping sets?", "expand\\b", "(?:pos)?explode[sd]?\\b", "exploded arrays?",
                 "collect_(?:list|set)", "higher[- ]order functions?"), ("aggregate_expansion",)),
    Topic("global sorts", _words("sort(?:s|ed|ing)?\\b", "order ?by", "range partition", "repartitionbyrange",
                                  "sortwithinpartitions"), ("global_sort",)),
    # 'is my repartition(64) useful?', 'coalesce or repartition?': the extra shuffle, and one-task stages
    Topic("repartitions", _words("repartition(?!byrange)", "coalesce"), ("shuffle_heavy",), partition_facts,
          rules=("idle_cores_few_tasks", "single_partition_shuffle")),
    Topic("streaming", _words("stream", "micro-?batch", "batches", "keep(?:s|ing)? up", "falling behind", "backlog",
                              "processing rate", "input rate", "rows per second", "rows/s", "state store",
                              "(?:the|its) state\\b", "watermark", "trigger",
                              "batch (?:duration|time|interval|size|length)s?", "how long (?:do|does|did) (?:the )?batch"),
          ("streaming",), streaming_facts),
    Topic("memory", _words("memory", "heap", "oom", "out of memory"),
          ("memory_overprovisioned", "memory_underprovisioned", "gc_pressure", "spill"), memory_facts),
    Topic("utilization", _words("utili[sz]", "busy\\b", "idle cores?", "cores? (?:were |was |sat )?idle",
                                 "idle executors?", "executors? (?:are |were |was |sat |sit )?idle",
                                 "wasted? cores?", "core time"),
          ("idle_executors", "driver_bound", "too_few_partitions", "skew"), utilization_facts),
    Topic("results to the driver", _words("collect(?:ed|s|ing)?\\b", "to the driver", "results? sizes?", "maxresultsize",
                                          "topandas"),
          (), result_facts, rules=("large_results_to_driver",)),
    Topic("driver time", _words("driver", "critical path", "idle", "wall time", "where.*time", "time.*go", "most time",
                                "bottleneck", "taking (?:so )?long", "took (?:so )?long", "(?:did|does) it take",
                                "so long"),
          ("driver_bound", "idle_executors"), time_facts),
    Topic("cartesian joins", _words("cartesian", "cross join"), ("cartesian_join",)),
    Topic("serialization", _words("kryo", "serializ"), ("serializer",)),
    Topic("partitions", _words("partition"), ("too_few_partitions", "too_many_small_tasks", "oversized_partitions",
                                                "skew", "spill"), partition_facts),
    Topic("shuffle", _words("shuffl"), ("shuffle_heavy", "too_few_partitions", "too_many_small_tasks",
                                         "oversized_partitions"), shuffle_facts),
    Topic("input and output", _words("how much data", "data (?:was |did it |does it )?(?:read|written|wr[io]te)",
                                      "(?:bytes|rows|records) (?:were |was )?(?:read|written)", "input (?:size|data|bytes)",
                                      "output (?:size|data|bytes|rows)", "how much .*(?:read|wr[io]te|written)"),
          ("small_files",), io_facts),
    Topic("executors", _words("busiest executor", "executors? (?:was|were) (?:the )?(?:busiest|slowest)",
                               "executors? (?:was|were|got) (?:lost|removed|killed|decommissioned)",
                               "which executor", "per executor", "each executor",
                               # 'how many executors did it use?': the run's count, not the executor-count what-if
                               "how many (?:executors|cores) (?:did|were|was|ran|had|it)\\b",
                               "(?:executors|cores) (?:did|does) (?:it|the \\w+|this \\w+) (?:use|have|get|run)"),
          ("executor_loss",), executor_facts),
)
_FIX = re.compile(r"\bhow\s+(?:do|can|should|would|could)\s+(?:i|we)\s+(?:fix|solve|avoid|reduce|remove|get\s+rid|handle|"
                  r"deal|cut|lower|speed|improve)|\b(?:fix|solve|avoid|reduce|get\s+rid\s+of)\b")
SLOWEST_STAGE = re.compile(r"\b(?:slowest|longest)\s+stages?\b|\bwhich\s+stages?\b.*\b(?:slow|long|time)")
SAVINGS = re.compile(r"\b(?:save|saves|saving|savings|gain|worth)\b")
# 'can I make it cheaper?', 'how do I reduce the cost?': the findings' savings, before any documentation
CHEAPER = re.compile(r"\b(?:cheaper|less expensive)\b|\b(?:reduce|lower|cut)\s+(?:the\s+|my\s+|its\s+|this\s+)?costs?\b")


def asks_about_executors(text: str) -> bool:
    """'which executor was busiest?', 'how many executors were lost?': figures, not the executor-count what-if."""
    return TOPICS[-1].words.search(text) is not None


def topic_of(text: str) -> Topic | None:
    return next((t for t in TOPICS if t.words.search(text)), None)


def asks_to_fix(text: str) -> bool:
    """'how do I fix the skew?': a fix for a topic, answered from the findings before the documentation."""
    return _FIX.search(text) is not None and topic_of(text) is not None


def related_findings(text: str, ranked: list[Finding], toolbox: Toolbox | None = None) -> list[Finding]:
    """The findings of the question's topic, in rank order; for a question about where the time went ('what is the
    bottleneck?') also the findings on the run's longest stages, which are where it went."""
    topic = topic_of(text)
    if topic is None:
        return []
    longest: set[int] = set()
    if topic.name == "driver time" and toolbox is not None and toolbox.profile is not None:
        stages = sorted(toolbox.profile.stages, key=lambda s: s.duration_ms or 0, reverse=True)[:TOP]
        longest = {s.stage_id for s in stages if s.duration_ms}
    return [f for f in ranked
            if f.category in topic.categories or f.rule_id in topic.rules or longest.intersection(f.stage_ids)]


def topic_answer(text: str, toolbox: Toolbox, ranked: list[Finding]) -> str:
    """The run's figures for the topic, then its findings with their fixes."""
    topic = topic_of(text)
    if topic is None:
        return ""
    related = related_findings(text, ranked, toolbox)
    lines = [topic.facts(toolbox)] if topic.facts is not None else []
    lines += [finding_fix(i, f, toolbox) for i, f in enumerate(related[:5], start=1)]
    if not related and topic.facts is None:
        lines.append(f"No finding about {topic.name} in this run.")
    return "\n".join(lines)


def finding_fix(rank: int, f: Finding, toolbox: Toolbox) -> str:
    """One finding as a fix: evidence, the change (flags and code), what it saves, the predicted effect."""
    from graph.nodes import finding_effect  # the report's own effect, the same model call

    lines = [f"{rank}. [{f.severity.value}] {f.title}"]
    shown = "; ".join(evidence_line(e) for e in f.evidence[:2])
    if shown:
        lines.append(f"   evidence: {shown}")
    lines.append(f"   fix: {f.recommendation.summary}")
    lines += [f"   {flag}" for flag in conf_flags(f.recommendation.config_changes)]
    if f.recommendation.code_change:
        lines.append(f"   code: {f.recommendation.code_change}")
    lines.append(f"   saves: {savings_line(f.estimated_savings, savings_period(toolbox.profile))}")
    try:
        effect = finding_effect(f, toolbox.profile, toolbox.config)
    except ToolUnavailable:
        effect = None
    if effect is not None and not isinstance(effect, str):
        lines.append(f"   effect: {effect_text(effect)}")
    return "\n".join(lines)


def savings_answer(toolbox: Toolbox, ranked: list[Finding]) -> str:
    """What fixing each finding saves per run, biggest first, and all of them together."""
    estimated = [f for f in ranked if f.estimated_savings.core_ms or f.estimated_savings.cost
                 or f.estimated_savings.memory_gb_ms or f.estimated_savings.wall_ms]
    if not estimated:
        return "No finding has a savings estimate; nothing the rules found is worth money or time here."
    period = savings_period(toolbox.profile)
    lines = [f"{i}. {f.title}: {savings_line(f.estimated_savings, period)}" for i, f in enumerate(estimated, start=1)]
    core_ms = sum(f.estimated_savings.core_ms for f in estimated)
    money = [f.estimated_savings for f in estimated if f.estimated_savings.cost]
    together = [f"{units.duration(core_ms)} of executor core time"] if core_ms else []
    if money:
        together.append(f"{units.money(sum(s.cost for s in money), money[0].currency)} {period}")
    if together:
        cost = toolbox.app_cost()
        lines.append(f"Together up to {' and '.join(together)} (the run cost {units.money(cost.amount, cost.currency)}); "
                     "findings on the same stages overlap, so the sum is an upper bound.")
    return "\n".join(lines)
