"""Executors: lost executors, idle capacity (wasted core-hours) and dynamic-allocation settings."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from tools.eventlog.model import AppProfile
from tools.findings import ConfigChange, Finding, Recommendation, Savings, Severity
from tools.rules.measure import ev
from tools.rules.registry import RuleContext, rule
from tools.rules.thresholds import RuleThresholds
from tools.units import count, human_duration, human_share, parse_seconds

IDLE_HEADROOM = 0.2  # share of allocated core time an elastic cluster still keeps idle
# With no upper bound, dynamic allocation's peak is the run's own demand (its widest stage); the proposed bound
# leaves room for that demand to grow this many times (more input) while still stopping a runaway job.
MAX_EXECUTORS_GROWTH = 2
IDLE_TIMEOUT_DEFAULT_S = 60  # spark.dynamicAllocation.executorIdleTimeout default
SHUFFLE_TRACKING_SINCE = (3, 0)  # spark.dynamicAllocation.shuffleTracking.enabled; before it, the external shuffle service only
BENIGN_REMOVAL = re.compile(
    r"killed by driver|idle|decommission|finished|shutdown|stopped|requested|explicit termination request",
    re.IGNORECASE,
)


# ids that differ from one lost executor to the next, blanked so that one cause reads as one reason
_VARYING_IDS = (
    (re.compile(r"container_[0-9a-z]+(?:_[0-9a-z]+)+", re.IGNORECASE), "container_<id>"),
    (re.compile(r"(on host:?\s+)[\w-]+(?:\.[\w-]+)*", re.IGNORECASE), r"\1<host>"),
    (re.compile(r"\b(executor\s+)\d+", re.IGNORECASE), r"\1<id>"),
)


def removal_cause(reason: str) -> str:
    """The first line of an executor's removal reason without its container, host and executor ids: eight
    containers that failed the same way on two hosts are one cause, and a host named 'rezamemory-2' no longer
    reads as a memory problem."""
    cause = reason.split("\n")[0]
    for pattern, blank in _VARYING_IDS:
        cause = pattern.sub(blank, cause)
    return cause[:160]


@dataclass(frozen=True)
class IdleCoreTime:
    """Executor core time allocated over the run against the task time that used it."""

    allocated_ms: float
    used_ms: float

    @property
    def idle_ms(self) -> float:
        return self.allocated_ms - self.used_ms

    @property
    def ratio(self) -> float:
        return self.idle_ms / self.allocated_ms

    def is_reported(self, t: RuleThresholds) -> bool:
        """Whether the idle-executor rule reports (and prices) this idle time."""
        return self.ratio >= t.idle_core_ratio and self.idle_ms >= t.idle_min_core_ms


def idle_core_time(profile: AppProfile) -> IdleCoreTime | None:
    """Allocated and used core time of the run; None when the log does not measure both."""
    allocated, used = profile.allocated_core_ms, profile.used_core_ms
    if not allocated or used is None:
        return None
    return IdleCoreTime(allocated_ms=allocated, used_ms=used)


@rule("executor_loss", "Executors lost during the run", "executor_loss", Severity.moderate)
def executor_loss(ctx: RuleContext) -> Iterator[Finding]:
    """Executors were removed for a failure (heartbeat timeout, container killed, node lost), taking their
    running tasks and shuffle files with them."""
    lost = [e for e in ctx.profile.executors if e.removed_reason and not BENIGN_REMOVAL.search(e.removed_reason)]
    lost_failures = sum(
        c for s in ctx.profile.stages for r, c in s.task_failure_reasons.items() if r.startswith("ExecutorLost")
    )
    if not lost:
        return
    reasons = Counter(removal_cause(e.removed_reason or "") for e in lost)
    top, top_count = reasons.most_common(1)[0]
    memory = "memory" in top.lower() or re.search(r"\b137\b", top) is not None
    overhead = ctx.overhead_change() if memory else None
    changes = ([overhead] if overhead else []) + ctx.shuffle_survival_changes()
    yield ctx.finding(
        title=f"{count(len(lost), 'executor')} lost; most often ({top_count} of {len(lost)}): {top}",
        evidence=[ev("executors lost", len(lost), "count", 1), ev("executors total", len(ctx.profile.executors), "count"),
                  ev("task attempts failed with ExecutorLostFailure", lost_failures, "count")]
        + [ev(f"removal reason of {count(n, 'executor')}", reason, "") for reason, n in reasons.most_common(3)],
        recommendation=Recommendation(
            summary="Find the cause in the removal reason: memory limits need more overhead/memory; preemption "
            "or node loss needs the external shuffle service (or decommissioning) so shuffle files survive.",
            config_changes=changes,
            code_change="Read the lost executors' own logs (e.g. `yarn logs -applicationId <app>` or the pod logs) "
            "for the exit cause; non-zero container exit codes at launch point at the node or the container image.",
        ),
        savings=Savings(method="The re-run tasks and stages; see the failure findings for their time."),
        doc_query="executor lost heartbeat timeout container killed external shuffle service",
        severity=Severity.severe if len(lost) >= 3 or memory else Severity.moderate,
        executor_ids=[e.executor_id for e in lost][:20],
    )


def idle_cores_reported(ctx: RuleContext) -> bool:
    """Whether the idle-executor finding reports (and prices) the run's idle executor cores."""
    measured = idle_core_time(ctx.profile)
    return measured is not None and measured.is_reported(ctx.thresholds)


