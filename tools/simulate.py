"""What-if simulator: replays observed task durations on a different number of task slots.

Each stage's tasks (rebuilt from the profile's per-stage duration sample or quantiles)
are list-scheduled on `executors x cores` slots in stage-DAG order: a stage becomes
ready when its parents finish, ready stages share the slots FIFO (lowest stage id
first). Stages that overlapped in the observed run form one *phase* (concurrent jobs,
parallel branches); phases run one after the other and the time with no stage
running (driver-only time) is kept fixed. Answers "how long with N executors?"
for compute-bound work; it cannot see shuffle-partition, AQE or memory effects
(the LightGBM model in `models/` does).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, Field

from tools.errors import ModelError
from tools.eventlog.master import local_master, task_jvm_role
from tools.eventlog.model import AppProfile, StageProfile
from tools.eventlog.slots import peak_executors

DEFAULT_FACTORS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)


class SimulationResult(BaseModel):
    """The simulated schedule of one application on a fixed number of slots."""

    executors: int
    cores: int
    slots: int
    estimated_duration_ms: float
    driver_time_ms: float  # kept fixed from the observed run
    executor_time_ms: float  # simulated wall time with at least one stage running
    task_time_ms: float  # total slot time the tasks occupy
    utilization: float  # task time / (slots x simulated executor time)
    critical_path_ms: float  # lower bound with unlimited slots (driver time included)
    critical_path_stage_ids: list[int] = Field(default_factory=list)  # chain that finished last, per phase
    phases: int = 0
    stages_simulated: int = 0
    tasks_simulated: int = 0


class WhatIfPoint(BaseModel):
    """One point of the what-if curve."""

    factor: float  # slots relative to the observed configuration
    executors: int
    cores: int
    slots: int
    estimated_duration_ms: float  # calibrated: observed duration x simulated ratio
    simulated_duration_ms: float  # raw simulator output
    utilization: float
    speedup: float  # observed estimate / this estimate


class WhatIf(BaseModel):
    """Runtime for a range of executor counts, with the simulator's error on the observed run."""

    app_id: str
    observed_duration_ms: float | None
    observed_executors: int
    observed_cores: int
    observed: SimulationResult  # the simulator replaying the observed configuration
    error_pct: float | None  # (simulated - observed) / observed x 100 on the observed configuration
    lower_bound_ms: float | None = None  # calibrated runtime with unlimited slots (the critical path)
    dynamic_allocation: bool = False
    resources_source: str = ""  # where the executor count came from
    points: list[WhatIfPoint] = Field(default_factory=list)
    caveats: list[str] = Field(default_factory=list)


@dataclass
class _Stage:
    key: int
    stage_id: int
    start_ms: float
    end_ms: float
    durations_ms: np.ndarray
    parents: list[int] = field(default_factory=list)  # keys of parents in the same phase


@dataclass
class _Phase:
    start_ms: float
    end_ms: float
    stages: list[_Stage]
    observed_slots: int | None = None


@dataclass
class Resources:
    """The observed executor layout and where it was found."""

    executors: int
    cores: int
    source: str
    dynamic: bool = False
    caveats: list[str] = field(default_factory=list)


def task_durations(stage: StageProfile) -> np.ndarray:
    """Durations (ms) of every task attempt of a stage, rebuilt from its sample or quantiles.

    Successful tasks come from the evenly spaced order statistics (or, without them, a
    piecewise-linear quantile function), rescaled so their sum equals the measured sum.
    Failed tasks occupied a slot too; each counts as one median task.
    """
    dist = stage.metrics.duration_ms
    count = dist.count if dist is not None else stage.tasks_succeeded
    if count <= 0:
        count = stage.tasks_succeeded or stage.num_tasks
    sample = np.asarray(sorted(stage.duration_sample_ms), dtype=float)
    if count <= 0:
        durations = np.empty(0)
    elif sample.size == count:
        durations = sample
    elif sample.size >= 2:
        ranks = np.linspace(0.0, 1.0, sample.size)
        durations = np.interp(np.linspace(0.0, 1.0, count), ranks, sample)
    elif dist is not None:
        ranks = np.array([0.0, 0.25, 0.5, 0.75, 0.95, 1.0])
        values = np.array([dist.min, dist.p25, dist.median, dist.p75, dist.p95, dist.max])
        durations = np.interp(np.linspace(0.0, 1.0, count), ranks, values)
    elif sample.size == 1:
        durations = np.full(count, sample[0])
    else:
        total = float(stage.duration_ms or 0)
        durations = np.full(count, total)
    if dist is not None and durations.size and durations.sum() > 0 and dist.sum > 0 and sample.size != count:
        durations = durations * (dist.sum / durations.sum())
    if stage.tasks_failed > 0 and durations.size:
        durations = np.concatenate([durations, np.full(stage.tasks_failed, float(np.median(durations)))])
    return durations


