"""Two runs side by side: which stages changed and the metrics that explain it, and what differs between two profiles.

The history store compares stored runs (`copilot history compare`, regressions in `trend`) and the chat compares
two loaded logs; both pair stages by name (Spark names a stage after the call site that made it) in run order, so
a job added or dropped ahead of the others does not shift every later pairing as matching ids would, and explain
a stage that grew by its metrics that grew with it.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from collections.abc import Callable

from pydantic import BaseModel, Field

from tools.eventlog.model import AppProfile, Quantiles, StageProfile, stage_label
from tools.eventlog.slots import peak_cores, peak_executors
from tools.findings import Finding
from tools.units import human_number

STAGE_METRICS: tuple[tuple[str, str, str], ...] = (  # field, unit, how people say it
    ("input_bytes", "bytes", "input"),
    ("shuffle_read_bytes", "bytes", "shuffle read"),
    ("shuffle_write_bytes", "bytes", "shuffle write"),
    ("memory_bytes_spilled", "bytes", "memory spill"),
    ("disk_bytes_spilled", "bytes", "disk spill"),
    ("output_bytes", "bytes", "output"),
    ("num_tasks", "count", "tasks"),
    ("tasks_failed", "count", "failed tasks"),
    ("task_time_ms", "ms", "task time"),
    ("gc_time_ms", "ms", "GC time"),
    ("task_duration_max_ms", "ms", "longest task"),
)


class StageSummary(BaseModel):
    """One stage attempt reduced to the totals a trend or a comparison needs."""

    stage_id: int
    attempt_id: int = 0
    name: str = ""
    what_ran: str | None = None  # stage_label: 'SQL 0: Sort, SortMergeJoin', else the call site (None: stored before)
    status: str = "unknown"
    num_tasks: int = 0
    tasks_failed: int = 0
    duration_ms: int | None = None
    task_time_ms: float | None = None
    gc_time_ms: float | None = None
    input_bytes: float | None = None
    output_bytes: float | None = None
    shuffle_read_bytes: float | None = None
    shuffle_write_bytes: float | None = None
    memory_bytes_spilled: float | None = None
    disk_bytes_spilled: float | None = None
    task_duration_median_ms: float | None = None
    task_duration_max_ms: float | None = None


class MetricChange(BaseModel):
    metric: str
    label: str = ""
    unit: str
    before: float | None
    after: float | None
    ratio: float | None  # after / before; None when before is 0 or missing


class StageDelta(BaseModel):
    """How one stage changed between a baseline run and another run, and the metrics that explain it."""

    stage_id: int
    baseline_stage_id: int | None = None  # the paired stage's id in the baseline run, when it differs
    name: str = ""
    duration_before_ms: int | None = None
    duration_after_ms: int | None = None
    duration_delta_ms: int = 0
    changes: list[MetricChange] = Field(default_factory=list)  # grown metrics, biggest first
    reason: str = ""

    def label(self, baseline: str = "the baseline", named: bool = False) -> str:
        """'stage 7', or 'stage 7 (stage 5 in the baseline)' when the paired stages have different ids; `named` adds
        what ran in it: 'stage 7 (stage 5 in the baseline; SQL 0: HashAggregate)'."""
        notes = [f"stage {self.baseline_stage_id} in {baseline}"] if self.baseline_stage_id is not None else []
        if named and self.name:
            notes.append(self.name)
        return f"stage {self.stage_id}" + (f" ({'; '.join(notes)})" if notes else "")


def _total(quantiles: Quantiles | None) -> float | None:
    return quantiles.sum if quantiles is not None else None


def stage_summary(stage: StageProfile) -> StageSummary:
    """Copy a stage's totals and task-duration median/max out of its profile."""
    metrics = stage.metrics
    durations = metrics.duration_ms
    return StageSummary(
        stage_id=stage.stage_id,
        attempt_id=stage.attempt_id,
        name=stage.name[:200],
        what_ran=stage_label(stage)[:200],
        status=stage.status,
        num_tasks=stage.num_tasks,
        tasks_failed=stage.tasks_failed,
        duration_ms=stage.duration_ms,
        task_time_ms=_total(metrics.executor_run_time_ms) or _total(durations),
        gc_time_ms=_total(metrics.jvm_gc_time_ms),
        input_bytes=_total(metrics.input_bytes),
        output_bytes=_total(metrics.output_bytes),
        shuffle_read_bytes=_total(metrics.shuffle_read_bytes),
        shuffle_write_bytes=_total(metrics.shuffle_write_bytes),
        memory_bytes_spilled=_total(metrics.memory_bytes_spilled),
        disk_bytes_spilled=_total(metrics.disk_bytes_spilled),
        task_duration_median_ms=durations.median if durations else None,
        task_duration_max_ms=durations.max if durations else None,
    )


def last_attempts(stages: list[StageSummary]) -> dict[int, StageSummary]:
    """Each stage's last attempt that ran (skipped stages left out)."""
    out: dict[int, StageSummary] = {}
    for stage in stages:
        if stage.status == "skipped":
            continue
        current = out.get(stage.stage_id)
        if current is None or stage.attempt_id > current.attempt_id:
            out[stage.stage_id] = stage
    return out


