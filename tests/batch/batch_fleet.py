"""What the batch tests share: the fleet's public logs, the corrupt log, and the job run by local Spark."""

from __future__ import annotations

from pathlib import Path

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


def corrupt_copy(source: Path, target: Path) -> Path:
    """A zstd log whose head decodes (so it is discovered) with garbage written over a later stretch."""
    data = bytearray(source.read_bytes())
    later = len(data) * 7 // 10
    data[later : later + 4096] = bytes((i * 37) % 251 for i in range(4096))
    target.write_bytes(bytes(data))
    return target


def good_logs() -> int:
    return len(FIXTURE_LOGS)
