"""Spark 4's vectored Parquet reads escape the tasks' input metric; the profile takes the files' size instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES_DIR
from tools.eventlog import load_profile


def _read_twice(spark, path: str) -> None:
    """The same Parquet files summed with Parquet's vectored reads on (the default), then off."""
    from pyspark.sql import functions as F

    spark.range(0, 1_500_000, 1, 4).select("id", F.sha2(F.col("id").cast("string"), 256).alias("h")) \
        .write.mode("overwrite").parquet(path)
    for vectored in ("true", "false"):
        spark.conf.set("parquet.hadoop.vectored.io.enabled", vectored)
        spark.sparkContext.setJobDescription(f"vectored {vectored}")
        spark.read.parquet(path).agg(F.sum("id"), F.max("h")).collect()


@pytest.mark.slow
def test_vectored_parquet_reads_are_missing_from_the_input_metric_and_the_files_size_stands_in(tmp_path: Path):
    """Real local Spark: with vectored reads the scan stage's input metric holds a few KB (the footers) of the files
    it read whole; with them off it holds about the files' size. `AppProfile.input_bytes` takes the files' size only
    where the metric missed it."""
    from evals.workloads.runner import run_workload

    log = run_workload(_read_twice, tmp_path / "logs", "parquet-input", path=str(tmp_path / "data"))
    profile = load_profile(log)
    assert profile.release >= (4, 0) and profile.vectored_parquet_reads()
    scans = {}
    for stage in profile.stages:
        nodes = [n for n in profile.stage_nodes(stage.stage_id) if n.name == "Scan parquet"]
        if nodes and stage.metrics.input_bytes is not None:
            scans[profile.sql_execution(stage.sql_execution_id).description] = (stage, nodes[0])
    (on, on_scan), (off, off_scan) = scans["vectored true"], scans["vectored false"]
    files = on_scan.metrics["size of files read"]
    assert files > 20e6 and off_scan.metrics["size of files read"] == files
    assert on.metrics.input_bytes.sum < 0.05 * files  # the metric missed the column chunks
    assert profile.missed_parquet_bytes(on) == files and profile.input_bytes(on) == files
    assert 0.8 * files < off.metrics.input_bytes.sum < 1.3 * files  # read on the task's thread: counted
    assert profile.missed_parquet_bytes(off) is None and profile.input_bytes(off) == off.metrics.input_bytes.sum


def test_the_files_size_stands_in_only_where_vectored_reads_ran():
    """repartition_then_group (Spark 4.3, vectored reads on): stage 2's tasks logged 678 KiB of input for 177 MiB of
    Parquet files. Switched off in the application's settings, or on a Spark before 4, the metric stands."""
    profile = load_profile(FIXTURES_DIR / "workloads" / "repartition_then_group.zstd")
    stage = profile.stage(2)
    assert stage.metrics.input_bytes.sum == 694_196
    assert profile.input_bytes(stage) == profile.missed_parquet_bytes(stage) == 185_393_816
    for node in profile.stage_nodes(2):  # a catalog table's scan carries its name (measured on Spark 4.3)
        node.name = node.name.replace("Scan parquet", "Scan parquet spark_catalog.default.payments")
    assert profile.missed_parquet_bytes(stage) == 185_393_816
    profile.spark_properties["spark.hadoop.parquet.hadoop.vectored.io.enabled"] = "false"
    assert profile.missed_parquet_bytes(stage) is None and profile.input_bytes(stage) == 694_196
    del profile.spark_properties["spark.hadoop.parquet.hadoop.vectored.io.enabled"]
    profile.spark_version = "3.5.1"
    assert profile.input_bytes(stage) == 694_196