def ratio(after: float | None, before: float | None) -> float | None:
    if after is None or before is None or before <= 0:
        return None
    return after / before


def stage_delta(before: StageSummary, after: StageSummary, min_growth: float = 1.25) -> StageDelta:
    """The change of one stage between two runs, with the grown metrics that explain it."""
    changes: list[MetricChange] = []
    for metric, unit, label in STAGE_METRICS:
        old, new = getattr(before, metric), getattr(after, metric)
        change_ratio = ratio(new, old)
        appeared = change_ratio is None and unit != "ms" and not old and (new or 0) > 0
        if appeared or (change_ratio is not None and change_ratio >= min_growth):
            changes.append(MetricChange(metric=metric, label=label, unit=unit, before=old, after=new, ratio=change_ratio))
    changes.sort(key=lambda c: -(c.ratio if c.ratio is not None else float("inf")))
    parts = []
    for change in changes[:4]:
        label = change.label or change.metric.replace("_", " ")
        if change.ratio is None:
            parts.append(f"{label} appeared ({human_number(change.before, change.unit)} -> {human_number(change.after, change.unit)})")
        else:
            parts.append(
                f"{label} {human_number(change.before, change.unit)} -> {human_number(change.after, change.unit)} "
                f"({change.ratio:.1f}x)"
            )
    d_before, d_after = before.duration_ms, after.duration_ms
    delta_ms = (d_after or 0) - (d_before or 0)
    if parts:
        reason = "; ".join(parts)
    elif delta_ms > 0:
        reason = "no stage metric grew: the extra time went to scheduling, waiting or a slower cluster"
    else:
        reason = "no stage metric grew"
    return StageDelta(
        stage_id=after.stage_id,
        baseline_stage_id=before.stage_id if before.stage_id != after.stage_id else None,
        name=after.what_ran or after.name or before.name,
        duration_before_ms=d_before,
        duration_after_ms=d_after,
        duration_delta_ms=delta_ms,
        changes=changes,
        reason=reason,
    )


def compare_stages(before: list[StageSummary], after: list[StageSummary]) -> tuple[list[StageDelta], list[int], list[int]]:
    """Per-stage deltas for the stages paired between the runs (biggest change first) and the unpaired stage ids."""
    pairs, only_before, only_after = pair_stages(before, after)
    deltas = [stage_delta(old, new) for old, new in pairs]
    deltas.sort(key=lambda d: -abs(d.duration_delta_ms))
    return deltas, only_before, only_after


_LINE_NUMBER = re.compile(r":\d+\b")
_SQL_ID = re.compile(r"\bSQL \d+: ")
# How a stage is recognised in the other run, tried in turn: what ran in it (the SQL operators whose metrics it
# updated, whichever SQL execution number the query got: Spark names every stage AQE submits after the same thread),
# its name, then its name without line numbers (an edit above the call site moves them).
STAGE_KEYS: tuple[Callable[[StageSummary], str], ...] = (
    lambda s: _SQL_ID.sub("", s.what_ran or s.name),
    lambda s: s.name,
    lambda s: _LINE_NUMBER.sub("", s.name),
)


def pair_stages(before: list[StageSummary], after: list[StageSummary]
                ) -> tuple[list[tuple[StageSummary, StageSummary]], list[int], list[int]]:
    """Pair each run's stages that ran (last attempts) by name: the k-th stage of a name in id order with the k-th
    of that name in the other run. Returns the pairs in the later run's stage order and the ids left unpaired on
    each side (the same code gives the same names in the same order, so its stages pair as they ran; a stage whose
    name the other run lacks is in one run only, even where the ids coincide)."""
    old = sorted(last_attempts(before).values(), key=lambda s: s.stage_id)
    new = sorted(last_attempts(after).values(), key=lambda s: s.stage_id)
    partner: dict[int, StageSummary] = {}  # after's stage id -> its baseline stage
    taken: set[int] = set()  # baseline stage ids already paired (one last attempt per id)
    for key in STAGE_KEYS:
        waiting: defaultdict[str, deque[StageSummary]] = defaultdict(deque)
        for stage in old:
            if stage.stage_id not in taken:
                waiting[key(stage)].append(stage)
        for stage in new:
            if stage.stage_id not in partner and waiting[key(stage)]:
                partner[stage.stage_id] = waiting[key(stage)].popleft()
                taken.add(partner[stage.stage_id].stage_id)
    pairs = [(partner[s.stage_id], s) for s in new if s.stage_id in partner]
    return (pairs, [s.stage_id for s in old if s.stage_id not in taken],
            [s.stage_id for s in new if s.stage_id not in partner])