def release_idle_changes(ctx: RuleContext) -> list[ConfigChange]:
    """Settings that hand idle executors back: dynamic allocation (with shuffle tracking when no external
    shuffle service keeps their shuffle files); when it is already on, the default 60 s idle timeout if the
    application set a longer one (none when it runs with the default: there is nothing to change)."""
    if ctx.bool_property("spark.dynamicAllocation.enabled", False):
        timeout = parse_seconds(ctx.prop("spark.dynamicAllocation.executorIdleTimeout"))
        if timeout and timeout > IDLE_TIMEOUT_DEFAULT_S:
            return [ctx.change("spark.dynamicAllocation.executorIdleTimeout", f"{IDLE_TIMEOUT_DEFAULT_S}s")]
        return []
    changes = [ctx.change("spark.dynamicAllocation.enabled", "true")]
    if not shuffle_files_kept(ctx):
        changes.append(keep_shuffle_files_change(ctx))
    return changes


def keep_shuffle_files_change(ctx: RuleContext) -> ConfigChange:
    """What lets dynamic allocation release executors without losing shuffle files: shuffle tracking from Spark 3.0;
    before 3.0 only the external shuffle service (the setting does not exist there)."""
    if (0, 0) < ctx.spark_version < SHUFFLE_TRACKING_SINCE:
        return ctx.change("spark.shuffle.service.enabled", "true")
    return ctx.change("spark.dynamicAllocation.shuffleTracking.enabled", "true")


def shuffle_service_note(changes: list[ConfigChange]) -> str:
    """The cluster-side half of enabling the external shuffle service, when a change enables it."""
    if not any(c.key == "spark.shuffle.service.enabled" for c in changes):
        return ""
    return (" Before Spark 3.0 dynamic allocation needs the external shuffle service running on every node (on YARN "
            "the spark_shuffle auxiliary service of each NodeManager), not only the setting.")


def shuffle_files_kept(ctx: RuleContext) -> bool:
    """Whether dynamic allocation could release an executor without losing its shuffle files: an external
    shuffle service serves them, or shuffle tracking keeps executors holding live shuffle data (the default
    since Spark 3.4, core migration guide). Without either, Spark refuses to start with dynamic allocation on."""
    tracking_default = ctx.spark_version >= (3, 4)
    return ctx.bool_property("spark.shuffle.service.enabled", False) or ctx.bool_property(
        "spark.dynamicAllocation.shuffleTracking.enabled", tracking_default)


