"""Schema inference: JSON, CSV and XML files read once only to learn their column types, before the query reads
them again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tools.eventlog.model import AppProfile, JobProfile, StageProfile
from tools.findings import Finding, Recommendation, Severity
from tools.rules.measure import call_site, ev, task_time_ms
from tools.rules.passes import extra_pass_finding, listed
from tools.rules.registry import RuleContext, rule
from tools.units import count, human_duration, human_size

# The reader call that ran the stage, from the first line of its call site (Spark 1.4-4.x; Spark 4 adds `.classic`)
_READER = re.compile(r"\b(DataFrameReader|DataStreamReader)\.(json|csv|xml|load)\(")


@dataclass(frozen=True)
class InferenceJob:
    """A job outside any SQL query that a DataFrame reader ran over the input files: Spark inferring their schema."""

    job: JobProfile
    stages: list[StageProfile]
    reader: str  # json | csv | xml | load
    label: str  # the call site as the user wrote it where the log has it ('json at etl.py:41'), else the method

    @property
    def input_bytes(self) -> float:
        return sum(s.metrics.input_bytes.sum for s in self.stages if s.metrics.input_bytes is not None)

    @property
    def core_ms(self) -> float:
        return task_time_ms(self.stages)


def inference_jobs(profile: AppProfile) -> list[InferenceJob]:
    """Jobs that no SQL execution ran, whose stages a DataFrame/DataStream reader's json/csv/xml/load call started
    and which read input files: Spark runs such a job only to infer the files' schema (Parquet and ORC footers are
    read without input metrics, so their schema merges are not counted)."""
    stages_of: dict[int, list[StageProfile]] = {}
    for stage in profile.stages:
        stages_of.setdefault(stage.stage_id, []).append(stage)
    found = []
    delta = profile.delta_configured()  # Delta reads its transaction log from `load` too: not known to be inference
    for job in profile.jobs:
        if job.sql_execution_id is not None or job.duration_ms is None:
            continue
        stages = [s for stage_id in job.stage_ids for s in stages_of.get(stage_id, [])]
        readers = [m for s in stages if (m := _READER.search(s.details.split("\n", 1)[0]))]
        inferred = InferenceJob(job, stages, readers[0].group(2) if readers else "", call_site(stages[0].name) if stages else "")
        if readers and inferred.input_bytes > 0 and not (inferred.reader == "load" and delta):
            found.append(inferred)
    return found


def _fix(readers: set[str]) -> str:
    """The code change for the reader methods seen."""
    parts = ["Give the reader the schema, so it reads the files once, for the query: "
             "spark.read.schema(schema).json(path) (or .csv / .load), where schema is a DDL string "
             "('event_id BIGINT, user STRING, amount DOUBLE') or a StructType. To write it down, run the inferred read "
             "once and print df.schema.json(); load that text with StructType.fromJson(json.loads(text)) in PySpark "
             "or DataType.fromJson in Scala, and keep it next to the code."]
    if "csv" in readers or "load" in readers:
        parts.append("For CSV, drop option('inferSchema', True) if the columns may stay strings; the header option "
                     "alone reads only the first line.")
    if "json" in readers or "load" in readers:
        parts.append("For JSON, option('samplingRatio', 0.1) makes inference parse a tenth of the records, but every "
                     "file is still read once more; only a schema removes the extra pass.")
    parts.append("If the same files are read by many runs, convert them once to Parquet or Delta, which keep the schema "
                 "with the data.")
    return " ".join(parts)


@rule(
    "schema_inference_pass",
    "Input files read once more to infer their schema",
    "schema_inference",
    Severity.low,
    ("schema_inference_min_ms",),
)
def schema_inference_pass(ctx: RuleContext) -> Iterator[Finding]:
    """JSON, CSV or XML files were read without a schema: Spark read all of them once, in a job of its own before the
    query, only to learn their column types, then read them again for the query."""
    jobs = inference_jobs(ctx.profile)
    wall_ms = float(sum(j.job.duration_ms or 0 for j in jobs))
    if not jobs or wall_ms < ctx.thresholds.schema_inference_min_ms:
        return
    read = sum(j.input_bytes for j in jobs)
    shown = listed([f"job {j.job.job_id} ({j.label}, {human_duration(j.job.duration_ms)}, {human_size(j.input_bytes)} "
                    "read)" for j in jobs], "job")
    yield extra_pass_finding(
        ctx,
        title=f"{count(len(jobs), 'job')} read {human_size(read)} of input files only to infer their schema",
        kind="inference",
        parts="inference jobs",
        counted=ev("schema inference jobs", len(jobs), "count"),
        wall_ms=wall_ms,
        threshold=ctx.thresholds.schema_inference_min_ms,
        core_ms=sum(j.core_ms for j in jobs),
        extra=[ev("bytes read to infer schemas", read, "bytes")],
        recommendation=Recommendation(
            summary="Pass the schema to the reader instead of letting Spark infer it: inference reads every input file "
            f"before the query starts, and the query then reads them again. The inference jobs: {shown}.",
            code_change=_fix({j.reader for j in jobs}),
        ),
        method="The inference jobs' wall time (they run before their query, on the caller's thread) and their task "
        "time: with a schema given, Spark runs neither.",
        doc_query="DataFrameReader schema inference inferSchema samplingRatio JSON CSV explicit schema",
        stage_ids=sorted({s.stage_id for j in jobs for s in j.stages}),
    )
