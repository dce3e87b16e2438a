"""Configuration: AQE and its skew-join / partition-coalescing features, the serializer for RDD shuffles,
and general hygiene (executor size, deprecated keys, unlimited result size)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from tools.eventlog.model import AQE_DEFAULT_ON_SINCE, SHUFFLED_JOINS
from tools.findings import ConfigChange, Evidence, Finding, Recommendation, Savings, Severity
from tools.rules.measure import GIB, MiB, ev, operator_name, writes_shuffle
from tools.rules.registry import RuleContext, rule
from tools.units import count, human_size, parse_size

DEPRECATED_KEYS = {
    "spark.yarn.executor.memoryOverhead": "spark.executor.memoryOverhead",
    "spark.yarn.driver.memoryOverhead": "spark.driver.memoryOverhead",
    "spark.shuffle.memoryFraction": "spark.memory.fraction",
    "spark.storage.memoryFraction": "spark.memory.storageFraction",
}


def aqe_enabled(ctx: RuleContext) -> bool:
    """AQE as the application ran it (default on from Spark 3.2)."""
    return ctx.bool_property("spark.sql.adaptive.enabled", ctx.spark_version >= AQE_DEFAULT_ON_SINCE)


def aqe_feature_changes(ctx: RuleContext, key: str) -> list[ConfigChange]:
    """What switches on an AQE feature (`key`, default true once AQE is on): AQE itself where this run had it off,
    and the feature where the run switched it off; none where both were already on."""
    changes = [] if aqe_enabled(ctx) else [ctx.change("spark.sql.adaptive.enabled", "true")]
    return changes + ([] if ctx.bool_property(key, True) else [ctx.change(key, "true")])


def shuffling_sql(ctx: RuleContext) -> list[int]:
    """SQL executions whose plan contains a shuffle exchange."""
    return [x.execution_id for x in ctx.sql_executions if any(n.name.startswith("Exchange") for n in x.nodes)]


def sql_shuffle_joins(ctx: RuleContext) -> list[int]:
    return [x.execution_id for x in ctx.sql_executions if any(operator_name(n) in SHUFFLED_JOINS for n in x.nodes)]


@rule("aqe_disabled", "Adaptive Query Execution disabled", "aqe_disabled", Severity.moderate)
def aqe_disabled(ctx: RuleContext) -> Iterator[Finding]:
    """Spark 3+ SQL with shuffles ran without AQE: no runtime partition coalescing, skew splitting or join switching."""
    if ctx.spark_version < (3, 0) or aqe_enabled(ctx):
        return
    executions = shuffling_sql(ctx)
    if not executions:
        return
    yield ctx.finding(
        title=f"AQE is off for {count(len(executions), 'SQL execution')} with shuffles",
        evidence=[
            ev("spark.sql.adaptive.enabled", ctx.prop("spark.sql.adaptive.enabled") or "unset (false before 3.2)", "", "true"),
            ev("Spark version", ctx.profile.spark_version or "unknown", ""),
            ev("SQL executions with shuffles", len(executions), "count"),
        ],
        recommendation=Recommendation(
            summary="Enable AQE so Spark sizes shuffle partitions, splits skewed ones and switches to broadcast "
            "joins at run time.",
            # coalescing and skew join come with AQE (on by default): pasted only where the run switched them off
            config_changes=[ctx.change("spark.sql.adaptive.enabled", "true")] + [
                ctx.change(key, "true") for key in ("spark.sql.adaptive.coalescePartitions.enabled",
                                                    "spark.sql.adaptive.skewJoin.enabled")
                if not ctx.bool_property(key, True)],
        ),
        savings=Savings(method="Shows in the partition, skew and join findings it would fix; not counted twice."),
        doc_query="adaptive query execution spark.sql.adaptive.enabled coalesce partitions skew join",
        sql_execution_ids=executions[:20],
    )


def aqe_switch_off(
    ctx: RuleContext, key: str, executions: Callable[[RuleContext], list[int]], title: str, executions_name: str,
    summary: str, counted_in: str, doc_words: str,
) -> Iterator[Finding]:
    """One AQE feature (`key`) switched off while AQE is on, in an application with SQL executions it would help."""
    if ctx.spark_version < (3, 0) or not aqe_enabled(ctx) or ctx.bool_property(key, True):
        return
    helped = executions(ctx)
    if not helped:
        return
    yield ctx.finding(
        title=title,
        evidence=[ev(key, ctx.prop(key) or "", "", "true"), ev(executions_name, len(helped), "count")],
        recommendation=Recommendation(summary=summary, config_changes=[ctx.change(key, "true")]),
        savings=Savings(method=f"Shows in the {counted_in} findings; not counted twice."),
        doc_query=f"{key} {doc_words}",
        sql_execution_ids=helped[:20],
    )


@rule("aqe_coalesce_off", "AQE partition coalescing off", "aqe_disabled", Severity.low)
def aqe_coalesce_off(ctx: RuleContext) -> Iterator[Finding]:
    """AQE is on but spark.sql.adaptive.coalescePartitions.enabled=false: small shuffle partitions are not merged."""
    yield from aqe_switch_off(
        ctx, "spark.sql.adaptive.coalescePartitions.enabled", shuffling_sql,
        title="AQE partition coalescing is switched off", executions_name="SQL executions with shuffles",
        summary="Let AQE merge small shuffle partitions.", counted_in="small-task", doc_words="small partitions",
    )


def _python_stage(name: str, rdd_names: list[str]) -> bool:
    return ".py:" in name or any("Python" in r or "Pairwise" in r for r in rdd_names)


@rule(
    "java_serializer_rdd_shuffle",
    "Java serializer for RDD shuffles",
    "serializer",
    Severity.low,
    ("serializer_min_shuffle_bytes",),
)
def java_serializer_rdd_shuffle(ctx: RuleContext) -> Iterator[Finding]:
    """JVM RDD stages shuffle with the default JavaSerializer; Kryo is faster and more compact."""
    serializer = ctx.prop("spark.serializer") or "org.apache.spark.serializer.JavaSerializer (default)"
    if "Kryo" in serializer:
        return
    stages = [
        s for s in ctx.completed_stages
        if s.stage_id not in ctx.stage_to_sql
        and not _python_stage(s.name, s.rdd_names)
        and writes_shuffle(s)
    ]
    shuffled = sum(s.metrics.shuffle_write_bytes.sum for s in stages if s.metrics.shuffle_write_bytes)
    if not stages or shuffled < ctx.thresholds.serializer_min_shuffle_bytes:
        return
    write_ms = sum(s.metrics.shuffle_write_time_ms.sum for s in stages if s.metrics.shuffle_write_time_ms)
    yield ctx.finding(
        title=f"{count(len(stages), 'RDD stage')} shuffled {human_size(shuffled)} with the Java serializer",
        evidence=[
            ev("spark.serializer", serializer, "", "org.apache.spark.serializer.KryoSerializer"),
            ev("RDD shuffle bytes written", shuffled, "bytes", ctx.thresholds.serializer_min_shuffle_bytes),
            ev("RDD stages with shuffles", len(stages), "count"),
        ],
        recommendation=Recommendation(
            summary="Use Kryo for RDD shuffles and caching (register your classes).",
            config_changes=[ctx.change("spark.serializer", "org.apache.spark.serializer.KryoSerializer")],
            code_change="conf.registerKryoClasses([...your record classes...])",
        ),
        savings=Savings(
            core_ms=write_ms * 0.3,
            method="30% of the RDD stages' shuffle-write time (Kryo output is typically several times smaller).",
        ),
        doc_query="Kryo serializer spark.serializer data serialization tuning",
        severity=Severity.moderate if shuffled >= GIB else Severity.low,
        stage_ids=[s.stage_id for s in stages][:20],
    )


def executor_split(ctx: RuleContext) -> list[tuple[Evidence, ConfigChange | None]] | None:
    """Executors wider than the core limit or larger than the heap limit, split into k smaller ones that hold the
    same cores and memory in total: cores and heap (and an explicit overhead) / k, an explicit executor count x k.
    None when the executors are within both limits."""
    t = ctx.thresholds
    cores = ctx.int_property("spark.executor.cores")
    memory = parse_size(ctx.prop("spark.executor.memory"), "m")
    wide = cores is not None and cores > t.executor_cores_max
    large = memory is not None and memory > t.executor_memory_max_bytes
    if not wide and not large:
        return None
    k = max(math.ceil(cores / t.executor_cores_max) if wide else 1,  # type: ignore[operator]
            math.ceil(memory / t.executor_memory_max_bytes) if large else 1)  # type: ignore[operator]
    rows: list[tuple[Evidence, ConfigChange | None]] = []
    if wide:
        rows.append((ev("spark.executor.cores", cores, "count", t.executor_cores_max), None))
    if large:
        rows.append((ev("spark.executor.memory", memory, "bytes", t.executor_memory_max_bytes), None))
    rows.append((ev("executors each split into", k, "count"), None))
    if cores is not None and k > 1:
        rows.append((ev("cores per executor after the split", math.ceil(cores / k), "count"),
                     ctx.change("spark.executor.cores", str(math.ceil(cores / k)))))
    for key in ("spark.executor.memory", "spark.executor.memoryOverhead"):
        size = parse_size(ctx.prop(key), "m")
        if size is not None and k > 1:
            mib = int(size / k / MiB)
            rows.append((ev(f"{key} after the split", size / k, "bytes"),
                         ctx.change(key, f"{mib // 1024}g" if mib % 1024 == 0 else f"{mib}m")))
    for key in ("spark.executor.instances", "spark.dynamicAllocation.maxExecutors", "spark.dynamicAllocation.minExecutors",
                "spark.dynamicAllocation.initialExecutors"):
        instances = ctx.int_property(key)
        if instances and k > 1:
            rows.append((ev(f"{key} after the split", instances * k, "count"), ctx.change(key, str(instances * k))))
    return rows


@rule("config_hygiene", "Configuration hygiene", "config", Severity.low, ("executor_cores_max", "executor_memory_max_bytes"))
def config_hygiene(ctx: RuleContext) -> Iterator[Finding]:
    """Settings known to hurt: very wide or very large executors, deprecated keys, unlimited driver result size."""
    t = ctx.thresholds
    problems = []  # (evidence row, change or None)
    named: list[str] = []  # what the title lists
    advice: list[str] = []  # one sentence per kind of problem found
    split = executor_split(ctx)
    if split is not None:
        problems += split
        named += [e.name for e, _ in split if e.threshold is not None]
        advice.append(f"Split wide or large executors into several smaller ones with the same cores and memory in "
                      f"total (up to {t.executor_cores_max} cores and a moderate heap each).")
    if ctx.prop("spark.driver.maxResultSize") == "0":
        problems.append((ev("spark.driver.maxResultSize", "0 (unlimited; Spark's default is 1g)", ""),
                         ctx.change("spark.driver.maxResultSize", "2g")))
        named.append("unlimited spark.driver.maxResultSize")
        advice.append("Bound the results collected to the driver, so one large collect fails fast instead of "
                      "running the driver out of memory.")
    deprecated = [(old, new) for old, new in DEPRECATED_KEYS.items() if ctx.prop(old) is not None]
    for old, new in deprecated:
        value = ctx.prop(old)
        assert value is not None
        replacement = ctx.change(new, value) if old.endswith("memoryOverhead") else ctx.change(old, "unset")
        problems.append((ev(f"deprecated key {old} (replaced by {new})", value, ""), replacement))
        named.append(f"deprecated key {old}")
    if deprecated:
        advice.append("Replace deprecated keys with the settings that replaced them.")
    if not problems:
        return
    yield ctx.finding(
        title="Configuration hygiene: " + ", ".join(named),
        evidence=[p[0] for p in problems],
        recommendation=Recommendation(
            summary=" ".join(advice),
            config_changes=[p[1] for p in problems if p[1] is not None],
        ),
        savings=Savings(method="Hygiene: prevents failures and GC pauses; not estimated."),
        doc_query="spark executor cores memory configuration best practices deprecated",
    )
