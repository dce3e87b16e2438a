"""Python UDFs: row-at-a-time UDFs (BatchEvalPython) and vectorized pandas/Arrow UDFs, which move every row
between the JVM and Python workers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tools.eventlog.model import ROW_UDF, VECTORIZED_UDF, PlanNode, SqlExecution, executions_with_jobs
from tools.findings import ConfigChange, Finding, Recommendation, Savings, Severity
from tools.rules.joins import stage_time_ms
from tools.rules.measure import EXPRESSION_ID, ev, metric
from tools.rules.pruning import UdfPartitionFilter, reported_udf_filters
from tools.rules.registry import RuleContext, rule
from tools.units import count

PYTHON_TIME_METRICS = ("time to execute Python code", "time to run Python workers")
BUILTIN_SHARE = 0.7  # our estimate: the share of Python time (per-row work in a Python worker) built-ins save
ARROW_BATCH_KEY = "spark.sql.execution.arrow.maxRecordsPerBatch"
ARROW_BATCH_DEFAULT = 10_000
ARROW_UDF_KEY = "spark.sql.execution.pythonUDF.arrow.enabled"
ARROW_UDF_SINCE = (3, 5)  # the session setting exists from Spark 3.5
# On by default from 4.3 (measured: a fresh local PySpark 4.3.0 session reads true); off in 3.5-4.1, and in
# 4.2.0 (SPARK-54555 switched it on for 4.2 and was reverted before the release)
ARROW_UDF_DEFAULT_ON = (4, 3)


def _python_evidence(node: PlanNode) -> list:
    rows = [ev("operator", node.name, ""), ev("UDF call", node.description[:160], "")]
    for name in (*PYTHON_TIME_METRICS, "data sent to Python workers", "number of output rows"):
        value = metric(node, name)
        if value is not None:
            rows.append(ev(name, value, "ms" if name.startswith("time") else ("bytes" if "data" in name else "count")))
    return rows


def _python_time_ms(ctx: RuleContext, execution, found: list[PlanNode]) -> tuple[float, str]:
    """Time attributable to Python UDFs: the SQL metric when the log has it, else the execution's task time."""
    measured = [metric(n, "time to run Python workers") or metric(n, "time to execute Python code") for n in found]
    if any(m is not None for m in measured):
        return sum(m or 0.0 for m in measured), "the SQL metric 'time to run Python workers'"
    return stage_time_ms(ctx, execution), "the SQL execution's task time (this log has no Python-time metric)"


@dataclass
class UdfRun:
    """Every SQL execution that ran the same Python UDF call: a streaming query's micro-batches, a loop, and the
    root execution Spark 3.4+ logs around each nested one (its plan metrics mirror the nested execution's)."""

    executions: list[SqlExecution]
    nodes: list[PlanNode]  # the UDF operators of the execution that spent the most Python time
    python_ms: float  # over the executions that ran jobs (a job-less root mirrors its nested execution)
    source: str

    @property
    def ran(self) -> list[SqlExecution]:
        return executions_with_jobs(self.executions)

    @property
    def execution_ids(self) -> list[int]:
        return [e.execution_id for e in self.ran]

    def where(self) -> str:
        """'SQL 4' or 'SQL 4 and 6 more executions of the same call'."""
        more = len(self.ran) - 1
        return f"SQL {self.ran[0].execution_id}" + (
            f" and {more} more execution{'s' if more > 1 else ''} of the same call" if more else "")

    def evidence(self) -> list:
        """The UDF operators' metrics (up to three), how many executions ran the call, the Python time counted."""
        rows = [row for node in self.nodes[:3] for row in _python_evidence(node)]
        if len(self.ran) > 1:
            rows.append(ev("SQL executions running this UDF call", len(self.ran), "count"))
        return [*rows, ev("time attributed to Python UDFs", self.python_ms, "ms")]


def udf_runs(ctx: RuleContext, operators: tuple[str, ...]) -> list[UdfRun]:
    """The executions with `operators`, grouped by the UDF calls' text without expression ids (which a stream's
    every micro-batch renumbers), in order of first execution."""
    groups: dict[tuple[str, ...], list[tuple[SqlExecution, list[PlanNode]]]] = {}
    for execution in ctx.sql_executions:
        found = [n for n in execution.nodes if n.name.startswith(operators)]
        if found:
            call = tuple(EXPRESSION_ID.sub("", n.description) for n in found)
            groups.setdefault(call, []).append((execution, found))
    runs = []
    for members in groups.values():
        timed = [(*_python_time_ms(ctx, execution, found), found) for execution, found in members]
        ran = {e.execution_id for e in executions_with_jobs([e for e, _ in members])}
        counted = [t for t, (execution, _) in zip(timed, members) if execution.execution_id in ran]
        busiest = max(timed, key=lambda t: t[0])
        runs.append(UdfRun(executions=[e for e, _ in members], nodes=busiest[2],
                           python_ms=sum(t[0] for t in counted), source=busiest[1]))
    return runs


