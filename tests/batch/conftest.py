"""Batch fixtures: folders of real logs in tmp dirs, and logs written by local PySpark once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURE_LOGS = (
    "apache__spark/spark-events/local-1422981780767",
    "apache__spark/spark-events/application_1538416563558_0014",
    "apache__spark/spark-events/app-20161115172038-0000",
    "apache__spark/spark-events/application_1553914137147_0018",
    "qubole__sparklens/local-1532512550423",
    "linkedin__dr-elephant/event_log_1",
    "NVIDIA__spark-rapids-tools/dsAndDf_eventlog.zstd",
    "NVIDIA__spark-rapids-tools/python_udf_eventlog",
    "NVIDIA__spark-rapids-tools/eventlog_v2_local-1623876083964",
)
CORRUPT_NAME = "app-20230101000000-0666.zstd"
CORRUPT_SOURCE = "NVIDIA__spark-rapids-tools/eventlog_v2_local-1623876083964/events_1_local-1623876083964.zstd"
JOB_NAME = "nightly_rollup"


def rollup(spark, rows: int) -> None:
    """The same daily job at different data sizes: an aggregation with a shuffle."""
    from pyspark.sql import functions as F

    df = spark.range(rows).select((F.col("id") % 2000).alias("k"), (F.col("id") * 7 % 1013).alias("v"))
    out = df.groupBy("k").agg(F.sum("v").alias("s"), F.countDistinct("v").alias("d"))
    out.write.format("noop").mode("overwrite").save()


@pytest.fixture(scope="session")
def spark_logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three runs of one job by real local Spark: twice on small data, then on 40x the data.

    A throw-away run first warms the JVM so the first kept run is not slowed by start-up.
    """
    from evals.workloads.runner import run_workload

    run_workload(rollup, tmp_path_factory.mktemp("warmup"), "warmup", rows=10_000)
    log_dir = tmp_path_factory.mktemp("spark_logs")
    return {
        "small_1": run_workload(rollup, log_dir, JOB_NAME, rows=150_000),
        "small_2": run_workload(rollup, log_dir, JOB_NAME, rows=150_000),
        "large": run_workload(rollup, log_dir, JOB_NAME, rows=6_000_000),
    }


def corrupt_copy(source: Path, target: Path) -> Path:
    """A zstd log whose head decodes (so it is discovered) with garbage written over a later stretch."""
    data = bytearray(source.read_bytes())
    later = len(data) * 7 // 10
    data[later : later + 4096] = bytes((i * 37) % 251 for i in range(4096))
    target.write_bytes(bytes(data))
    return target


@pytest.fixture
def fleet(tmp_path: Path, eventlog_fixtures: Path) -> Path:
    """A folder like a platform team's: public logs (plain, zstd, rolling) plus one corrupt log."""
    root = tmp_path / "fleet"
    (root / "2024-01-01").mkdir(parents=True)
    for i, name in enumerate(FIXTURE_LOGS):
        source = eventlog_fixtures / name
        target = root / ("2024-01-01" if i % 2 else "") / source.name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copyfile(source, target)
    corrupt_copy(eventlog_fixtures / CORRUPT_SOURCE, root / CORRUPT_NAME)
    return root


def good_logs() -> int:
    return len(FIXTURE_LOGS)