def _task_order(durations: np.ndarray, stage_id: int) -> np.ndarray:
    """A fixed pseudo-random launch order: Spark launches by partition index, unrelated to duration."""
    if durations.size <= 1:
        return durations
    return np.random.default_rng(stage_id).permutation(durations)


def observed_resources(profile: AppProfile) -> Resources:
    """Executors x cores of the observed run, from executor events, properties or the master URL."""
    props = profile.spark_properties
    dynamic = props.get("spark.dynamicAllocation.enabled", "false").lower() == "true"
    default_cores = profile.int_property("spark.executor.cores")
    caveats: list[str] = []
    executors = [e for e in profile.executors if e.executor_id != "driver"]
    if executors:
        cores_known = [e.cores for e in executors if e.cores]
        if cores_known:
            cores = int(np.median(cores_known))
        else:
            cores = default_cores or 1
            caveats.append(f"executor cores not in the log; assumed {cores}")
        count = peak_executors(executors) or len(executors)
        return Resources(count, cores, "executor events", dynamic, caveats)
    master = profile.master_url
    local = local_master(master)
    instances = profile.int_property("spark.executor.instances")
    if instances and default_cores:
        return Resources(instances, default_cores, "spark.executor.instances/cores", dynamic, caveats)
    if local is not None and local.cores is not None:
        return Resources(local.executors, local.cores, f"master {master}", False, caveats)
    driver_cores = [e.cores for e in profile.executors if e.executor_id == "driver" and e.cores]
    if local is not None and driver_cores:  # local[*]: the driver's executor entry says how many cores it had
        return Resources(1, driver_cores[0], f"master {master}, driver executor cores", False, caveats)
    inferred = _inferred_slots(profile)
    caveats.append(f"executor layout not in the log; inferred {inferred} task slot{'s' if inferred != 1 else ''} from "
                   "observed task concurrency")
    return Resources(1, inferred, "inferred from task concurrency", dynamic, caveats)


def _inferred_slots(profile: AppProfile) -> int:
    """The largest observed average concurrency of any stage (task time / stage wall time)."""
    best = 1
    for s in profile.stages:
        dist = s.metrics.duration_ms
        if dist and s.duration_ms and s.duration_ms > 0:
            best = max(best, min(math.ceil(dist.sum / s.duration_ms), dist.count))
    return best


def _live_cores(profile: AppProfile, start_ms: float, end_ms: float, cores: int) -> int | None:
    """Time-weighted live executor cores over [start, end] (dynamic allocation)."""
    if end_ms <= start_ms:
        return None
    covered = 0.0
    for e in profile.executors:
        if e.executor_id == "driver":
            continue
        added = e.added_time_ms if e.added_time_ms is not None else -math.inf
        removed = e.removed_time_ms if e.removed_time_ms is not None else math.inf
        overlap = min(end_ms, removed) - max(start_ms, added)
        if overlap > 0:
            covered += overlap * (e.cores or cores)
    return max(1, round(covered / (end_ms - start_ms))) if covered > 0 else None


def _simulated_stages(profile: AppProfile) -> list[StageProfile]:
    """Stage attempts that ran tasks, with known times, in submission order."""
    ran = [
        s
        for s in profile.stages
        if s.status != "skipped"
        and s.submission_time_ms is not None
        and (s.tasks_succeeded + s.tasks_failed > 0 or s.metrics.duration_ms is not None)
    ]
    return sorted(ran, key=lambda s: (s.submission_time_ms or 0, s.stage_id, s.attempt_id))


def _phases(profile: AppProfile) -> list[_Phase]:
    """Stages grouped into phases of overlapping observed execution."""
    stages = _simulated_stages(profile)
    phases: list[_Phase] = []
    for key, s in enumerate(stages):
        start = float(s.submission_time_ms or 0)
        end = float(s.completion_time_ms if s.completion_time_ms is not None else start + (s.duration_ms or 0))
        durations = task_durations(s)
        if durations.size == 0:
            continue
        item = _Stage(key, s.stage_id, start, max(end, start), _task_order(durations, s.stage_id))
        if phases and start < phases[-1].end_ms:
            phases[-1].stages.append(item)
            phases[-1].end_ms = max(phases[-1].end_ms, item.end_ms)
        else:
            phases.append(_Phase(start, item.end_ms, [item]))
    attempts: dict[int, list[_Stage]] = {}
    for phase in phases:
        latest_in_phase: dict[int, _Stage] = {}
        in_phase = {x.key for x in phase.stages}
        for item in phase.stages:
            source = stages[item.key]
            for pid in source.parent_ids:
                if pid in latest_in_phase:
                    item.parents.append(latest_in_phase[pid].key)
            earlier = attempts.get(item.stage_id)
            if earlier and earlier[-1].key in in_phase:
                item.parents.append(earlier[-1].key)  # a retry starts after the failed attempt
            latest_in_phase[item.stage_id] = item
            attempts.setdefault(item.stage_id, []).append(item)
    return phases


