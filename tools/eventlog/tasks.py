"""TaskEnd lines in; per-stage-attempt task statistics and per-executor task totals out.

The task half of the aggregation: `add` batches of TaskEnd lines, `finalize` a stage
attempt at its StageCompleted, `finish` at the end of the log.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter

import msgspec
import numpy as np

from tools.eventlog import events as ev
from tools.eventlog.model import ExecutorProfile
from tools.eventlog.stages import COL, PEAK_FIELDS, StageTasks, decode_rows_per_executor, failure_class, task_block

# ExecutorProfile fields that task aggregation adds to.
EXECUTOR_TOTALS = ("task_count", "failed_task_count", "task_time_ms", "gc_time_ms", "input_bytes",
                   "shuffle_read_bytes", "shuffle_write_bytes", "memory_bytes_spilled", "disk_bytes_spilled")


@dataclass
class TaskGroup:
    """Successful TaskEnds of one stage attempt, consecutive in a batch, as rows (built without aggregator state)."""

    key: tuple[int, int]
    block: np.ndarray | None  # (n, ROW_WIDTH) rows; None when the values could not be converted
    executor_names: list[str]  # distinct executor ids in order of first appearance
    executor_index: np.ndarray  # per row: index into executor_names
    speculative: np.ndarray  # per row: bool
    tasks: list[ev.TaskEnd] | None = None  # kept only when `block` is None
    error: str = ""


@dataclass
class TaskBatch:
    """A decoded batch of TaskEnd lines, ready to apply in log order: singles first, then groups.

    Building it needs no aggregator state, so a worker process can build it for its share of
    the log and the parent applies it in order (`TaskAggregator.apply`), giving the same result.
    """

    singles: list[ev.TaskEnd]  # failed, killed or odd tasks: counted one by one
    groups: list[TaskGroup]
    bad_kinds: list[str]  # one entry per line that did not decode


_DECODE = msgspec.json.Decoder(ev.TaskEnd).decode


def _bad_kind(exc: Exception) -> str:
    return f"SparkListenerTaskEnd ({type(exc).__name__})"


def prepare_tasks(lines: list[bytes] | list[memoryview]) -> TaskBatch:
    """Decode TaskEnd lines and turn the successful ones into per-stage row blocks (the per-task work)."""
    bad: list[str] = []
    try:
        tasks = [_DECODE(line) for line in lines]
    except ev.DECODE_ERRORS:
        tasks = []
        for line in lines:
            try:
                tasks.append(_DECODE(line))
            except ev.DECODE_ERRORS as exc:
                bad.append(_bad_kind(exc))
    keys = [
        (t.stage_id, t.stage_attempt_id)
        if t.end_reason is not None and t.end_reason.reason == "Success" and t.info is not None
        and not t.info.failed and t.metrics is not None else None
        for t in tasks
    ]
    singles: list[ev.TaskEnd] = []
    distinct = set(keys)
    if len(distinct) == 1 and None not in distinct:
        grouped = {keys[0]: tasks} if tasks else {}
    else:
        grouped = {}
        for task, key in zip(tasks, keys):
            if key is None:
                singles.append(task)
            else:
                grouped.setdefault(key, []).append(task)
    return TaskBatch(singles, [_group(key, group) for key, group in grouped.items()], bad)


def _group(key: tuple[int, int], tasks: list[ev.TaskEnd]) -> TaskGroup:
    infos = list(map(attrgetter("info"), tasks))
    ids = list(map(attrgetter("executor_id"), infos))
    names = list(dict.fromkeys(ids))  # first appearance order
    if len(names) == 1:
        executor_index = np.zeros(len(ids), dtype=np.int64)
    else:
        lookup = {name: i for i, name in enumerate(names)}
        executor_index = np.fromiter(map(lookup.__getitem__, ids), dtype=np.int64, count=len(ids))
    speculative = np.fromiter(map(attrgetter("speculative"), infos), dtype=bool, count=len(infos))
    try:
        block = task_block(tasks)
    except Exception as exc:  # noqa: BLE001 - odd values must not stop the analysis
        return TaskGroup(key, None, names, executor_index, speculative, tasks, _bad_kind(exc))
    return TaskGroup(key, block, names, executor_index, speculative)


@dataclass
class TaskResults:
    stages: dict[tuple[int, int], StageTasks]
    executors: dict[str, ExecutorProfile]  # only the task totals and peaks are filled
    bad_lines: int = 0
    bad_line_kinds: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)


class TaskAggregator:
    """Aggregates decoded TaskEnd events; memory grows with stages and executors only."""

    def __init__(self) -> None:
        self.stages: dict[tuple[int, int], StageTasks] = {}
        self.executors: dict[str, ExecutorProfile] = {}
        self.executor_names: list[str] = []
        self.executor_codes: dict[str, int] = {}
        self.bad_lines = 0
        self.bad_line_kinds: Counter[str] = Counter()
        self.warnings: list[str] = []
        self._totals: dict[str, np.ndarray] = {}  # per executor code: sums, task counts and peaks of finalized stages

    def add(self, lines: list[bytes] | list[memoryview]) -> None:
        """Aggregate a batch of TaskEnd lines."""
        self.apply(prepare_tasks(lines))

    def apply(self, batch: TaskBatch) -> None:
        """Aggregate a prepared batch: singles one by one, then each group into its stage (or as late tasks)."""
        for kind in batch.bad_kinds:
            self.bad_lines += 1
            self.bad_line_kinds[kind] += 1
        for task in batch.singles:
            self._one(task)
        codes = self.executor_codes
        for group in batch.groups:
            stage = self._stage(group.key)
            if stage.finalized:
                self._late(group)
                continue
            if group.block is None:
                self.bad_lines += 1
                self.bad_line_kinds[group.error] += 1
                continue
            mapping = np.array([codes[e] if e in codes else self._executor_code(e) for e in group.executor_names],
                               dtype=np.int64)
            stage.blocks.append(group.block)
            stage.code_blocks.append(mapping[group.executor_index])
            stage.succeeded += len(group.block)
            stage.speculative += int(group.speculative.sum())

    def finalize(self, key: tuple[int, int]) -> None:
        """The stage attempt completed: turn its rows into distributions and executor totals."""
        stage = self.stages.get(key)
        if stage is None:
            return
        rows, codes = stage.quantiles_and_sums(self.executor_names)
        if rows is None:
            return
        per_executor = decode_rows_per_executor(rows, codes, len(self.executor_names))
        for code in np.flatnonzero(per_executor["task_count"]):
            self._executor(self.executor_names[code])  # created in the same order on every path
        totals = self._totals
        for name, values in per_executor.items():
            current = totals.get(name)
            if current is None or len(current) < len(values):
                grown = np.full(len(values), -1.0 if name in PEAK_FIELDS else 0.0)
                if current is not None:
                    grown[: len(current)] = current
                current = totals[name] = grown
            if name in PEAK_FIELDS:
                np.fmax(current[: len(values)], values, out=current[: len(values)])
            else:
                current[: len(values)] += values

    def _apply_totals(self) -> None:
        """Executor totals from finalized stages, summed per executor code, into the ExecutorProfiles."""
        totals, self._totals = self._totals, {}
        counts = totals.get("task_count")
        if counts is None:
            return
        for code in np.flatnonzero(counts):
            executor = self._executor(self.executor_names[code])
            executor.task_count += int(counts[code])
            for name in EXECUTOR_TOTALS[2:]:
                if name in totals:
                    setattr(executor, name, getattr(executor, name) + float(totals[name][code]))
            for name in PEAK_FIELDS:
                if name in totals and code < len(totals[name]) and totals[name][code] > 0:
                    current = getattr(executor, name)
                    setattr(executor, name, max(current or 0, int(totals[name][code])))

    def finish(self) -> TaskResults:
        """Finalize stages still open at the end of the log and hand over the results."""
        for key in list(self.stages):
            self.finalize(key)
        self._apply_totals()
        return TaskResults(self.stages, self.executors, self.bad_lines, self.bad_line_kinds, self.warnings)

    # ------------------------------------------------------------ internals

    def _stage(self, key: tuple[int, int]) -> StageTasks:
        stage = self.stages.get(key)
        if stage is None:
            stage = self.stages[key] = StageTasks()
        return stage

    def _executor(self, executor_id: str) -> ExecutorProfile:
        executor = self.executors.get(executor_id)
        if executor is None:
            executor = self.executors[executor_id] = ExecutorProfile(executor_id=executor_id)
        return executor

    def _executor_code(self, executor_id: str) -> int:
        code = self.executor_codes.get(executor_id)
        if code is None:
            code = self.executor_codes[executor_id] = len(self.executor_names)
            self.executor_names.append(executor_id)
        return code

    def _late(self, group: TaskGroup) -> None:
        """Successful tasks arriving after their stage attempt was finalized: counted like `_count` does."""
        if group.block is None:
            for task in group.tasks or []:
                self._one(task)
            return
        durations = np.nan_to_num(group.block[:, COL["duration_ms"]]).tolist()
        gcs = group.block[:, COL["jvm_gc_time_ms"]].tolist()
        stage = self._stage(group.key)
        for i, position in enumerate(group.executor_index.tolist()):
            executor_id = group.executor_names[position]
            if group.speculative[i]:
                stage.speculative += 1
            executor = self._executor(executor_id)
            executor.task_count += 1
            executor.task_time_ms += durations[i]
            stage.task_time_by_executor[executor_id] = stage.task_time_by_executor.get(executor_id, 0.0) + durations[i]
            executor.gc_time_ms += _measured(gcs[i])
            stage.succeeded += 1
        message = (f"tasks of stage {group.key[0]}.{group.key[1]} finished after the stage "
                   "completed; counted, not in its distributions")
        if message not in self.warnings:
            self.warnings.append(message)

    def _one(self, task: ev.TaskEnd) -> None:
        try:
            self._count(task)
        except Exception as exc:  # noqa: BLE001 - one odd event must not stop the analysis
            self.bad_lines += 1
            self.bad_line_kinds[_bad_kind(exc)] += 1

    def _count(self, task: ev.TaskEnd) -> None:
        """A failed, killed or late (after its stage attempt was finalized) task: counted directly."""
        info = task.info
        if info is None:
            raise ValueError("TaskEnd without Task Info")
        stage = self._stage((task.stage_id, task.stage_attempt_id))
        if info.speculative:
            stage.speculative += 1
        reason = task.end_reason
        kind = reason.reason if reason is not None else ("UnknownReason" if info.failed else "Success")
        executor = self._executor(info.executor_id)
        duration = float(info.finish_time - info.launch_time) if info.finish_time else 0.0
        executor.task_count += 1
        executor.task_time_ms += duration
        if stage.finalized:
            stage.task_time_by_executor[info.executor_id] = stage.task_time_by_executor.get(info.executor_id, 0.0) + duration
        else:
            stage.late_task_time_by_executor[info.executor_id] += duration
        if task.metrics is not None:
            executor.gc_time_ms += _measured(task.metrics.gc_ms)
        if kind == "Success" and not info.failed:
            stage.succeeded += 1
            if stage.finalized:
                message = (f"tasks of stage {task.stage_id}.{task.stage_attempt_id} finished after the stage "
                           "completed; counted, not in its distributions")
                if message not in self.warnings:
                    self.warnings.append(message)
        elif kind == "TaskKilled" or info.killed:
            stage.killed += 1
            stage.failure_reasons["TaskKilled"] += 1
            stage.failure_time_ms["TaskKilled"] += duration
        else:
            stage.failed += 1
            executor.failed_task_count += 1
            failure = failure_class(reason)
            stage.failure_reasons[failure] += 1
            stage.failure_time_ms[failure] += duration


def _measured(value: float) -> float:
    """A metric value for sums: NaN (not measured) counts as 0."""
    return 0.0 if value != value else float(value)
