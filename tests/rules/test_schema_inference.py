"""Schema inference: jobs a JSON/CSV reader ran over the input files, outside any SQL query, to learn their types."""

from __future__ import annotations

from tools.findings import Severity
from tools.rules import RuleThresholds, diagnose
from tools.rules.schema_inference import inference_jobs

PUBLIC_SPARK31 = "NVIDIA__spark-rapids-tools/eventlog_minimal_events"  # spark-shell, Spark 3.1, two inferred CSV reads


def _inference_findings(profile, thresholds: RuleThresholds | None = None):
    return [f for f in diagnose(profile, thresholds) if f.rule_id == "schema_inference_pass"]


def test_the_inference_jobs_of_a_json_and_a_csv_read_are_found_and_priced(profile_of):
    """inferred_schema (real PySpark 4.3 log): spark.read.json over 393 MiB and spark.read.csv(inferSchema=True) over
    57 MiB, each preceded by a job with no SQL execution reading every file (jobs 0 and 4)."""
    profile = profile_of("inferred_schema")
    jobs = inference_jobs(profile)
    assert [(j.job.job_id, j.reader, j.label) for j in jobs] == [(0, "json", "json"), (4, "csv", "csv")]
    assert [s.stage_id for j in jobs for s in j.stages] == [0, 5]
    [finding] = _inference_findings(profile)
    facts = {e.name: e.value for e in finding.evidence}
    wall = sum(j.job.duration_ms for j in jobs)
    assert finding.stage_ids == [0, 5] and facts["schema inference jobs"] == 2
    assert facts["wall time of the inference jobs"] == wall == finding.estimated_savings.wall_ms
    assert facts["bytes read to infer schemas"] == sum(j.input_bytes for j in jobs) > 450 * 2**20
    assert finding.estimated_savings.core_ms == sum(j.core_ms for j in jobs) > wall  # two cores read in parallel
    # the queries read the same files again: the inference pass read as many bytes as the queries' scans
    query_stages = {stage_id for job in profile.jobs if job.sql_execution_id is not None for stage_id in job.stage_ids}
    query_bytes = sum(s.metrics.input_bytes.sum for s in profile.stages
                      if s.stage_id in query_stages and s.metrics.input_bytes and s.num_tasks > 1)
    assert query_bytes == facts["bytes read to infer schemas"]
    rec = finding.recommendation
    assert not rec.config_changes  # no setting turns inference off; the schema goes in the code
    assert "job 0 (json, " in rec.summary and "job 4 (csv, " in rec.summary
    assert ".schema(" in rec.code_change and "inferSchema" in rec.code_change and "samplingRatio" in rec.code_change


def test_a_short_inference_is_found_but_not_reported_until_it_costs_seconds(profile_of):
    """The public Spark 3.1 spark-shell log reads a small CSV twice with inferSchema: 119 ms and 35 ms of inference,
    under the 5 s floor; with the floor at 0 the finding names their stages."""
    profile = profile_of(PUBLIC_SPARK31)
    jobs = inference_jobs(profile)
    assert [(j.job.job_id, j.reader, j.label) for j in jobs] == [(1, "csv", "csv at <console>:23"), (3, "csv", "csv at <console>:23")]
    assert not _inference_findings(profile)
    [finding] = _inference_findings(profile, RuleThresholds(schema_inference_min_ms=0))
    assert finding.stage_ids == [s.stage_id for j in jobs for s in j.stages]
    assert finding.severity == Severity.low  # 154 ms of a 2.8-minute session


def test_reads_that_need_no_inference_run_no_such_job(profile_of):
    """Parquet reads (schema in the files), a JDBC read and a gzip CSV read given a schema: no inference job."""
    for name in ("repeated_read", "tiny_output_files", "jdbc_one_partition", "gzip_csv_input", "healthy"):
        assert inference_jobs(profile_of(name)) == [], name


def test_with_delta_configured_a_load_job_is_not_taken_for_inference(profile_of):
    """Delta reads its transaction log from a `load` call too; with Delta configured such jobs stay unreported."""
    profile = profile_of("inferred_schema")
    as_load = profile.model_copy(deep=True)
    for stage in as_load.stages:
        stage.details = stage.details.replace("DataFrameReader.json(", "DataFrameReader.load(")
    assert [j.reader for j in inference_jobs(as_load)] == ["load", "csv"]
    as_load.spark_properties["spark.sql.extensions"] = "io.delta.sql.DeltaSparkSessionExtension"
    assert [j.reader for j in inference_jobs(as_load)] == ["csv"]
