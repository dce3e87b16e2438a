"""The typed result of a diagnostic rule: what is wrong, the numbers that show it, what to change."""

from __future__ import annotations

import re
from enum import Enum
from typing import Literal

from pydantic import BaseModel, Field

# a Spark setting named in text, not part of a longer dotted name such as pyspark.sql.functions, nor a method call
# such as spark.read.schema(...)
CONFIG_NAME = re.compile(r"(?<![\w.])spark\.[a-zA-Z][a-zA-Z0-9.]*[a-zA-Z0-9](?!\w|\.\w|\()")

Category = Literal[
    "skew",
    "spill",
    "gc_pressure",
    "too_few_partitions",
    "too_many_small_tasks",
    "small_files",
    "task_failures",
    "executor_loss",
    "oversized_partitions",
    "broadcast_join_opportunity",
    "cartesian_join",
    "python_udf",
    "driver_bound",
    "idle_executors",
    "aqe_disabled",
    "serializer",
    "memory_overprovisioned",
    "memory_underprovisioned",
    "shuffle_heavy",
    "speculation",
    "config",
    "streaming",
    "caching",
    "join_explosion",
    "schema_inference",
    "global_sort",
    "data_skipping",
    "aggregate_expansion",
]


class Severity(str, Enum):
    info = "info"
    low = "low"
    moderate = "moderate"
    severe = "severe"
    critical = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Evidence(BaseModel):
    """One measured number, with the threshold it crossed when there is one."""

    name: str  # e.g. "max/median task duration"
    value: float | str
    unit: str = ""  # ms, bytes, ratio, count, ...
    threshold: float | str | None = None
    stage_id: int | None = None

    @property
    def threshold_word(self) -> str:
        """How the threshold reads: a number is a limit crossed, a string is the setting value the check expects."""
        return "expected" if isinstance(self.threshold, str) else "threshold"


class ConfigChange(BaseModel):
    key: str
    value: str
    current: str | None = None  # None = not set (Spark default applies)


class Recommendation(BaseModel):
    summary: str
    config_changes: list[ConfigChange] = Field(default_factory=list)
    code_change: str | None = None  # e.g. "broadcast the smaller side of the join"

    def how(self) -> str:
        """The fix in one passage: the summary, and the code change when there is no setting to paste (it is then
        the fix itself, not an aside)."""
        return f"{self.summary} {self.code_change}" if self.code_change and not self.config_changes else self.summary


class Savings(BaseModel):
    core_ms: float = 0.0
    wall_ms: float = 0.0
    memory_gb_ms: float = 0.0  # executor container memory freed x the time it was held (GB-ms)
    method: str = ""  # how it was estimated, in a sentence
    code_change_only: bool = False  # the estimate is for the code change; the config lines alone are not estimated
    counted_elsewhere: str = ""  # time the change also removes that another finding counts (not summed twice)
    cost: float | None = None  # money, filled by tools.cost
    currency: str | None = None


class Finding(BaseModel):
    rule_id: str
    category: Category
    severity: Severity
    title: str
    stage_ids: list[int] = Field(default_factory=list)
    sql_execution_ids: list[int] = Field(default_factory=list)
    executor_ids: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    recommendation: Recommendation
    estimated_savings: Savings = Field(default_factory=Savings)
    doc_query: str = ""  # what to look up in the knowledge base


def advice_finding(
    rule_id: str,
    category: Category,
    severity: Severity,
    title: str,
    evidence: list[Evidence],
    summary: str,
    savings_method: str,
    doc_query: str,
    config_changes: list[ConfigChange] | None = None,
    code_change: str | None = None,
    sql_execution_ids: list[int] | None = None,
) -> Finding:
    """A finding whose gain is described rather than computed (table layout, streaming advice): no core-time saving."""
    return Finding(
        rule_id=rule_id,
        category=category,
        severity=severity,
        title=title,
        evidence=evidence,
        recommendation=Recommendation(summary=summary, config_changes=config_changes or [], code_change=code_change),
        estimated_savings=Savings(method=savings_method),
        doc_query=doc_query,
        sql_execution_ids=sql_execution_ids or [],
    )