def _schedule_phase(phase: _Phase, slots: int) -> tuple[float, float, list[int]]:
    """List-schedule a phase on `slots` slots; returns (makespan, unlimited-slot lower bound, last chain)."""
    by_key = {s.key: s for s in phase.stages}
    children: dict[int, list[int]] = {}
    waiting: dict[int, int] = {}
    for s in phase.stages:
        waiting[s.key] = len(s.parents)
        for p in s.parents:
            children.setdefault(p, []).append(s.key)
    finish: dict[int, float] = {}
    ready_at: dict[int, float] = {}
    determined_by: dict[int, int | None] = {}
    lower: dict[int, float] = {}
    pending: list[tuple[float, int]] = []  # (ready time, key): parents all scheduled
    for s in phase.stages:
        if not s.parents:
            offset = s.start_ms - phase.start_ms
            ready_at[s.key] = offset
            determined_by[s.key] = None
            heapq.heappush(pending, (offset, s.key))
    free: list[float] = [0.0] * slots  # a heap of slot free times
    ready: list[int] = []  # heap of keys ready now (FIFO by submission order)
    while pending or ready:
        now = free[0]
        while pending and pending[0][0] <= now:
            heapq.heappush(ready, heapq.heappop(pending)[1])
        if not ready:
            now = pending[0][0]
            while pending and pending[0][0] <= now:
                heapq.heappush(ready, heapq.heappop(pending)[1])
        key = heapq.heappop(ready)
        stage = by_key[key]
        start_floor = max(now, ready_at[key])
        end_max = 0.0
        for d in stage.durations_ms.tolist():
            slot_free = free[0]
            start = slot_free if slot_free > start_floor else start_floor
            end = start + d
            heapq.heapreplace(free, end)
            if end > end_max:
                end_max = end
        finish[key] = end_max
        longest = float(stage.durations_ms.max())
        base = max((lower[p] for p in stage.parents), default=stage.start_ms - phase.start_ms)
        lower[key] = base + longest
        for child in children.get(key, []):
            waiting[child] -= 1
            if waiting[child] == 0:
                parents = by_key[child].parents
                last = max(parents, key=lambda p: finish[p])
                ready_at[child] = finish[last]
                determined_by[child] = last
                heapq.heappush(pending, (finish[last], child))
    if not finish:
        return 0.0, 0.0, []
    last_key = max(finish, key=lambda k: finish[k])
    chain: list[int] = []
    cursor: int | None = last_key
    while cursor is not None:
        chain.append(by_key[cursor].stage_id)
        cursor = determined_by.get(cursor)
    return max(finish.values()), max(lower.values()), list(reversed(chain))


def simulate(profile: AppProfile, executors: int | None = None, cores: int | None = None) -> SimulationResult:
    """Simulated wall time of the application on `executors x cores` slots (None = as observed).

    With the observed layout under dynamic allocation, each phase gets the executor
    cores that were live during it; an explicit executor count is held fixed.
    """
    resources = observed_resources(profile)
    use_executors = executors if executors is not None else resources.executors
    use_cores = cores if cores is not None else resources.cores
    if use_executors < 1 or use_cores < 1:
        raise ModelError(f"executors and cores must be at least 1 (got {use_executors} x {use_cores})")
    slots = use_executors * use_cores
    phases = _phases(profile)
    observed_duration = _observed_duration(profile, phases)
    observed_phase_ms = sum(p.end_ms - p.start_ms for p in phases)
    driver_ms = max(0.0, observed_duration - observed_phase_ms) if observed_duration is not None else 0.0
    executor_ms = 0.0
    lower_ms = 0.0
    task_ms = 0.0
    chain: list[int] = []
    stage_count = task_count = 0
    for phase in phases:
        phase_slots = slots
        if executors is None and cores is None and resources.dynamic and profile.executors:
            phase_slots = _live_cores(profile, phase.start_ms, phase.end_ms, resources.cores) or slots
        makespan, lower, phase_chain = _schedule_phase(phase, phase_slots)
        executor_ms += makespan
        lower_ms += lower
        chain.extend(phase_chain)
        for s in phase.stages:
            task_ms += float(s.durations_ms.sum())
            task_count += int(s.durations_ms.size)
        stage_count += len(phase.stages)
    utilization = task_ms / (slots * executor_ms) if executor_ms > 0 else 0.0
    return SimulationResult(
        executors=use_executors,
        cores=use_cores,
        slots=slots,
        estimated_duration_ms=driver_ms + executor_ms,
        driver_time_ms=driver_ms,
        executor_time_ms=executor_ms,
        task_time_ms=task_ms,
        utilization=min(utilization, 1.0),
        critical_path_ms=driver_ms + lower_ms,
        critical_path_stage_ids=chain,
        phases=len(phases),
        stages_simulated=stage_count,
        tasks_simulated=task_count,
    )


