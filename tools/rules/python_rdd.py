"""A DataFrame's rows handed to Python RDD code (df.rdd.map, df.rdd.isEmpty(), df.foreach, ...): every row is
pickled to a Python worker and back, outside the SQL engine's code generation."""

from __future__ import annotations

from collections.abc import Iterator

from tools.eventlog.model import StageProfile
from tools.findings import Finding, Recommendation, Savings, Severity
from tools.rules.measure import ev, task_time_ms
from tools.rules.passes import listed, run_share
from tools.rules.registry import RuleContext, rule
from tools.rules.udf import BUILTIN_SHARE
from tools.units import count, human_duration, one_line

# df.rdd wraps the DataFrame's execution in a SQLExecutionRDD (Spark 3.0+); Python functions applied to an RDD run
# in a PythonRDD. Both in one stage: rows of a DataFrame went through Python RDD code.
_DATAFRAME_RDD = "SQLExecutionRDD"
_PYTHON_RDD = "PythonRDD"


def dataframe_python_stages(ctx: RuleContext) -> list[StageProfile]:
    """Completed stages that ran Python RDD functions over a DataFrame's rows."""
    return [s for s in ctx.completed_stages if _PYTHON_RDD in s.rdd_names and _DATAFRAME_RDD in s.rdd_names]


def _where(stage: StageProfile) -> str:
    """'stage 2 (SQL 0, 7.3 s)' or 'stage 0 (runJob at PythonRDD.scala:218, 1.8 s)'."""
    what = f"SQL {stage.sql_execution_id}" if stage.sql_execution_id is not None else one_line(stage.name, 50)
    return f"stage {stage.stage_id} ({what}, {human_duration(stage.duration_ms)})"


@rule(
    "dataframe_rows_through_python_rdd",
    "A DataFrame's rows went through Python RDD code",
    "python_udf",
    Severity.moderate,
    ("python_rdd_min_task_ms",),
)
def dataframe_rows_through_python_rdd(ctx: RuleContext) -> Iterator[Finding]:
    """Stages ran Python functions over a DataFrame converted to an RDD (df.rdd.map / flatMap / filter,
    df.rdd.isEmpty(), df.foreach): each row was pickled to a Python worker as a Row object and the results pickled
    back, where DataFrame expressions run in the JVM."""
    stages = dataframe_python_stages(ctx)
    task_ms = task_time_ms(stages)
    if not stages or task_ms < ctx.thresholds.python_rdd_min_task_ms:
        return
    wall_ms = float(sum(s.duration_ms or 0 for s in stages))
    share, severity = run_share(ctx, wall_ms)
    evidence = [ev("stages running Python RDD code over DataFrame rows", len(stages), "count"),
                ev("task time of those stages", task_ms, "ms", ctx.thresholds.python_rdd_min_task_ms),
                ev("wall time of those stages", wall_ms, "ms")]
    if share is not None:
        evidence.append(ev("wall time of those stages / application wall time", share, "share"))
    saved = task_ms * BUILTIN_SHARE
    yield ctx.finding(
        title=f"A DataFrame's rows went through Python RDD code in {count(len(stages), 'stage')} "
        f"({human_duration(task_ms)} of task time)",
        evidence=evidence,
        recommendation=Recommendation(
            summary="Rows of a DataFrame were converted to Python Row objects for RDD functions (df.rdd...), one "
            f"pickled round trip per row: keep the work in DataFrame expressions. The stages: "
            f"{listed([_where(s) for s in stages], 'stage')}.",
            code_change="Write the per-row logic with DataFrame functions (F.when, F.expr, F.regexp_replace, ...) "
            "instead of df.rdd.map / flatMap / filter; where it must be Python, use df.mapInPandas or df.mapInArrow "
            "(Arrow batches instead of pickled rows) or a pandas_udf. Test for rows with df.isEmpty() (on older "
            "PySpark, len(df.take(1)) == 0), not df.rdd.isEmpty(). When an RDD is turned back into a DataFrame, give "
            "toDF / createDataFrame the schema: without one, Spark first runs a job to sample rows for the column "
            "types.",
        ),
        savings=Savings(
            core_ms=saved,
            wall_ms=ctx.spread(saved),
            method=f"{BUILTIN_SHARE:.0%} of the stages' task time, as for a row-at-a-time UDF: DataFrame expressions "
            "run in the JVM without serialization to Python; mapInPandas / mapInArrow save less (the Python code "
            "still runs, on batches).",
            code_change_only=True,
        ),
        doc_query="PySpark DataFrame rdd map Python serialization mapInPandas built-in functions performance",
        severity=severity,
        stage_ids=[s.stage_id for s in stages],
        sql_execution_ids=sorted({s.sql_execution_id for s in stages if s.sql_execution_id is not None}),
    )
