"""Event logs written by real local PySpark, once per session: one workload in every codec and rolling mode."""

from __future__ import annotations

from pathlib import Path

import pytest

CODECS = ("none", "lz4", "lzf", "snappy", "zstd")
JDBC_DESCRIPTION = "load from jdbc:postgresql://etl_user:hunter2@db.internal:5432/sales?password=hunter2"
PLANTED_CONF = {
    "spark.copilot.test.password": "hunter2",
    "spark.copilot.test.url": "jdbc:mysql://etl_user:hunter2@db.internal/sales",
}


def shuffle_with_cache(spark, rows: int) -> None:
    """A cached input read twice, a shuffle aggregation, and a job whose description holds a JDBC URL."""
    from pyspark.sql import functions as F

    spark.sparkContext.setJobDescription(JDBC_DESCRIPTION)
    base = spark.range(rows, numPartitions=4).select((F.col("id") % 97).alias("k"), (F.col("id") * 3).alias("v"))
    base = base.cache()
    base.count()
    base.groupBy("k").agg(F.sum("v").alias("s")).collect()
    spark.sparkContext.setJobDescription(None)
    base.filter(F.col("v") % 2 == 0).groupBy("k").count().collect()


def _conf(codec: str, rolling: bool) -> dict[str, str]:
    conf = dict(PLANTED_CONF)
    if codec != "none":
        conf.update({"spark.eventLog.compress": "true", "spark.eventLog.compression.codec": codec})
    if rolling:
        # Spark enforces maxFileSize >= 10 MiB, so a small workload writes one part.
        conf.update({"spark.eventLog.rolling.enabled": "true", "spark.eventLog.rolling.maxFileSize": "10m"})
    return conf


@pytest.fixture(scope="session")
def spark_codec_logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """name -> log path for the same workload: each codec, plus rolling (plain and zstd)."""
    from evals.workloads.runner import run_workload

    root = tmp_path_factory.mktemp("spark_codec_logs")
    logs: dict[str, Path] = {}
    variants = [(c, False) for c in CODECS] + [("none", True), ("zstd", True)]
    for codec, rolling in variants:
        name = f"{codec}{'-rolling' if rolling else ''}"
        log_dir = root / name
        logs[name] = run_workload(shuffle_with_cache, log_dir, f"codec-{name}", conf=_conf(codec, rolling), rows=40_000)
    return logs