# Properties that differ between any two runs without saying anything about them (ids, names, ports, hosts, times,
# where the logs and the warehouse went).
VOLATILE_KEYS = re.compile(
    r"\.(?:app\.(?:id|name|startTime|submitTime|attempt\.id)|eventLog\.dir|sql\.warehouse\.dir"
    r"|driver\.(?:host|port|appUIAddress|bindAddress)|blockManager\.port"
    r"|ui\.proxyBase|executor\.id|repl\.class\.(?:uri|outputDir))$"
    r"|^spark\.(?:yarn\.app\.|kubernetes\.driver\.pod\.name|org\.apache\.hadoop\.yarn\.server\.webproxy)"
)


class SettingChange(BaseModel):
    key: str
    before: str | None = None  # None: the run did not set it
    after: str | None = None


def setting_text(change: SettingChange) -> str:
    """'spark.sql.shuffle.partitions 200 -> 16', '(not set)' for a side that did not set it."""
    return (f"{change.key} {change.before if change.before is not None else '(not set)'} -> "
            f"{change.after if change.after is not None else '(not set)'}")


class FindingChange(BaseModel):
    rule_id: str
    title: str


class RunComparison(BaseModel):
    """A run against a baseline run: runtime, size of the cluster, data volumes, settings, stages."""

    baseline_app_id: str
    baseline_name: str = ""
    app_id: str
    name: str = ""
    spark_version_before: str | None = None
    spark_version_after: str | None = None
    duration_before_ms: int | None = None
    duration_after_ms: int | None = None
    duration_ratio: float | None = None  # after / before
    peak_executors_before: int = 0
    peak_executors_after: int = 0
    cores_before: int | None = None
    cores_after: int | None = None
    totals: list[MetricChange] = Field(default_factory=list)  # every stage metric summed over the run, both runs
    settings: list[SettingChange] = Field(default_factory=list)
    stages: list[StageDelta] = Field(default_factory=list)  # stages both runs have, biggest duration change first
    stages_only_before: list[int] = Field(default_factory=list)
    stages_only_after: list[int] = Field(default_factory=list)
    findings_new: list[FindingChange] = Field(default_factory=list)  # rules that fire on this run only
    findings_gone: list[FindingChange] = Field(default_factory=list)  # rules that fired on the baseline only


def compare_profiles(before: AppProfile, after: AppProfile, findings_before: list[Finding] | None = None,
                     findings_after: list[Finding] | None = None) -> RunComparison:
    """`after` against the baseline `before`; with both runs' findings, the rules that fire on one run only."""
    old = [stage_summary(s) for s in before.stages]
    new = [stage_summary(s) for s in after.stages]
    deltas, only_before, only_after = compare_stages(old, new)
    totals_before, totals_after = run_totals(old), run_totals(new)
    return RunComparison(
        baseline_app_id=before.app_id, baseline_name=before.app_name, app_id=after.app_id, name=after.app_name,
        spark_version_before=before.spark_version, spark_version_after=after.spark_version,
        duration_before_ms=before.duration_ms, duration_after_ms=after.duration_ms,
        duration_ratio=ratio(after.duration_ms, before.duration_ms),
        peak_executors_before=peak_executors(before.executors), peak_executors_after=peak_executors(after.executors),
        cores_before=peak_cores(before), cores_after=peak_cores(after),
        totals=[MetricChange(metric=metric, label=label, unit=unit, before=totals_before[metric], after=totals_after[metric],
                             ratio=ratio(totals_after[metric], totals_before[metric]))
                for metric, unit, label in STAGE_METRICS if totals_before[metric] or totals_after[metric]],
        settings=setting_changes(before.spark_properties, after.spark_properties),
        stages=deltas, stages_only_before=only_before, stages_only_after=only_after,
        findings_new=_only_in(findings_after or [], findings_before or []),
        findings_gone=_only_in(findings_before or [], findings_after or []),
    )


def _only_in(findings: list[Finding], other: list[Finding]) -> list[FindingChange]:
    """The first finding of each rule of `findings` that does not fire in `other`."""
    fired = {f.rule_id for f in other}
    first = {f.rule_id: f for f in reversed(findings)}
    return [FindingChange(rule_id=f.rule_id, title=f.title) for f in findings
            if f.rule_id not in fired and first[f.rule_id] is f]


def run_totals(stages: list[StageSummary]) -> dict[str, float]:
    """Each stage metric summed over the stages that ran (every attempt: a retried stage's work counts); the
    longest task as the run's longest."""
    ran = [s for s in stages if s.status != "skipped"]
    totals = {metric: float(sum(getattr(s, metric) or 0.0 for s in ran)) for metric, _, _ in STAGE_METRICS}
    totals["task_duration_max_ms"] = max((s.task_duration_max_ms or 0.0 for s in ran), default=0.0)
    return totals


def setting_changes(before: dict[str, str], after: dict[str, str]) -> list[SettingChange]:
    """The properties set differently (or in one run only), by key; ids, names, hosts, ports, times and paths of logs
    left out."""
    keys = sorted(k for k in before.keys() | after.keys() if not VOLATILE_KEYS.search(k) and before.get(k) != after.get(k))
    return [SettingChange(key=k, before=before.get(k), after=after.get(k)) for k in keys]