def arrow_udf_change(ctx: RuleContext) -> list[ConfigChange]:
    """The session setting that makes plain Python UDFs Arrow-evaluated, when it is off in this run.

    When it was already on (set, or the version's default) and the plan still shows row-at-a-time
    evaluation, the UDF opted out (`useArrow=False`) or Arrow cannot take its types: the setting would
    change nothing, the UDF code has to (or pyarrow is missing where the UDF runs)."""
    if ctx.spark_version < ARROW_UDF_SINCE:
        return []
    if ctx.bool_property(ARROW_UDF_KEY, ctx.spark_version >= ARROW_UDF_DEFAULT_ON):
        return []
    return [ctx.change(ARROW_UDF_KEY, "true")]


def partition_filter_note(run: UdfRun, reported: list[UdfPartitionFilter]) -> str:
    """When this UDF call is one of the `reported` filters on partition columns (udf_partition_filter's findings),
    what built-ins buy besides the Python time: partition pruning, which no Arrow setting gives."""
    calls = {EXPRESSION_ID.sub("", n.description) for n in run.nodes}
    ran = set(run.execution_ids)
    for found in reported:
        if found.execution.execution_id in ran and any(call in text for call in found.udf_calls for text in calls):
            return (f" In SQL {found.execution.execution_id} it filters the partition column "
                    f"{', '.join(found.columns)}: written with built-in functions, that filter also lets Spark prune "
                    "partitions, which Arrow evaluation does not (see the data-skipping finding on that query).")
    return ""


@rule("python_udf_row_at_a_time", "Row-at-a-time Python UDF", "python_udf", Severity.moderate)
def python_udf_row_at_a_time(ctx: RuleContext) -> Iterator[Finding]:
    """A plain Python UDF (BatchEvalPython) pickles every row to a Python worker and back."""
    changes = arrow_udf_change(ctx)
    arrow = ("" if changes or ctx.spark_version < ARROW_UDF_SINCE else
             " Arrow evaluation of Python UDFs was already on in this run, so this UDF opted out (useArrow=False), "
             "has types Arrow cannot take, or pyarrow is missing where it runs.")
    reported = [found for found, *_ in reported_udf_filters(ctx)]
    for run in udf_runs(ctx, ROW_UDF):
        python_ms, source, found = run.python_ms, run.source, run.nodes
        yield ctx.finding(
            title=f"Row-at-a-time Python UDF in {run.where()} ({count(len(found), 'operator')})",
            evidence=run.evidence(),
            recommendation=Recommendation(
                summary="Replace the UDF with built-in functions (pyspark.sql.functions), or make it a vectorized "
                "pandas_udf / Arrow-optimized UDF." + arrow + partition_filter_note(run, reported),
                config_changes=changes,
                code_change="Express the logic with F.when/F.expr/F.regexp_* etc.; otherwise @pandas_udf operating "
                "on pd.Series batches"
                + (", or @udf(..., useArrow=True)." if ctx.spark_version >= ARROW_UDF_SINCE else "."),
            ),
            savings=Savings(
                core_ms=python_ms * BUILTIN_SHARE,
                wall_ms=ctx.spread(python_ms * BUILTIN_SHARE),
                method=f"{BUILTIN_SHARE:.0%} of {source}: built-ins run in the JVM without serialization to Python. Arrow "
                "evaluation saves less: it batches the transfer, the Python function still runs per row.",
                code_change_only=True,
            ),
            doc_query="python udf performance pandas_udf arrow vectorized built-in functions",
            sql_execution_ids=run.execution_ids,
        )


@rule("python_udf_vectorized", "Vectorized (pandas / Arrow) Python UDF", "python_udf", Severity.low)
def python_udf_vectorized(ctx: RuleContext) -> Iterator[Finding]:
    """A pandas/Arrow UDF or grouped-map still ships data to Python workers; built-ins avoid it entirely."""
    batch = ctx.int_property(ARROW_BATCH_KEY)
    # the batch size is worth changing only when the run lowered it (the default is what Spark tunes for)
    batch_changes = ([ctx.change(ARROW_BATCH_KEY, str(ARROW_BATCH_DEFAULT))]
                     if batch is not None and 0 < batch < ARROW_BATCH_DEFAULT else [])
    reported = [found for found, *_ in reported_udf_filters(ctx)]
    for run in udf_runs(ctx, VECTORIZED_UDF):
        python_ms, source, found = run.python_ms, run.source, run.nodes
        yield ctx.finding(
            title=f"Vectorized Python UDF in {run.where()}: {', '.join(sorted({n.name for n in found}))}",
            evidence=run.evidence(),
            recommendation=Recommendation(
                summary="Keep vectorized UDFs for logic built-ins cannot express." + partition_filter_note(run, reported)
                + (f" This run made Arrow batches of {batch} rows; every batch is a round trip to Python: "
                   f"use the default {ARROW_BATCH_DEFAULT}." if batch_changes else ""),
                config_changes=batch_changes,
                code_change="Use built-in functions where possible; for groupBy().applyInPandas make sure groups fit "
                "in a Python worker's memory.",
            ),
            savings=Savings(
                core_ms=python_ms * 0.3,
                method=f"30% of {source}: what built-ins typically save over Arrow UDFs.",
                code_change_only=True,
            ),
            doc_query="pandas udf arrow applyInPandas mapInPandas performance",
            sql_execution_ids=run.execution_ids,
        )