@rule(
    "idle_executors",
    "Idle executor capacity (wasted core-hours)",
    "idle_executors",
    Severity.moderate,
    ("idle_core_ratio", "idle_min_core_ms"),
)
def idle_executors(ctx: RuleContext) -> Iterator[Finding]:
    """Executors' cores sat idle for most of their lifetime: allocated core time far exceeds task time."""
    t = ctx.thresholds
    measured = idle_core_time(ctx.profile)
    if measured is None or not measured.is_reported(t):
        return
    allocated, used, idle, ratio = measured.allocated_ms, measured.used_ms, measured.idle_ms, measured.ratio
    changes = release_idle_changes(ctx)
    instances = ctx.int_property("spark.executor.instances")
    if instances:
        changes.append(ctx.change("spark.executor.instances", str(max(int(instances * (1 - ratio) * 1.5), 1))))
    yield ctx.finding(
        title=f"{human_share(ratio)} of allocated executor core time was idle ({human_duration(idle)} of core time)",
        evidence=[
            ev("idle / allocated core time", ratio, "share", t.idle_core_ratio),
            ev("idle core time", idle, "ms", t.idle_min_core_ms),
            ev("allocated core time", allocated, "ms"),
            ev("task core time", used, "ms"),
        ],
        recommendation=Recommendation(
            summary="Release idle executors (dynamic allocation) or request fewer of them." + shuffle_service_note(changes),
            config_changes=changes,
        ),
        savings=Savings(
            core_ms=max(idle - IDLE_HEADROOM * allocated, 0.0),
            method=f"Idle allocated core time beyond {IDLE_HEADROOM:.0%} of the allocation (kept as headroom).",
        ),
        doc_query="dynamic allocation idle executors wasted cores executorIdleTimeout",
        severity=Severity.severe if ratio >= 0.8 else Severity.moderate,
    )


def _bound_note(changes: list[ConfigChange], peak: int) -> str:
    """Why the proposed maxExecutors is not this run's peak: the peak is today's demand, the bound is for every run."""
    bound = next((c.value for c in changes if c.key == "spark.dynamicAllocation.maxExecutors"), None)
    if bound is None or peak <= 0:
        return ""
    return (f" The bound of {bound} executors is {MAX_EXECUTORS_GROWTH}x this run's peak of {peak}: with no bound the "
            "peak is the run's own demand, so a run on more input needs room to grow, and the bound still stops a "
            "runaway one.")


@rule(
    "dynamic_allocation_settings",
    "Dynamic allocation misconfigured",
    "config",
    Severity.low,
    ("dynamic_allocation_idle_timeout_max_s",),
)
def dynamic_allocation_settings(ctx: RuleContext) -> Iterator[Finding]:
    """Dynamic allocation is on but cannot release executors safely or effectively (no shuffle service or
    tracking, min = max, very long idle timeout, no upper bound)."""
    t = ctx.thresholds
    if not ctx.bool_property("spark.dynamicAllocation.enabled", False):
        return
    problems: list[tuple[str, str, str]] = []  # (evidence, key, value)
    if not shuffle_files_kept(ctx):
        keep = keep_shuffle_files_change(ctx)
        problems.append(("no external shuffle service and no shuffle tracking", keep.key, keep.value))
    low, high = ctx.int_property("spark.dynamicAllocation.minExecutors"), ctx.int_property("spark.dynamicAllocation.maxExecutors")
    if low is not None and high is not None and low >= high:
        problems.append((f"minExecutors {low} >= maxExecutors {high}", "spark.dynamicAllocation.minExecutors", "0"))
    if high is None:
        cap = max(MAX_EXECUTORS_GROWTH * ctx.peak_executors, 2)
        problems.append((f"maxExecutors unbounded (this run peaked at {ctx.peak_executors} executors)",
                         "spark.dynamicAllocation.maxExecutors", str(cap)))
    timeout = parse_seconds(ctx.prop("spark.dynamicAllocation.executorIdleTimeout"))
    if timeout is not None and timeout > t.dynamic_allocation_idle_timeout_max_s:
        problems.append((f"executorIdleTimeout {timeout:g}s", "spark.dynamicAllocation.executorIdleTimeout",
                         f"{IDLE_TIMEOUT_DEFAULT_S}s"))
    if not problems:
        return
    changes = [ctx.change(key, value) for _, key, value in problems]
    yield ctx.finding(
        title="Dynamic allocation: " + "; ".join(p[0] for p in problems),
        evidence=[ev("dynamic allocation", p[0], "") for p in problems],
        recommendation=Recommendation(
            summary="Let dynamic allocation scale down safely and within bounds." + _bound_note(changes, ctx.peak_executors)
            + shuffle_service_note(changes),
            config_changes=changes,
        ),
        savings=Savings(method="Shows as idle capacity; see the idle-executor finding for the core time."),
        doc_query="dynamic allocation shuffle tracking external shuffle service maxExecutors",
        severity=Severity.moderate if problems[0][0].startswith("no external shuffle service") else Severity.low,
    )