def _observed_duration(profile: AppProfile, phases: list[_Phase]) -> float | None:
    if profile.duration_ms is not None:
        return float(profile.duration_ms)
    if profile.start_time_ms is not None and phases:
        return max(p.end_ms for p in phases) - profile.start_time_ms
    return None


def what_if_curve(profile: AppProfile, factors: tuple[float, ...] | list[float] = DEFAULT_FACTORS) -> WhatIf:
    """Estimated runtime for executor counts from `factors` x the observed count.

    Estimates are calibrated: observed duration x simulated(new) / simulated(observed),
    so the simulator's own bias on this application cancels. When one JVM runs every task
    (local mode) there is no executor count to change: the factors scale its cores instead.
    A cluster run with one executor scales executors like any other.
    """
    if profile.streaming:
        raise ModelError(f"{profile.app_id} is a streaming application: it runs until it is stopped, so no setting "
                         "predicts its runtime (its micro-batch durations are in the streaming summary)")
    resources = observed_resources(profile)
    if not _simulated_stages(profile):
        raise ModelError(f"{profile.app_id}: no completed stages with task timings; nothing to simulate")
    observed = simulate(profile)
    base = simulate(profile, resources.executors, resources.cores) if resources.dynamic else observed
    actual = float(profile.duration_ms) if profile.duration_ms else None
    error_pct = (observed.estimated_duration_ms - actual) / actual * 100 if actual else None
    caveats = list(resources.caveats)
    if resources.dynamic:
        caveats.append(
            f"dynamic allocation: the curve holds the executor count fixed (base = peak {resources.executors})"
        )
    if any(s.tasks_failed for s in profile.stages):
        caveats.append("failed tasks replayed as median-length tasks")
    if any(not s.duration_sample_ms for s in _simulated_stages(profile)):
        caveats.append("some stages have no duration sample; their tasks come from quantiles")
    points: list[WhatIfPoint] = []
    seen: set[int] = set()
    scale_cores = resources.executors == 1 and _one_jvm(profile)
    for factor in sorted(factors):
        if scale_cores:
            executors, cores = 1, max(1, round(resources.cores * factor))
        else:
            executors, cores = max(1, round(resources.executors * factor)), resources.cores
        slots = executors * cores
        if slots in seen:
            continue
        seen.add(slots)
        result = simulate(profile, executors, cores)
        ratio = result.estimated_duration_ms / base.estimated_duration_ms if base.estimated_duration_ms else 1.0
        estimate = actual * ratio if actual else result.estimated_duration_ms
        points.append(
            WhatIfPoint(
                factor=slots / (resources.executors * resources.cores),
                executors=executors,
                cores=cores,
                slots=slots,
                estimated_duration_ms=estimate,
                simulated_duration_ms=result.estimated_duration_ms,
                utilization=result.utilization,
                speedup=(1.0 / ratio) if ratio > 0 else 1.0,
            )
        )
    return WhatIf(
        app_id=profile.app_id,
        observed_duration_ms=actual,
        observed_executors=resources.executors,
        observed_cores=resources.cores,
        observed=observed,
        error_pct=error_pct,
        lower_bound_ms=(
            actual * observed.critical_path_ms / observed.estimated_duration_ms
            if actual and observed.estimated_duration_ms
            else observed.critical_path_ms
        ),
        dynamic_allocation=resources.dynamic,
        resources_source=resources.source,
        points=points,
        caveats=caveats,
    )


def _one_jvm(profile: AppProfile) -> bool:
    """Local mode: the driver's JVM ran the tasks (a `local[N]` master, or no master and no executor but the driver)."""
    if profile.master_url:
        return task_jvm_role(profile.master_url) == "driver"
    return all(e.executor_id == "driver" for e in profile.executors)


def what_if_from_log(log_path, factors: tuple[float, ...] | list[float] = DEFAULT_FACTORS) -> WhatIf:
    """Load an event log and compute its what-if curve (the `copilot whatif` command)."""
    from tools.eventlog import load_profile

    return what_if_curve(load_profile(log_path), factors)
