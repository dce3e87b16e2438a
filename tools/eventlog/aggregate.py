"""Single-pass aggregation of listener events into the state an AppProfile is built from.

Lines are dispatched on their `{"Event":"..."` prefix; only the events the profile
uses are decoded, each with its own typed Struct. TaskEnd lines are batched and
decoded together. Anything that fails to decode or process is counted as a bad
line with a warning, never raised.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from tools.eventlog import events as ev
from tools.eventlog.model import ExecutorProfile, JobProfile, failure_line
from tools.eventlog.stages import PEAK_FIELDS, StageTasks
from tools.eventlog.tasks import EXECUTOR_TOTALS, TaskAggregator
from tools.units import count

TASK_END_PREFIX = b'{"Event":"SparkListenerTaskEnd"'
TASK_PREFIX = b'{"Event":"SparkListenerTask'  # TaskStart, TaskEnd, TaskGettingResult
STAGE_COMPLETED_PREFIX = b'{"Event":"SparkListenerStageCompleted"'
EVENT_PREFIX = b'{"Event":"'
BATCH_SIZE = 2048

SQL = "org.apache.spark.sql.execution.ui."
STREAMING = "org.apache.spark.sql.streaming.StreamingQueryListener$"
# Events the profile does not need: recognised, skipped without decoding.
IGNORED_EVENTS = frozenset({
    "SparkListenerTaskStart", "SparkListenerTaskGettingResult", "SparkListenerBlockUpdated",
    "SparkListenerBlockManagerRemoved", "SparkListenerResourceProfileAdded",
    "SparkListenerExecutorBlacklisted", "SparkListenerExecutorUnblacklisted", "SparkListenerNodeBlacklisted",
    "SparkListenerNodeUnblacklisted", "SparkListenerExecutorExcluded", "SparkListenerExecutorUnexcluded",
    "SparkListenerNodeExcluded", "SparkListenerNodeUnexcluded", "SparkListenerSpeculativeTaskSubmitted",
    "SparkListenerUnschedulableTaskSetAdded", "SparkListenerUnschedulableTaskSetRemoved",
    "SparkListenerExecutorBlacklistedForStage", "SparkListenerNodeBlacklistedForStage",
    "SparkListenerExecutorExcludedForStage", "SparkListenerNodeExcludedForStage",
    "SparkListenerMiscellaneousProcessAdded",
    f"{SQL}SparkListenerSQLAdaptiveSQLMetricUpdates",
    f"{STREAMING}QueryStartedEvent", f"{STREAMING}QueryIdleEvent",
})


def scan_lines(data: bytes, start: int, end: int, on_tasks: Callable[[list[memoryview]], object],
               on_line: Callable[[bytes], object]) -> int:
    """Split the complete lines in `data[start:end]`; returns how many task events it consumed.

    One pass of `find` over line starts, no copies: TaskEnd lines go to `on_tasks` in batches of
    memoryview slices, TaskStart-like lines are only counted, every other line goes to `on_line`
    in order. Pending TaskEnd lines are handed over before each StageCompleted, so a stage's tasks
    are in before it finalizes.
    """
    view = memoryview(data)
    find, startswith = data.find, data.startswith
    pending: list[memoryview] = []
    tasks = 0
    pos = start
    while pos < end:
        newline = find(b"\n", pos, end)
        if newline < 0:
            newline = end
        if startswith(TASK_END_PREFIX, pos):
            pending.append(view[pos:newline])
        elif startswith(TASK_PREFIX, pos):
            tasks += 1
        else:
            if pending and startswith(STAGE_COMPLETED_PREFIX, pos):
                on_tasks(pending)
                tasks += len(pending)
                pending = []
            on_line(data[pos:newline])
        pos = newline + 1
    if pending:
        on_tasks(pending)
        tasks += len(pending)
    return tasks


class LineSplitter:
    """The complete lines of a chunk stream as (data, start, end) spans, without joining chunks.

    After `spans` is exhausted, `rest` holds the unfinished last line and `total` the bytes seen.
    """

    def __init__(self) -> None:
        self.rest = b""
        self.total = 0

    def spans(self, chunks: Iterable[bytes]) -> Iterator[tuple[bytes, int, int]]:
        for chunk in chunks:
            self.total += len(chunk)
            first = chunk.find(b"\n")
            if first < 0:
                self.rest += chunk
                continue
            last = chunk.rfind(b"\n")
            head = self.rest + chunk[:first]  # the line that straddles the previous chunk
            self.rest = chunk[last + 1 :]
            yield head, 0, len(head)
            if last > first:
                yield chunk, first + 1, last


def split_chunks(chunks: Iterable[bytes], on_lines: Callable[[bytes, int, int], object]) -> tuple[bytes, int]:
    """Hand the complete lines of a chunk stream to `on_lines(data, start, end)`; returns (unfinished last line, total bytes)."""
    splitter = LineSplitter()
    for span in splitter.spans(chunks):
        on_lines(*span)
    return splitter.rest, splitter.total


@dataclass
class StageState:
    stage_id: int
    attempt_id: int
    info: ev.StageInfo | None = None
    submitted: bool = False
    completed: bool = False
    tasks: StageTasks = field(default_factory=StageTasks)


@dataclass
class SqlState:
    execution_id: int
    description: str = ""
    details: str = ""
    physical_plan: str = ""
    plan_info: ev.SparkPlanInfo | None = None
    start_time_ms: int | None = None
    end_time_ms: int | None = None
    error: str | None = None
    job_ids: list[int] = field(default_factory=list)
    extra_metrics: list[ev.PlanMetric] = field(default_factory=list)


@dataclass
class StreamState:
    query_id: str
    name: str | None = None
    batches: int = 0
    input_rps: list[float] = field(default_factory=list)
    processed_rps: list[float] = field(default_factory=list)
    batch_durations_ms: list[float] = field(default_factory=list)
    timestamps: list[str] = field(default_factory=list)
    state_rows_max: int | None = None
    state_memory_max: int | None = None
    sources: list[str] = field(default_factory=list)
    sinks: list[str] = field(default_factory=list)
    input_rows_total: int = 0
    terminated: bool = False
    exception: str | None = None


# Event name -> (struct it decodes into, Aggregator method that processes it).
HANDLED_EVENTS: dict[str, tuple[type, str]] = {
    "SparkListenerLogStart": (ev.LogStart, "_log_start"),
    "SparkListenerApplicationStart": (ev.ApplicationStart, "_app_start"),
    "SparkListenerApplicationEnd": (ev.ApplicationEnd, "_app_end"),
    "SparkListenerEnvironmentUpdate": (ev.EnvironmentUpdate, "_environment"),
    "SparkListenerExecutorAdded": (ev.ExecutorAdded, "_executor_added"),
    "SparkListenerExecutorRemoved": (ev.ExecutorRemoved, "_executor_removed"),
    "SparkListenerBlockManagerAdded": (ev.BlockManagerAdded, "_block_manager_added"),
    "SparkListenerStageExecutorMetrics": (ev.StageExecutorMetrics, "_stage_executor_metrics"),
    "SparkListenerExecutorMetricsUpdate": (ev.ExecutorMetricsUpdate, "_executor_metrics_update"),
    "SparkListenerJobStart": (ev.JobStart, "_job_start"),
    "SparkListenerJobEnd": (ev.JobEnd, "_job_end"),
    "SparkListenerStageSubmitted": (ev.StageEvent, "_stage_submitted"),
    "SparkListenerStageCompleted": (ev.StageEvent, "_stage_completed"),
    "SparkListenerUnpersistRDD": (ev.UnpersistRdd, "_unpersist"),
    f"{SQL}SparkListenerSQLExecutionStart": (ev.SqlExecutionStart, "_sql_start"),
    f"{SQL}SparkListenerSQLAdaptiveExecutionUpdate": (ev.SqlAdaptiveExecutionUpdate, "_sql_adaptive"),
    f"{SQL}SparkListenerSQLExecutionEnd": (ev.SqlExecutionEnd, "_sql_end"),
    f"{SQL}SparkListenerDriverAccumUpdates": (ev.DriverAccumUpdates, "_driver_accum_updates"),
    f"{STREAMING}QueryProgressEvent": (ev.QueryProgressEvent, "_query_progress"),
    f"{STREAMING}QueryTerminatedEvent": (ev.QueryTerminatedEvent, "_query_terminated"),
}
# Decoders are built once, at import (under the import lock): building msgspec decoders in one thread while
# another decodes with decoders of the same structs crashed the HTTP API's worker threads (segfault, seen twice
# in the 50-request load test). Decoding with a shared Decoder is thread-safe in msgspec >= 0.16.
_NAME_DECODER = msgspec.json.Decoder(ev.EventName)
_DECODERS = {name: msgspec.json.Decoder(struct) for name, (struct, _) in HANDLED_EVENTS.items()}


class Aggregator:
    """Consumes event lines; holds only per-stage/executor/job/SQL state."""

    def __init__(self) -> None:
        self.tasks = TaskAggregator()
        self.events = 0
        self.unknown_events = 0
        self.bad_lines = 0
        self.bad_line_kinds: Counter[str] = Counter()
        self.warnings: list[str] = []
        self.saw_event = False
        self.spark_version: str | None = None
        self.app: ev.ApplicationStart | None = None
        self.app_end_ms: int | None = None
        self.environment: ev.EnvironmentUpdate | None = None
        self.stages: dict[tuple[int, int], StageState] = {}
        self.jobs: dict[int, JobProfile] = {}
        self.job_stage_infos: dict[int, ev.StageInfo] = {}  # from JobStart (covers skipped stages)
        self.stage_jobs: dict[int, list[int]] = {}
        self.executors: dict[str, ExecutorProfile] = {}
        self.sql: dict[int, SqlState] = {}
        self.unpersisted: set[int] = set()  # RDD ids the application unpersisted
        self.accumulator_values: dict[int, float] = {}
        self.streams: dict[str, StreamState] = {}
        self.first_timestamp_ms: int | None = None
        self.last_timestamp_ms: int | None = None
        self._batch: list[bytes] = []
        self._name_decoder = _NAME_DECODER
        self._handlers = {name: (_DECODERS[name], getattr(self, method)) for name, (_, method) in HANDLED_EVENTS.items()}

    # ------------------------------------------------------------ feeding

    def feed_block(self, data: bytes, start: int, end: int) -> None:
        """Process the complete lines in `data[start:end]` (the hot path, see `scan_lines`)."""
        tasks = scan_lines(data, start, end, self.tasks.add, self.feed_line)
        if tasks:
            self.events += tasks
            self.saw_event = True
        self.flush()  # TaskEnd lines that needed the slow path (not starting with the usual prefix)

    def feed_line(self, line: bytes) -> None:
        self.feed([line])

    def feed(self, lines: list[bytes]) -> None:
        """Process complete lines (without the newline), one at a time."""
        batch = self._batch
        handlers = self._handlers
        for line in lines:
            if line.startswith(TASK_END_PREFIX):
                batch.append(line)
                self.events += 1
                self.saw_event = True
                continue
            if line.startswith(EVENT_PREFIX):
                end = line.find(b'"', 10)
                name = line[10:end].decode("utf-8", "replace") if end > 0 else ""
            else:
                if not line.strip():
                    continue
                name = self._event_name(line)
                if name is None:
                    continue
                if name == "SparkListenerTaskEnd":
                    batch.append(line)
                    self.events += 1
                    continue
            self.events += 1
            self.saw_event = True
            handler = handlers.get(name)
            if handler is None:
                if name not in IGNORED_EVENTS:
                    self.unknown_events += 1
                continue
            if name == "SparkListenerStageCompleted" and batch:
                self.flush()
            decoder, handle = handler
            try:
                handle(decoder.decode(line))
            except ev.DECODE_ERRORS as exc:
                self._bad(name, exc)
            except Exception as exc:  # noqa: BLE001 - one odd event must not stop the analysis
                self._bad(name, exc)
        if len(batch) >= BATCH_SIZE:
            self.flush()

    def _event_name(self, line: bytes) -> str | None:
        try:
            name = self._name_decoder.decode(line).event
        except ev.DECODE_ERRORS as exc:
            self._bad("line", exc)
            return None
        if not name:
            self._bad("line", ValueError("no Event field"))
            return None
        return name

    def _bad(self, kind: str, exc: Exception) -> None:
        self.bad_lines += 1
        self.bad_line_kinds[f"{kind.rsplit('.', 1)[-1]} ({type(exc).__name__})"] += 1

    def flush(self) -> None:
        """Decode and aggregate pending TaskEnd lines collected one at a time."""
        if self._batch:
            batch = self._batch.copy()
            self._batch.clear()  # in place: feed() holds a reference to this list
            self.tasks.add(batch)

    # ------------------------------------------------------------ executors

    def _executor(self, executor_id: str) -> ExecutorProfile:
        executor = self.executors.get(executor_id)
        if executor is None:
            executor = self.executors[executor_id] = ExecutorProfile(executor_id=executor_id)
        return executor

    @staticmethod
    def _peak(executor: ExecutorProfile, name: str, value: int) -> None:
        current = getattr(executor, name)
        if value > 0 and (current is None or value > current):
            setattr(executor, name, value)

    def _peaks(self, executor_id: str, peaks: ev.ExecutorMetricsPeaks | None) -> None:
        if peaks is None or not executor_id:
            return
        executor = self._executor(executor_id)
        self._peak(executor, "peak_jvm_heap_bytes", peaks.jvm_heap)
        self._peak(executor, "peak_jvm_offheap_bytes", peaks.jvm_offheap)
        self._peak(executor, "peak_execution_memory_bytes", peaks.onheap_execution + peaks.offheap_execution)
        self._peak(executor, "peak_python_memory_bytes", peaks.python_rss)
        self._peak(executor, "peak_rss_bytes", peaks.jvm_rss)

    def _executor_added(self, e: ev.ExecutorAdded) -> None:
        executor = self._executor(e.executor_id)
        executor.added_time_ms = e.timestamp
        self._seen_time(e.timestamp)
        if e.info is not None:
            executor.host = e.info.host or executor.host
            executor.cores = e.info.cores
            executor.resource_profile_id = e.info.resource_profile_id

    def _executor_removed(self, e: ev.ExecutorRemoved) -> None:
        executor = self._executor(e.executor_id)
        executor.removed_time_ms = e.timestamp
        executor.removed_reason = e.reason
        self._seen_time(e.timestamp)

    def _block_manager_added(self, e: ev.BlockManagerAdded) -> None:
        if e.block_manager is None:
            return
        executor = self._executor(e.block_manager.executor_id)
        executor.host = executor.host or e.block_manager.host
        if e.max_memory is not None:
            executor.max_memory_bytes = e.max_memory
        if executor.added_time_ms is None and e.block_manager.executor_id == "driver":
            executor.added_time_ms = e.timestamp

    def _stage_executor_metrics(self, e: ev.StageExecutorMetrics) -> None:
        self._peaks(e.executor_id, e.metrics)

    def _executor_metrics_update(self, e: ev.ExecutorMetricsUpdate) -> None:
        for update in e.stage_metrics:
            self._peaks(e.executor_id, update.metrics)

    # ------------------------------------------------------------ application

    def _seen_time(self, timestamp: int | None) -> None:
        if timestamp:
            if self.first_timestamp_ms is None or timestamp < self.first_timestamp_ms:
                self.first_timestamp_ms = timestamp
            if self.last_timestamp_ms is None or timestamp > self.last_timestamp_ms:
                self.last_timestamp_ms = timestamp

    def _log_start(self, e: ev.LogStart) -> None:
        self.spark_version = e.spark_version

    def _app_start(self, e: ev.ApplicationStart) -> None:
        self.app = e
        self._seen_time(e.timestamp)

    def _app_end(self, e: ev.ApplicationEnd) -> None:
        self.app_end_ms = e.timestamp
        self._seen_time(e.timestamp)

    def _environment(self, e: ev.EnvironmentUpdate) -> None:
        self.environment = e

    # ------------------------------------------------------------ jobs and stages

    def _job_start(self, e: ev.JobStart) -> None:
        props = e.properties or {}
        sql_id = _int_or_none(props.get("spark.sql.execution.id"))
        description = props.get("spark.job.description") or props.get("callSite.short")
        stage_ids = list(e.stage_ids) or [s.stage_id for s in e.stage_infos]
        self.jobs[e.job_id] = JobProfile(
            job_id=e.job_id, submission_time_ms=e.submission_time, stage_ids=stage_ids,
            sql_execution_id=sql_id, description=str(description) if description is not None else None,
        )
        self._seen_time(e.submission_time)
        for info in e.stage_infos:
            self.job_stage_infos.setdefault(info.stage_id, info)
        for stage_id in stage_ids:
            self.stage_jobs.setdefault(stage_id, []).append(e.job_id)
        if sql_id is not None:
            self._sql(sql_id).job_ids.append(e.job_id)

    def _job_end(self, e: ev.JobEnd) -> None:
        job = self.jobs.get(e.job_id)
        if job is None:
            job = self.jobs[e.job_id] = JobProfile(job_id=e.job_id)
        job.completion_time_ms = e.completion_time
        self._seen_time(e.completion_time)
        result = e.result.result if e.result is not None else ""
        if result == "JobSucceeded":
            job.status = "succeeded"
        elif result:
            job.status = "failed"
            exception = (e.result.exception or {}) if e.result is not None else {}
            message = exception.get("Message") if isinstance(exception, dict) else None
            job.failure_reason = failure_line(str(message), 500) if message else result

    def _stage_event(self, e: ev.StageEvent) -> StageState | None:
        if e.info is None:
            return None
        stage = self._stage(e.info.stage_id, e.info.attempt_id)
        stage.info = e.info
        return stage

    def _stage_submitted(self, e: ev.StageEvent) -> None:
        stage = self._stage_event(e)
        if stage is not None:
            stage.submitted = True
            self._seen_time(e.info.submission_time)

    def _stage_completed(self, e: ev.StageEvent) -> None:
        stage = self._stage_event(e)
        if stage is None:
            return
        stage.completed = True
        self._seen_time(e.info.completion_time)
        for acc in e.info.accumulables:
            if acc.name and not acc.name.startswith("internal."):
                value = _float_or_none(acc.value)
                if value is not None:
                    self.accumulator_values[acc.id] = value
        self.tasks.finalize((stage.stage_id, stage.attempt_id))

    def _unpersist(self, e: ev.UnpersistRdd) -> None:
        self.unpersisted.add(e.rdd_id)

    # ------------------------------------------------------------ SQL and streaming

    def _sql(self, execution_id: int) -> SqlState:
        return _state_of(self.sql, execution_id, SqlState)

    def _sql_start(self, e: ev.SqlExecutionStart) -> None:
        state = self._sql(e.execution_id)
        state.description = e.description
        state.details = e.details
        state.physical_plan = e.physical_plan
        state.plan_info = e.plan_info
        state.start_time_ms = e.time
        self._seen_time(e.time)

    def _sql_adaptive(self, e: ev.SqlAdaptiveExecutionUpdate) -> None:
        state = self._sql(e.execution_id)
        if e.physical_plan:
            state.physical_plan = e.physical_plan
        if e.plan_info is not None:
            if state.plan_info is not None:
                state.extra_metrics.extend(_plan_metrics(state.plan_info))
            state.plan_info = e.plan_info

    def _sql_end(self, e: ev.SqlExecutionEnd) -> None:
        state = self._sql(e.execution_id)
        state.end_time_ms = e.time
        state.error = e.error
        self._seen_time(e.time)

    def _driver_accum_updates(self, e: ev.DriverAccumUpdates) -> None:
        for pair in e.updates:
            if len(pair) == 2 and isinstance(pair[0], int):
                value = _float_or_none(pair[1])
                if value is not None:
                    self.accumulator_values[pair[0]] = value

    def _stream(self, query_id: str) -> StreamState:
        return _state_of(self.streams, query_id, StreamState)

    def _query_terminated(self, e: ev.QueryTerminatedEvent) -> None:
        if e.id:  # a query that failed before its first batch is in the profile too, with its error
            state = self._stream(e.id)
            state.terminated = True
            state.exception = e.exception or state.exception

    def _query_progress(self, e: ev.QueryProgressEvent) -> None:
        p = e.progress
        if p is None or not p.id:
            return
        state = self._stream(p.id)
        state.name = p.name or state.name
        state.batches += 1
        # Spark writes the rates per source; the top-level fields are absent in event logs.
        input_rows = p.num_input_rows if p.num_input_rows is not None else _sum_sources(p.sources, "num_input_rows")
        input_rps = p.input_rows_per_second if p.input_rows_per_second is not None else _sum_sources(p.sources, "input_rows_per_second")
        processed_rps = (
            p.processed_rows_per_second
            if p.processed_rows_per_second is not None
            else _sum_sources(p.sources, "processed_rows_per_second")
        )
        state.input_rows_total += int(input_rows or 0)
        # a batch that read nothing (the first one of a rate source, an idle topic) has no rates to average
        if input_rps is not None and (input_rows is None or input_rows > 0):
            state.input_rps.append(float(input_rps))
        if processed_rps is not None and (input_rows is None or input_rows > 0):
            state.processed_rps.append(float(processed_rps))
        if p.duration_ms and "triggerExecution" in p.duration_ms:
            state.batch_durations_ms.append(float(p.duration_ms["triggerExecution"]))
        if p.timestamp:
            state.timestamps.append(p.timestamp)
        for op in p.state_operators:
            state.state_rows_max = max(state.state_rows_max or 0, op.rows_total)
            state.state_memory_max = max(state.state_memory_max or 0, op.memory_used_bytes)
        for source in p.sources:
            if source.description and source.description not in state.sources:
                state.sources.append(source.description)
        if p.sink is not None and p.sink.description and p.sink.description not in state.sinks:
            state.sinks.append(p.sink.description)

    # ------------------------------------------------------------ end

    def finish(self) -> None:
        """Collect the task statistics (finalizing stages still open at the end of the log)."""
        self.flush()
        results = self.tasks.finish()
        for key, stage_tasks in results.stages.items():
            self._stage(*key).tasks = stage_tasks
        for executor_id, totals in results.executors.items():
            executor = self._executor(executor_id)
            for name in EXECUTOR_TOTALS:
                setattr(executor, name, getattr(executor, name) + getattr(totals, name))
            for name in PEAK_FIELDS:
                value = getattr(totals, name)
                if value is not None:
                    self._peak(executor, name, value)
        self.bad_lines += results.bad_lines
        self.bad_line_kinds.update(results.bad_line_kinds)
        for warning in results.warnings:
            self._warn_once(warning)
        if self.bad_lines:
            kinds = ", ".join(f"{n} {k}" for k, n in self.bad_line_kinds.most_common(5))
            self.warnings.append(f"skipped {count(self.bad_lines, 'event line')} that could not be decoded: {kinds}")

    def _stage(self, stage_id: int, attempt_id: int) -> StageState:
        key = (stage_id, attempt_id)
        state = self.stages.get(key)
        if state is None:
            state = self.stages[key] = StageState(stage_id, attempt_id)
        return state

    def _warn_once(self, message: str) -> None:
        if message not in self.warnings and len(self.warnings) < 50:
            self.warnings.append(message)


def _plan_metrics(info: ev.SparkPlanInfo) -> list[ev.PlanMetric]:
    out: list[ev.PlanMetric] = []
    stack = [info]
    while stack:
        node = stack.pop()
        out.extend(node.metrics)
        stack.extend(node.children)
    return out


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float_or_none(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", ""))
        except ValueError:
            return None
    return None


def _state_of(table: dict, key, make: Callable):
    """The state kept under `key` in `table`, made by `make(key)` the first time it is asked for."""
    state = table.get(key)
    if state is None:
        state = table[key] = make(key)
    return state


def _sum_sources(sources: list, attribute: str) -> float | None:
    """Sum of one per-source progress value; None when no source reports it."""
    values = [getattr(source, attribute) for source in sources]
    present = [float(v) for v in values if v is not None]
    return sum(present) if present else None
