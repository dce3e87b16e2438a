"""Real tables for the layout tests: Delta tables written by delta-rs, Parquet tables and an event log written by local PySpark."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake


def _rows(start: int, count: int, regions: list[str]) -> pa.Table:
    ids = list(range(start, start + count))
    return pa.table({"id": ids, "region": [regions[i % len(regions)] for i in range(count)], "amount": [float(i % 97) for i in ids]})


@pytest.fixture(scope="session")
def delta_small_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 appends of 50 rows into 2 partitions: 80 tiny files, no auto compaction."""
    path = tmp_path_factory.mktemp("delta") / "small_files"
    for batch in range(40):
        write_deltalake(str(path), _rows(batch * 50, 50, ["eu", "us"]), partition_by=["region"], mode="append")
    return path


@pytest.fixture(scope="session")
def delta_small_files_auto_compact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Same small files, but the table asks for auto compaction and optimized writes."""
    path = tmp_path_factory.mktemp("delta") / "small_auto"
    config = {"delta.autoOptimize.autoCompact": "true", "delta.autoOptimize.optimizeWrite": "true"}
    for batch in range(40):
        write_deltalake(str(path), _rows(batch * 50, 50, ["eu", "us"]), partition_by=["region"], mode="append", configuration=config if batch == 0 else None)
    return path


@pytest.fixture(scope="session")
def delta_healthy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One write of 20k rows in 2 even partitions, then OPTIMIZE ZORDER BY id and a VACUUM."""
    path = tmp_path_factory.mktemp("delta") / "healthy"
    write_deltalake(str(path), _rows(0, 20_000, ["eu", "us"]), partition_by=["region"], mode="append")
    table = DeltaTable(str(path))
    table.optimize.z_order(["id"])
    table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    return path


@pytest.fixture(scope="session")
def delta_skewed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Partition region=big holds ~200x the rows of each of the other 9 partitions."""
    path = tmp_path_factory.mktemp("delta") / "skewed"
    regions = ["big"] * 200 + [f"r{i}" for i in range(9)]
    write_deltalake(str(path), _rows(0, 41_800, regions), partition_by=["region"], mode="append")
    return path


@pytest.fixture(scope="session")
def delta_over_partitioned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """250 partitions of 8 rows each, then overwritten once: 250 live + 250 unreferenced files."""
    path = tmp_path_factory.mktemp("delta") / "over_partitioned"
    regions = [f"k{i:03d}" for i in range(250)]
    write_deltalake(str(path), _rows(0, 2000, regions), partition_by=["region"], mode="append")
    write_deltalake(str(path), _rows(2000, 2000, regions), partition_by=["region"], mode="overwrite")
    return path


@pytest.fixture(scope="session")
def delta_short_retention(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("delta") / "short_retention"
    config = {"delta.deletedFileRetentionDuration": "interval 1 hours", "delta.logRetentionDuration": "interval 2 hours"}
    write_deltalake(str(path), _rows(0, 100, ["eu"]), mode="append", configuration=config)
    return path


@pytest.fixture(scope="session")
def parquet_uncompressed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parquet") / "uncompressed"
    path.mkdir()
    pq.write_table(_rows(0, 5000, ["eu"]), path / "part-0.parquet", compression="none", row_group_size=1000)
    return path


@pytest.fixture(scope="session")
def parquet_snappy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parquet") / "snappy"
    path.mkdir()
    pq.write_table(_rows(0, 5000, ["eu"]), path / "part-0.parquet", compression="snappy", row_group_size=1000)
    return path


@pytest.fixture(scope="session")
def csv_gzipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One gzipped CSV of ~1 MiB compressed (unsplittable) beside a plain CSV."""
    path = tmp_path_factory.mktemp("csv") / "gz"
    path.mkdir()
    import random

    rng = random.Random(7)
    lines = "".join(f"{i},{rng.random()},{rng.getrandbits(64):x}\n" for i in range(40_000))
    with gzip.open(path / "part-0.csv.gz", "wt") as handle:
        handle.write("id,value,token\n" + lines)
    (path / "part-1.csv").write_text("id,value,token\n1,0.5,ab\n")
    return path


# ------------------------------------------------------------------ PySpark (slow)

def _write_tables(spark, root: str) -> None:
    """Parquet tables with many small files, a skewed partition and a healthy layout; then filtered reads."""
    from pyspark.sql import functions as F

    base = spark.range(0, 60_000).select(
        F.col("id"),
        (F.col("id") % 1000).alias("customer_id"),
        F.when(F.col("id") < 54_000, F.lit("big")).otherwise(F.concat(F.lit("c"), (F.col("id") % 6).cast("string"))).alias("country"),
        (F.col("id") * 1.5).alias("amount"),
    )
    base.repartition(120).write.mode("overwrite").parquet(f"{root}/small_files")
    base.repartition(8).write.mode("overwrite").partitionBy("country").parquet(f"{root}/skewed")
    base.coalesce(1).write.mode("overwrite").parquet(f"{root}/healthy")
    base.repartition(4).write.mode("overwrite").parquet(f"{root}/filtered")
    spark.read.parquet(f"{root}/filtered").where((F.col("customer_id") == 42) & (F.col("amount") > 10.0)).count()
    spark.read.parquet(f"{root}/filtered").where(F.col("customer_id").isin(1, 2, 3)).count()
    base.repartitionByRange(8, "customer_id").sortWithinPartitions("customer_id").write.mode("overwrite").parquet(f"{root}/clustered")
    spark.read.parquet(f"{root}/clustered").where((F.col("customer_id") == 7) & (F.col("amount") > 10.0)).count()
    spark.read.parquet(f"{root}/skewed").where(F.col("country") == "c1").count()


@pytest.fixture(scope="session")
def spark_tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tables written by local PySpark and the event log of the application that wrote and read them."""
    from evals.workloads.runner import run_workload

    root = tmp_path_factory.mktemp("spark_tables")
    log = run_workload(_write_tables, root / "logs", "tables-fixture", root=str(root / "data"))
    data = root / "data"
    return {name: data / name for name in ("small_files", "skewed", "healthy", "filtered", "clustered")} | {"log": log}
