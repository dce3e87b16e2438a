"""Rules as data: each heuristic is a small function registered with its id, title, category,
default severity and the thresholds it reads; `diagnose` runs them all and ranks the findings.

A rule receives a `RuleContext` (the profile, the thresholds and a few derived facts such as
the number of cores) and yields `Finding`s. A rule that lacks the metrics it needs yields
nothing: absent data is "not evaluated", never a finding.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from tools.eventlog.model import AppProfile, SqlExecution, StageProfile
from tools.eventlog.master import heap_key, task_jvm_role
from tools.eventlog.slots import peak_alive, peak_cores, peak_executors
from tools.findings import Category, ConfigChange, Evidence, Finding, Recommendation, Savings, Severity
from tools.rules.thresholds import RuleThresholds

THEME_MODULES = (
    "skew",
    "spill",
    "gc",
    "partitions",
    "files",
    "failures",
    "memory",
    "executors",
    "joins",
    "nested_joins",
    "udf",
    "driver",
    "config",
    "shuffle",
    "speculation",
    "streaming",
    "caching",
    "single_partition",
    "schema_inference",
    "sorting",
    "skipping",
    "expand",
    "explode",
    "python_rdd",
    "repartition",
    "pruning",
    "unions",
    "cache_columns",
    "recompute",
    "latest_rows",
)


@dataclass(frozen=True)
class Rule:
    """A registered heuristic and its metadata."""

    rule_id: str
    title: str
    category: Category
    severity: Severity
    thresholds: tuple[str, ...]
    check: Callable[[RuleContext], Iterable[Finding]]
    description: str = ""


RULES: dict[str, Rule] = {}


def rule(
    rule_id: str,
    title: str,
    category: Category,
    severity: Severity | str = Severity.moderate,
    thresholds: tuple[str, ...] = (),
) -> Callable[[Callable[[RuleContext], Iterable[Finding]]], Callable[[RuleContext], Iterable[Finding]]]:
    """Register `check` as rule `rule_id` (ids are unique and stable: they appear in reports and cases)."""
    unknown = [name for name in thresholds if name not in RuleThresholds.model_fields]
    if unknown:
        raise ValueError(f"rule {rule_id} names unknown thresholds {unknown}")

    def register(check: Callable[[RuleContext], Iterable[Finding]]) -> Callable[[RuleContext], Iterable[Finding]]:
        if rule_id in RULES:
            raise ValueError(f"duplicate rule id {rule_id}")
        RULES[rule_id] = Rule(
            rule_id=rule_id,
            title=title,
            category=category,
            severity=Severity(severity),
            thresholds=thresholds,
            check=check,
            description=" ".join((check.__doc__ or "").strip().split("\n\n")[0].split()),  # one line, single spaces
        )
        return check

    return register


def load_rules() -> dict[str, Rule]:
    """Import every theme module (which registers its rules) and return the registry."""
    for name in THEME_MODULES:
        importlib.import_module(f"tools.rules.{name}")
    return RULES


@dataclass
class RuleContext:
    """What a rule reads: the profile, the thresholds, and facts derived once for all rules."""

    profile: AppProfile
    thresholds: RuleThresholds
    _current_rule: Rule | None = field(default=None, repr=False)

    # ---- derived facts -----------------------------------------------------------------
    @cached_property
    def master(self) -> str:
        """The master URL the application ran with ("" when the log does not say)."""
        return self.profile.master_url

    @cached_property
    def total_cores(self) -> int | None:
        """Task slots the application had at its peak (executors' cores, or local[N]); None if unknown."""
        return peak_cores(self.profile)

    def spread(self, core_ms: float) -> float:
        """Wall time of `core_ms` of task time spread over every core the application had at its peak."""
        return core_ms / max(self.total_cores or 1, 1)

    def cores_during(self, start_ms: int | None, end_ms: int | None) -> int | None:
        """Most cores alive at once while a stage ran (falls back to the application's peak)."""
        executors = [e for e in self.profile.executors if e.cores]
        if not executors or start_ms is None or end_ms is None:
            return self.total_cores
        return peak_alive(executors, start_ms, end_ms)

    @cached_property
    def completed_stages(self) -> list[StageProfile]:
        """Stage attempts that ran tasks to completion (the ones whose metrics describe real work)."""
        return [s for s in self.profile.stages if s.status == "complete" and s.tasks_succeeded > 0]

    def completed(self, stage_ids: list[int]) -> list[StageProfile]:
        """The stages with these ids that completed, each once, in the order given."""
        return [s for i in dict.fromkeys(stage_ids) if (s := self.profile.stage(i)) and s.status == "complete"]

    @cached_property
    def stage_to_sql(self) -> dict[int, int]:
        """Stage id -> SQL execution id, through the jobs."""
        job_sql = {j.job_id: j.sql_execution_id for j in self.profile.jobs if j.sql_execution_id is not None}
        for execution in self.profile.sql_executions:
            for job_id in execution.job_ids:
                job_sql.setdefault(job_id, execution.execution_id)
        mapping: dict[int, int] = {}
        for job in self.profile.jobs:
            sql_id = job_sql.get(job.job_id)
            if sql_id is not None:
                for stage_id in job.stage_ids:
                    mapping.setdefault(stage_id, sql_id)
        for stage in self.profile.stages:
            for job_id in stage.job_ids:
                if job_id in job_sql:
                    mapping.setdefault(stage.stage_id, job_sql[job_id])
        return mapping

    @property
    def sql_executions(self) -> list[SqlExecution]:
        return self.profile.sql_executions

    @cached_property
    def spark_version(self) -> tuple[int, int]:
        """(major, minor) of the Spark that wrote the log; (0, 0) when unknown."""
        return self.profile.release

    def prop(self, key: str) -> str | None:
        return self.profile.spark_properties.get(key)

    def bool_property(self, key: str, default: bool) -> bool:
        value = self.prop(key)
        return default if value is None else value.strip().lower() == "true"

    def int_property(self, key: str) -> int | None:
        return self.profile.int_property(key)

    def float_property(self, key: str) -> float | None:
        value = self.prop(key)
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None

    def executor_memory_bytes(self) -> float | None:
        """spark.executor.memory in bytes (a bare number means MiB, as Spark reads it)."""
        from tools.units import parse_size

        return parse_size(self.prop("spark.executor.memory"), "m")

    @cached_property
    def task_jvm_role(self) -> str:
        """Which JVMs run the tasks: "driver" in local mode (one JVM, no executors), else "executor"."""
        return task_jvm_role(self.master)

    @cached_property
    def one_host(self) -> bool:
        """Every task ran on one machine (local mode, or all executors on one host); False when hosts are unknown."""
        if self.task_jvm_role == "driver":
            return True
        return len({e.host for e in self.profile.executors if e.executor_id != "driver" and e.host}) == 1

    @cached_property
    def heap_key(self) -> str:
        """The setting that sizes the heap tasks run in: spark.driver.memory in local mode (where
        spark.executor.memory does nothing), else spark.executor.memory."""
        return heap_key(self.master)

    def task_heap_bytes(self) -> float | None:
        """The tasks' heap setting (`heap_key`) in bytes; None when it is not set."""
        from tools.units import parse_size

        return parse_size(self.prop(self.heap_key), "m")

    def shuffle_survival_changes(self) -> list[ConfigChange]:
        """What keeps shuffle files readable when the executor that wrote them goes: the external shuffle service
        (YARN, standalone), or on Kubernetes, which has none, decommissioning that migrates the shuffle blocks.
        Nothing in local mode: one JVM, no executors to lose."""
        if self.task_jvm_role == "driver":
            return []
        if self.master.startswith("k8s://"):
            keys = ("spark.decommission.enabled", "spark.storage.decommission.enabled",
                    "spark.storage.decommission.shuffleBlocks.enabled")
            return [self.change(key, "true") for key in keys if not self.bool_property(key, False)]
        if self.bool_property("spark.shuffle.service.enabled", False):
            return []
        return [self.change("spark.shuffle.service.enabled", "true")]

    def overhead_change(self) -> ConfigChange | None:
        """spark.executor.memoryOverhead raised to a quarter of executor memory (at least 1 GiB), if memory is known
        and tasks run in executors (local mode has no executor containers)."""
        memory = self.executor_memory_bytes()
        if memory is None or self.task_jvm_role == "driver":
            return None
        return self.change("spark.executor.memoryOverhead", f"{max(int(memory * 0.25 / 2**20), 1024)}m")

    @cached_property
    def peak_executors(self) -> int:
        """Most executors (driver excluded) alive at once."""
        return peak_executors(e for e in self.profile.executors if e.executor_id != "driver")

    @cached_property
    def executor_heap_peaks(self) -> list[float]:
        """Peak JVM heap of each executor (driver excluded) that logged one; empty before Spark 3.0's metrics."""
        return [e.peak_jvm_heap_bytes for e in self.profile.executors if e.peak_jvm_heap_bytes and e.executor_id != "driver"]

    @cached_property
    def task_heap_peaks(self) -> list[float]:
        """Peak JVM heap of the JVMs that run the tasks: the executors', or the driver's in local mode."""
        if self.task_jvm_role == "executor":
            return self.executor_heap_peaks
        return [e.peak_jvm_heap_bytes for e in self.profile.executors if e.executor_id == "driver" and e.peak_jvm_heap_bytes]

    def change(self, key: str, value: str) -> ConfigChange:
        """A config change carrying the application's current value of the key."""
        return ConfigChange(key=key, value=value, current=self.prop(key))

    # ---- finding builder ---------------------------------------------------------------
    def finding(
        self,
        title: str,
        evidence: list[Evidence],
        recommendation: Recommendation,
        savings: Savings,
        doc_query: str,
        severity: Severity | None = None,
        stage_ids: list[int] | None = None,
        sql_execution_ids: list[int] | None = None,
        executor_ids: list[str] | None = None,
    ) -> Finding:
        """A finding of the rule being run, with its id, category and (unless given) default severity."""
        current = self._current_rule
        assert current is not None, "finding() is only available while a rule runs"
        return Finding(
            rule_id=current.rule_id,
            category=current.category,
            severity=severity or current.severity,
            title=title,
            stage_ids=stage_ids or [],
            sql_execution_ids=sql_execution_ids or [],
            executor_ids=executor_ids or [],
            evidence=evidence,
            recommendation=recommendation,
            estimated_savings=savings,
            doc_query=doc_query,
        )


def savings_rank(finding: Finding) -> tuple[float, float, int]:
    """Sort key: larger core-time savings first, then wall-time, then severity."""
    s = finding.estimated_savings
    return (-s.core_ms, -s.wall_ms, -finding.severity.rank)


def run_rules(profile: AppProfile, thresholds: RuleThresholds | None = None) -> Iterator[Finding]:
    """Every finding of every registered rule, in registry order (config changes that are no change dropped)."""
    context = RuleContext(profile=profile, thresholds=thresholds or RuleThresholds())
    for registered in load_rules().values():
        context._current_rule = registered
        for finding in registered.check(context):
            changes = finding.recommendation.config_changes
            kept = [c for c in changes if (c.current or "").strip().lower() != c.value.strip().lower()]
            if len(kept) != len(changes):
                finding.recommendation.config_changes = kept
            yield finding
    context._current_rule = None


def diagnose(profile: AppProfile, thresholds: RuleThresholds | None = None) -> list[Finding]:
    """All findings for `profile`, ranked by estimated savings (largest first)."""
    return sorted(run_rules(profile, thresholds), key=savings_rank)
