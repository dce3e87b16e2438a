"""Caching: DataFrames and RDDs persisted for reuse that no second action read."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tools.eventlog.model import AppProfile, CachedData
from tools.findings import Finding, Recommendation, Savings, Severity
from tools.rules.measure import EXPRESSION_ID, ev, nodes
from tools.rules.registry import RuleContext, rule
from tools.units import count

SHOWN = 5  # cached datasets named in one finding
PLAN_CHARS = 90
# Call sites that name the Py4J bridge instead of the user's code (PySpark)
_BRIDGE = ("NativeMethodAccessorImpl", "DirectMethodHandleAccessor", "GeneratedMethodAccessor")
_CODEGEN = re.compile(r"\*\(\d+\)\s*")
_ADAPTIVE_ROOT = re.compile(r"^AdaptiveSparkPlan isFinalPlan=\w+\s*\+-\s*")


def read_twice_in_one_action(cached: CachedData, profile: AppProfile) -> bool | None:
    """Whether the one action that ran `cached` read it more than once (a self-join of a cached frame);
    None when the log cannot tell (its SQL execution has no plan)."""
    if not cached.sql_execution_ids:
        # RDD code: each stage through the RDD reads it (SQL stages also count the one that builds it)
        return len(cached.stage_ids) > 1
    execution = next((x for x in profile.sql_executions if x.execution_id == cached.sql_execution_ids[0]), None)
    if execution is None or not execution.nodes:
        return None
    return sum(1 for _ in nodes(execution, "InMemoryTableScan")) > 1


def cached_once(profile: AppProfile) -> list[CachedData]:
    """Persisted data that one action ran and read only once: nothing was reused."""
    return [c for c in profile.cached if c.actions == 1 and read_twice_in_one_action(c, profile) is False]


def user_callsite(cached: CachedData) -> str:
    """Where the cached RDD was created in the user's code ("" when Spark logged only the Py4J bridge)."""
    return "" if any(b in cached.callsite for b in _BRIDGE) else cached.callsite


def cached_what(cached: CachedData) -> str:
    """What a cached RDD holds, readably: the plan it stores (without expression ids), else the user's call site."""
    plan = _ADAPTIVE_ROOT.sub("", " ".join(_CODEGEN.sub("", EXPRESSION_ID.sub("", cached.name)).split()))
    if cached.sql_execution_ids and plan:
        return plan if len(plan) <= PLAN_CHARS else plan[:PLAN_CHARS].rstrip() + "..."
    return user_callsite(cached)


def cached_label(cached: CachedData) -> str:
    """'RDD 33 (Project [id, (id * 2) AS x] +- Range ...)': the RDD and what it holds."""
    what = cached_what(cached)
    return f"RDD {cached.rdd_id} ({what})" if what else f"RDD {cached.rdd_id}"


@rule("cache_not_reused", "Cached data read by one action only", "caching", Severity.low)
def cache_not_reused(ctx: RuleContext) -> Iterator[Finding]:
    """A DataFrame or RDD was persisted (cache(), persist(), CACHE TABLE) but a single action computed and read it:
    storing it cost time and storage memory and saved no recomputation."""
    profile = ctx.profile
    if not profile.complete or profile.streaming:
        return  # a later action (or micro-batch) may still read it
    once = cached_once(profile)
    if not once:
        return
    shown = once[:SHOWN]
    stage_ids = sorted({s for c in shown for s in c.stage_ids})
    evidence = [ev(f"actions that read {cached_label(c)}", c.actions, "count", 2, c.stage_ids[0]) for c in shown]
    evidence.append(ev("persisted datasets in the run", len(profile.cached), "count"))
    callsites = ", ".join(f"`{user_callsite(c)}`" for c in shown if user_callsite(c))
    yield ctx.finding(
        title=f"{count(len(once), 'cached dataset')} read by one action only: never reused",
        evidence=evidence,
        recommendation=Recommendation(
            summary="Drop the cache() / persist() calls whose data only one action reads; keep a cache only for "
            "data that two or more actions (queries, writes, counts) read, and unpersist() it after the last one.",
            code_change=f"Remove the persist call at {callsites}." if callsites else
            "Remove the cache() / persist() of the data named in the evidence.",
        ),
        savings=Savings(method="Not estimated: the log does not time storing the blocks apart from the stage that "
                        "computed them; removing the cache saves that write and frees the storage memory it held."),
        doc_query="what to do: cache only data two or more actions read; remove cache() persist(); "
                  "unpersist() after the last",
        stage_ids=stage_ids[:20],
        sql_execution_ids=sorted({x for c in shown for x in c.sql_execution_ids}),
    )
