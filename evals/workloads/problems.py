"""Problem workloads: small real PySpark runs, each showing one known performance problem.

Their event logs (zstd-compressed, a few tens of KB each) are the labeled inputs of the
rules engine's tests and of the detection eval. Data is generated in-process; each run
takes seconds on two local cores. `python -m evals.workloads.problems --out DIR`
writes `DIR/<name>.zstd` for every workload (or only those named with `--only`).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

LOG_CONF: dict[str, str] = {
    "spark.eventLog.compress": "true",
    "spark.eventLog.compression.codec": "zstd",
}


def _sink(df) -> None:
    """Evaluate a DataFrame completely without writing output."""
    df.write.format("noop").mode("overwrite").save()


def skewed_join(spark, workdir: Path) -> None:
    """80% of the fact rows share one join key (which also repeats 20 times in the dimension); AQE skew-join off."""
    from pyspark.sql import functions as F

    rows = 3_000_000
    hot = F.when(F.col("id") % 10 < 8, F.lit(0)).otherwise(F.col("id") % 50_000)
    facts = spark.range(rows).select(hot.alias("k"), (F.col("id") % 101).alias("v"))
    dim_key = F.when(F.col("id") >= 50_000, F.lit(0)).otherwise(F.col("id"))
    dims = spark.range(50_019).select(dim_key.alias("k"), (F.col("id") % 37).alias("g"))
    joined = facts.join(dims, "k")
    digest = F.crc32(F.concat_ws("-", joined["k"], joined["v"], joined["g"]))
    _sink(joined.groupBy("g").agg(F.sum("v"), F.sum(digest), F.count("*")))


def aqe_skew_split(spark, workdir: Path) -> None:
    """The skewed join with AQE's skew-join handling on and low thresholds: AQE splits the hot key's partition."""
    from pyspark.sql import functions as F

    hot = F.when(F.col("id") % 10 < 8, F.lit(0)).otherwise(F.col("id") % 50_000)
    facts = spark.range(2_000_000).select(hot.alias("k"), (F.col("id") % 101).alias("v"))
    dims = spark.range(50_000).select(F.col("id").alias("k"), (F.col("id") % 37).alias("g"))
    _sink(facts.join(dims, "k").groupBy("g").agg(F.sum("v"), F.count("*")))


def _sorted_rows(spark, start: int, count: int):
    """`count` rows from id `start`, ordered by a scrambled key and a 40-character hash (sorting them needs memory)."""
    from pyspark.sql import functions as F

    df = spark.range(start, start + count).select(
        ((F.col("id") * 2654435761) % 1_000_003).alias("v"), F.col("id"), F.sha1(F.col("id").cast("string")).alias("h")
    )
    return df.orderBy("v", "h")


def spilling_sort(spark, workdir: Path) -> None:
    """A global sort through two shuffle partitions with a tiny execution-memory budget."""
    _sink(_sorted_rows(spark, 0, 2_000_000))


def spread_spill(spark, workdir: Path) -> None:
    """Five smaller sorts under the same tiny execution-memory budget: each spills too little to matter alone,
    together the executor spills as much as the big sort."""
    for i in range(5):
        _sink(_sorted_rows(spark, i * 10_000_000, 500_000))


def tiny_output_files(spark, workdir: Path) -> None:
    """Writes 800 Parquet files of a few KB each, then reads them back."""
    from pyspark.sql import functions as F

    out = str(workdir / "tiny_files")
    spark.range(16_000).select("id", (F.col("id") % 7).alias("g")).repartition(800).write.mode("overwrite").parquet(out)
    _sink(spark.read.parquet(out).groupBy("g").count())


def many_shuffle_partitions(spark, workdir: Path) -> None:
    """An aggregation of tiny data through 2,000 shuffle partitions (AQE off, so nothing coalesces)."""
    from pyspark.sql import functions as F

    df = spark.range(50_000).select((F.col("id") % 5000).alias("k"), F.col("id").alias("v"))
    _sink(df.groupBy("k").agg(F.sum("v")))


def one_shuffle_partition(spark, workdir: Path) -> None:
    """A join and aggregation squeezed through a single shuffle partition (AQE off): one core works, one idles."""
    from pyspark.sql import functions as F

    left = spark.range(3_000_000).select(F.col("id").alias("k"), (F.col("id") % 97).alias("v"))
    right = spark.range(3_000_000).select(((F.col("id") * 7) % 3_000_000).alias("k"), (F.col("id") % 13).alias("w"))
    _sink(left.join(right, "k").groupBy((F.col("k") % 1000).alias("b")).agg(F.sum("v"), F.sum("w")))


def python_row_udf(spark, workdir: Path, fixed: bool = False) -> None:
    """A row-at-a-time Python UDF where a built-in expression would do. `fixed`: the same arithmetic as a built-in
    column expression."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType

    @F.udf(returnType=LongType())
    def bucket(value):
        return (value * 2654435761) % 997

    b = (F.col("id") * 2654435761) % 997 if fixed else bucket(F.col("id"))
    df = spark.range(300_000).select((F.col("id") % 64).alias("k"), b.alias("b"))
    _sink(df.groupBy("k").agg(F.sum("b")))


def pandas_vectorized_udf(spark, workdir: Path) -> None:
    """A pandas (Arrow-vectorized) UDF computing what a built-in expression could."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType

    @F.pandas_udf(LongType())
    def bucket(values):
        return (values * 2654435761) % 997

    df = spark.range(500_000).select((F.col("id") % 64).alias("k"), bucket(F.col("id")).alias("b"))
    _sink(df.groupBy("k").agg(F.sum("b")))


def cross_join(spark, workdir: Path) -> None:
    """A cartesian product of two 2,000-row tables, filtered afterwards."""
    from pyspark.sql import functions as F

    left = spark.range(2_000).select(F.col("id").alias("a"))
    right = spark.range(2_000).select(F.col("id").alias("b"))
    _sink(left.crossJoin(right).where((F.col("a") + F.col("b")) % 97 == 0).agg(F.count("*")))


def nested_loop_joins(spark, workdir: Path, fixed: bool = False) -> None:
    """Two joins with no equality Spark can hash or sort on, so each runs as a broadcast nested-loop join comparing
    every row with every row: 200k leads matched to 20k customers by email OR phone (4 billion pairs), and 100k sales
    without the recalled (shop, item) pairs of a 5k-row table, written as a two-column NOT IN (null-aware, 500
    million pairs). `fixed`: one equi-join per alternative, unioned and deduplicated on the matched pair; NOT EXISTS
    instead of NOT IN."""
    from pyspark.sql import functions as F

    leads = spark.range(0, 200_000, 1, 4).select(
        F.col("id").alias("lead_id"), (F.col("id") * 7919 % 1_000_000).alias("email_key"),
        (F.col("id") * 104729 % 1_000_000).alias("phone_key")).alias("l")
    customers = spark.range(0, 20_000, 1, 2).select(
        F.col("id").alias("customer_id"), (F.col("id") * 31 % 1_000_000).alias("email_key"),
        (F.col("id") * 17 % 1_000_000).alias("phone_key")).alias("c")
    by_email = F.col("l.email_key") == F.col("c.email_key")
    by_phone = F.col("l.phone_key") == F.col("c.phone_key")
    if fixed:
        pairs = [leads.join(customers, condition).select("lead_id", "customer_id") for condition in (by_email, by_phone)]
        matched = pairs[0].union(pairs[1]).dropDuplicates(["lead_id", "customer_id"])
    else:
        matched = leads.join(customers, by_email | by_phone).select("lead_id", "customer_id")
    _sink(matched)
    spark.range(0, 100_000, 1, 4).select((F.col("id") % 500).alias("shop"), (F.col("id") * 7 % 300).alias("item"),
                                         (F.col("id") % 97).alias("amount")).createOrReplaceTempView("sales")
    spark.range(0, 5_000, 1, 2).select((F.col("id") % 500).alias("shop"), (F.col("id") % 11).alias("item")) \
        .createOrReplaceTempView("recalled")
    kept = ("NOT EXISTS (SELECT 1 FROM recalled r WHERE r.shop = s.shop AND r.item = s.item)" if fixed else
            "(shop, item) NOT IN (SELECT shop, item FROM recalled)")
    _sink(spark.sql(f"SELECT shop, sum(amount) AS amount FROM sales s WHERE {kept} GROUP BY shop"))


def _fail_first_attempt(index, rows):
    from pyspark import TaskContext

    if index % 2 == 0 and TaskContext.get().attemptNumber() == 0:
        raise RuntimeError(f"transient failure in partition {index}")
    return [sum(rows)]


def _always_fail_partition_zero(index, rows):
    if index == 0:
        raise ValueError("bad record in partition 0")
    return [sum(rows)]


def retried_tasks(spark, workdir: Path) -> None:
    """Half the tasks fail on their first attempt and succeed on retry; a second job fails for good."""
    sc = spark.sparkContext
    sc.parallelize(range(80_000), 8).mapPartitionsWithIndex(_fail_first_attempt).collect()
    try:
        sc.parallelize(range(1_000), 4).mapPartitionsWithIndex(_always_fail_partition_zero).collect()
    except Exception:  # noqa: BLE001 - the failed job is the point of this workload
        pass


def rdd_java_shuffle(spark, workdir: Path) -> None:
    """A JVM RDD shuffle (as Scala/Java RDD code does) with the default Java serializer."""
    rows = spark.range(1_500_000).selectExpr("id", "cast(id % 1000 as string) as s", "id * 3 as t")
    rows._jdf.javaRDD().repartition(8).count()


def partitioned_full_scan(spark, workdir: Path) -> None:
    """Writes a table partitioned by day, then aggregates it without any filter on the partition column."""
    from pyspark.sql import functions as F

    out = str(workdir / "events_by_day")
    spark.range(200_000).select("id", (F.col("id") % 20).alias("day")).write.partitionBy("day").parquet(out)
    _sink(spark.read.parquet(out).groupBy("day").agg(F.count("*"), F.max("id")))


def _count_pair(x):
    return (x % 100, 1)


def _add_counts(a, b):
    return a + b


def lost_shuffle_files(spark, workdir: Path) -> None:
    """An RDD shuffle whose map output files are deleted between two actions: the second fails to fetch them
    and Spark re-runs the map stage."""
    sc = spark.sparkContext
    pairs = sc.parallelize(range(200_000), 4).map(_count_pair).reduceByKey(_add_counts, 4)
    pairs.count()
    for path in (workdir / "local").rglob("shuffle_*"):
        path.unlink()
    pairs.collect()


def missed_broadcast(spark, workdir: Path) -> None:
    """A 1M-row fact table joined to a 100-row dimension with broadcast joins disabled."""
    from pyspark.sql import functions as F

    facts = spark.range(1_000_000).select((F.col("id") % 100).alias("k"), (F.col("id") % 997).alias("v"))
    dims = spark.range(100).select(F.col("id").alias("k"), (F.col("id") % 7).alias("g"))
    _sink(facts.join(dims, "k").groupBy("g").agg(F.sum("v")))


def healthy(spark, workdir: Path) -> None:
    """A balanced aggregation and join with AQE on and sensible partition counts."""
    from pyspark.sql import functions as F

    facts = spark.range(1_000_000).select((F.col("id") % 10_000).alias("k"), (F.col("id") % 997).alias("v"))
    dims = spark.range(10_000).select(F.col("id").alias("k"), (F.col("id") % 7).alias("g"))
    _sink(facts.join(F.broadcast(dims), "k").groupBy("g").agg(F.sum("v"), F.count("*")))


def cache_read_once(spark, workdir: Path, fixed: bool = False) -> None:
    """Two cached frames: per-key totals read back by two queries (a reuse), and a projection persisted to memory and
    disk that a single aggregation reads (a cache that buys nothing). `fixed`: the projection is not persisted."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    totals = spark.range(1_000_000).groupBy((F.col("id") % 1000).alias("k")).agg(F.sum("id").alias("s")).cache()
    _sink(totals.filter("k < 500"))
    _sink(totals.agg(F.max("s")))
    totals.unpersist()
    once = spark.range(1_000_000).select((F.col("id") % 97).alias("k"), (F.col("id") * 3).alias("v"))
    once = once if fixed else once.persist(StorageLevel.MEMORY_AND_DISK)
    _sink(once.groupBy("k").agg(F.sum("v")))


def exploding_join(spark, workdir: Path, fixed: bool = False) -> None:
    """Orders joined to a customer-address history that keeps every version of an address (25 per customer), not
    only the current one: each order matches 25 rows, and the revenue per region is summed over the joined rows.
    `fixed`: the history is cut to each customer's current address (the latest version) before the join."""
    from pyspark.sql import functions as F

    orders = spark.range(500_000).select((F.col("id") % 20_000).alias("customer_id"), (F.col("id") % 1000).alias("amount"))
    history = spark.range(500_000).select(
        (F.col("id") % 20_000).alias("customer_id"), F.floor(F.col("id") / 20_000).alias("version"), (F.col("id") % 13).alias("region"))
    if fixed:
        history = history.where(F.col("version") == history.agg(F.max("version")).first()[0])
    _sink(orders.join(history, "customer_id").groupBy("region").agg(F.sum("amount"), F.count("*")))


def repeated_read(spark, workdir: Path, fixed: bool = False) -> None:
    """A Parquet table of 3M events written, then read back and filtered into a DataFrame that three actions use
    without keeping it: a count() for a log line, a per-country aggregation and a distinct count. Each action reads
    the files again. `fixed`: the filtered DataFrame is persisted (memory and disk) before the first action and
    unpersisted after the last."""
    from pyspark.sql import functions as F

    path = str(workdir / "events")
    spark.range(3_000_000).select(
        F.col("id"), (F.col("id") % 50).alias("country"), (F.col("id") * 7 % 1000).alias("amount"),
        F.sha1(F.col("id").cast("string")).alias("payload")).write.mode("overwrite").parquet(path)
    events = spark.read.parquet(path).where(F.col("amount") > 10)
    if fixed:
        from pyspark import StorageLevel

        events = events.persist(StorageLevel.MEMORY_AND_DISK)
    logging.getLogger(__name__).info("%d events", events.count())  # the log line
    _sink(events.groupBy("country").agg(F.sum("amount"), F.count("*")))
    events.select("payload").distinct().count()
    if fixed:
        events.unpersist()


def filter_loop(spark, workdir: Path, fixed: bool = False) -> None:
    """A Parquet table of 6M sales written, then a Python loop runs one query per region (eight of them): filter to
    the region, total per product, collect. Every row group holds every region, so each query reads all the files
    again. `fixed`: one query grouped by region and product, its rows split per region on the driver."""
    from pyspark.sql import functions as F

    path = str(workdir / "sales")
    spark.range(6_000_000).select(
        F.col("id").alias("sale_id"), (F.col("id") * 7 % 8).alias("region"), (F.col("id") * 13 % 500).alias("product"),
        (F.col("id") % 977).alias("amount")).write.mode("overwrite").parquet(path)
    sales = spark.read.parquet(path)
    by_region: dict[int, list] = {}
    if fixed:
        for row in sales.groupBy("region", "product").agg(F.sum("amount").alias("amount")).collect():
            by_region.setdefault(row.region, []).append(row)
    else:
        for region in range(8):
            by_region[region] = sales.where(F.col("region") == region).groupBy("product").agg(
                F.sum("amount").alias("amount")).collect()


def window_without_partition(spark, workdir: Path) -> None:
    """A row number over 3M rows ordered by a value, with no partitionBy: Spark moves every row to one partition and
    one task sorts and numbers them all, however many shuffle partitions are set."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rows = spark.range(3_000_000).select(
        F.col("id"), ((F.col("id") * 7919) % 1_000_003).alias("v"), F.sha1(F.col("id").cast("string")).alias("payload"))
    _sink(rows.withColumn("rn", F.row_number().over(Window.orderBy("v"))))


def _wait_for(condition: Callable[[], bool], timeout_s: float = 300.0) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the workload did not reach the state it waits for")
        time.sleep(0.2)


def cancelled_job(spark, workdir: Path) -> None:
    """A long job cancelled while it runs (as a notebook's cancel button does), then a short job that completes."""
    import threading

    from pyspark.sql import functions as F

    sc = spark.sparkContext

    def long_job() -> None:
        sc.setJobGroup("cancel-me", "a job its user cancels", interruptOnCancel=True)
        try:
            spark.range(0, 10**10, numPartitions=400).select(F.sum(F.crc32(F.col("id").cast("string")))).collect()
        except Exception:  # the cancellation surfaces here as an error
            return

    worker = threading.Thread(target=long_job)
    worker.start()
    _wait_for(lambda: sc.statusTracker().getActiveJobsIds() != [])
    _wait_for(lambda: any(sc.statusTracker().getStageInfo(s).numCompletedTasks >= 2
                          for s in sc.statusTracker().getActiveStageIds() if sc.statusTracker().getStageInfo(s)))
    sc.cancelJobGroup("cancel-me")
    worker.join()
    _sink(spark.range(100_000).groupBy((F.col("id") % 10).alias("k")).count())


def stopped_stream(spark, workdir: Path) -> None:
    """A streaming aggregation over the rate source, stopped after a few micro-batches while the next one runs."""
    from pyspark.sql import functions as F

    events = spark.readStream.format("rate").option("rowsPerSecond", 2000).load()
    counts = events.groupBy((F.col("value") % 1000).alias("k")).count()
    query = (counts.writeStream.format("noop").outputMode("update").queryName("rate_counts")
             .option("checkpointLocation", str(workdir / "checkpoint")).start())
    try:
        _wait_for(lambda: (query.lastProgress or {}).get("batchId", -1) >= 3)
        sc = spark.sparkContext
        _wait_for(lambda: sc.statusTracker().getActiveJobsIds() != [], timeout_s=60)  # stop while a batch's job runs
    finally:
        query.stop()


def _slow_digest(value: int) -> str:
    """About 0.1 ms of Python per row: the per-row cost that makes the stream below fall behind."""
    import hashlib

    digest = str(value).encode()
    for _ in range(200):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()[:8]


def lagging_stream(spark, workdir: Path) -> None:
    """A streaming query whose row-at-a-time Python UDF processes fewer rows per second than the rate source
    produces: each micro-batch reads the rows that arrived while the previous one ran, so batches grow."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType

    digest = F.udf(_slow_digest, StringType())
    events = spark.readStream.format("rate").option("rowsPerSecond", 20_000).load()
    query = (events.select(digest("value").alias("d")).writeStream.format("noop").queryName("digests")
             .option("checkpointLocation", str(workdir / "checkpoint")).start())
    try:
        _wait_for(lambda: (query.lastProgress or {}).get("batchId", -1) >= 5)
    finally:
        query.stop()


def _reject_late_batch(batch, batch_id: int) -> None:
    """foreachBatch sink that fails on the third micro-batch, as a sink whose target went away would."""
    if batch_id >= 2:
        raise RuntimeError(f"sink rejected batch {batch_id}: target table is read-only")
    batch.count()


def failed_stream(spark, workdir: Path) -> None:
    """A streaming query over the rate source whose foreachBatch sink raises on its third micro-batch: the query
    stops with that error (QueryTerminatedEvent with the exception)."""
    events = spark.readStream.format("rate").option("rowsPerSecond", 1000).load()
    query = (events.writeStream.foreachBatch(_reject_late_batch).queryName("failing_sink")
             .option("checkpointLocation", str(workdir / "checkpoint")).start())
    try:
        query.awaitTermination(300)
    except Exception:  # noqa: BLE001 - the failure is the point: it is in the event log
        pass
    finally:
        query.stop()


class ProblemWorkload(BaseModel):
    """A workload, the configuration that provokes its problem, and what it demonstrates."""

    name: str
    description: str
    conf: dict[str, str] = Field(default_factory=dict)
    master: str = "local[2]"


WORKLOADS: dict[str, tuple[Callable[..., None], ProblemWorkload]] = {}


def skewed_window(spark, workdir: Path) -> None:
    """A running total per customer where 80% of 6M rows belong to one customer: the window sorts and scans that
    customer's rows in one task while the others finish at once. AQE is on with its skew handling, which splits
    skewed join partitions only, so no setting spreads this one."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    hot = F.when(F.col("id") % 10 < 8, F.lit(0)).otherwise(F.col("id") % 50_000)
    events = spark.range(6_000_000).select(hot.alias("customer"), ((F.col("id") * 7919) % 1_000_003).alias("amount"))
    _sink(events.withColumn("running", F.sum("amount").over(Window.partitionBy("customer").orderBy("amount"))))


def gzip_csv_input(spark, workdir: Path) -> None:
    """One large gzip-compressed CSV file (written here by Python's gzip module, as an export from another system
    would arrive) read and aggregated: gzip cannot be split, so one task reads and parses the whole file, over the
    128 MB split size, while the other core waits."""
    import gzip
    import hashlib

    from pyspark.sql import functions as F

    path = workdir / "orders.csv.gz"
    with gzip.open(path, "wt", compresslevel=1) as out:
        out.write("order_id,customer_id,amount,note\n")
        for i in range(6_000_000):
            out.write(f"{i},{i % 5_000},{(i * 7919) % 100_000 / 100},{hashlib.sha256(str(i).encode()).hexdigest()}\n")
    schema = "order_id long, customer_id long, amount double, note string"
    read = spark.read.option("header", True).schema(schema).csv(str(path))
    _sink(read.groupBy("customer_id").agg(F.sum("amount").alias("spent"), F.count("*").alias("orders")))


def coalesced_write(spark, workdir: Path, fixed: bool = False) -> None:
    """Rows fingerprinted and written as one Parquet file with coalesce(1): coalesce merges partitions without a
    shuffle, so the hashing before it runs in the write's one task too while the other core waits. `fixed`:
    repartition(1) instead, so the hashing runs in the 8 partitions before the shuffle."""
    from pyspark.sql import functions as F

    fingerprint = F.col("id").cast("string")
    for _ in range(8):  # per-row work before the coalesce
        fingerprint = F.sha2(fingerprint, 512)
    rows = spark.range(0, 1_500_000, 1, 8).select("id", fingerprint.alias("fingerprint"))
    (rows.repartition(1) if fixed else rows.coalesce(1)).write.mode("overwrite").parquet(str(workdir / "fingerprints"))


def inferred_schema(spark, workdir: Path, fixed: bool = False) -> None:
    """JSON event files and a CSV export (written here by Python, as files from another system would arrive) read
    without a schema: Spark reads every file once only to infer the column types, in a job of its own before the
    query, and then again for the query. `fixed`: both readers are given the schema."""
    import json

    from pyspark.sql import functions as F

    events = workdir / "events"
    events.mkdir()
    kinds, countries = ("view", "click", "buy"), ("de", "fr", "us", "br")
    for part in range(4):
        with open(events / f"part-{part}.json", "w") as out:
            for i in range(part * 750_000, (part + 1) * 750_000):
                record = {"event_id": i, "user": f"u{i % 20_000}", "kind": kinds[i % 3], "amount": (i * 7919) % 100_000 / 100,
                          "ts": 1_700_000_000 + i, "context": {"country": countries[i % 4], "mobile": i % 2 == 0}}
                out.write(json.dumps(record) + "\n")
    orders = workdir / "orders.csv"
    with open(orders, "w") as out:
        out.write("order_id,customer_id,amount,placed\n")
        for i in range(3_000_000):
            out.write(f"{i},{i % 5_000},{(i * 7919) % 100_000 / 100},2024-01-{1 + i % 28:02d}\n")
    reader = spark.read.schema("event_id BIGINT, user STRING, kind STRING, amount DOUBLE, ts BIGINT, "
                               "context STRUCT<country: STRING, mobile: BOOLEAN>") if fixed else spark.read
    _sink(reader.json(str(events)).groupBy("kind", "context.country").agg(F.sum("amount").alias("amount")))
    read = (spark.read.option("header", True).schema("order_id INT, customer_id INT, amount DOUBLE, placed DATE").csv(str(orders))
            if fixed else spark.read.option("header", True).option("inferSchema", True).csv(str(orders)))
    _sink(read.groupBy("customer_id").agg(F.sum("amount").alias("spent"), F.count("*").alias("orders")))


def sorted_aggregate(spark, workdir: Path, fixed: bool = False) -> None:
    """Per-key aggregates fingerprinted after the shuffle and sorted by the fingerprint (AQE on): the sort's range
    partitioning first runs the aggregation's last stage and the hashing to sample the keys, then runs them again to
    shuffle the rows. `fixed`: each partition is sorted (sortWithinPartitions), no total order."""
    from pyspark.sql import functions as F

    rows = spark.range(0, 4_000_000, 1, 4).select((F.col("id") % 1_000_000).alias("key"), (F.col("id") * 7919 % 1_000).alias("amount"))
    totals = rows.groupBy("key").agg(F.sum("amount").alias("total"), F.count("*").alias("orders"))
    fingerprint = F.concat_ws("|", "key", "total", "orders")
    for _ in range(12):  # per-row work after the shuffle, before the sort
        fingerprint = F.sha2(fingerprint, 512)
    fingerprinted = totals.withColumn("fingerprint", fingerprint)
    _sink(fingerprinted.sortWithinPartitions("fingerprint") if fixed else fingerprinted.orderBy("fingerprint"))


def unclustered_filter(spark, workdir: Path, fixed: bool = False) -> None:
    """A Parquet table of 6M events in arbitrary order, read by two selective queries: one customer's events (the
    predicate is pushed to the reader, but every row group holds every customer, so none is skipped) and one day's
    events through date_format(ts) (a function around the column: not pushed at all). Both scans read every row to
    keep a few thousand. `fixed`: the table is written ordered by customer_id and the day is a range on the raw ts
    column (pushed, though the files are not ordered by ts)."""
    from pyspark.sql import functions as F

    path = str(workdir / "events")
    rows = spark.range(0, 6_000_000, 1, 8).select(
        F.col("id").alias("event_id"), ((F.col("id") * 2654435761) % 100_000).alias("customer_id"),
        (F.col("id") % 1_000 / 10).alias("amount"),
        (F.lit(1_700_000_000) + (F.col("id") * 7919) % 31_536_000).cast("timestamp").alias("ts"),
        F.sha2(F.col("id").cast("string"), 256).alias("note"),
    )
    if fixed:
        rows = rows.repartitionByRange(8, "customer_id").sortWithinPartitions("customer_id")
    rows.write.mode("overwrite").parquet(path)
    events = spark.read.parquet(path)
    _sink(events.where(F.col("customer_id") == 4242).agg(F.sum("amount").alias("spent")))
    day = ((F.col("ts") >= F.lit("2024-03-01").cast("timestamp")) & (F.col("ts") < F.lit("2024-03-02").cast("timestamp"))
           if fixed else F.date_format("ts", "yyyy-MM-dd") == "2024-03-01")
    _sink(events.where(day).agg(F.sum("amount").alias("sold")))


def expanded_aggregates(spark, workdir: Path, fixed: bool = False) -> None:
    """Two aggregations whose plan copies every input row several times (an Expand): daily distinct counts of four id
    columns beside a sum over 4M events (five copies of each row, one per distinct column and one for the sum), and a
    cube over four low-cardinality dimensions of 8M rows (sixteen copies, one per grouping set); a third query
    unpivots two columns (an Expand too, and no problem). `fixed`: each distinct count is its own aggregation of the
    (day, column) pairs, joined by day (exact, no copies); the cube runs over the rows summed at its finest grain
    first."""
    from pyspark.sql import functions as F

    events = spark.range(0, 4_000_000, 1, 4).select(
        (F.col("id") % 90).alias("day"), (F.col("id") * 7919 % 1_500_000).alias("user_id"),
        (F.col("id") * 104729 % 2_500_000).alias("session_id"), (F.col("id") * 31 % 400_000).alias("page_id"),
        (F.col("id") * 13 % 60_000).alias("device_id"), (F.col("id") % 977).alias("amount"))
    ids = ["user_id", "session_id", "page_id", "device_id"]
    if fixed:
        daily = events.groupBy("day").agg(F.sum("amount").alias("amount"))
        for column in ids:
            distinct = events.select("day", column).distinct().groupBy("day").agg(F.count("*").alias(column))
            daily = daily.join(distinct, "day")
    else:
        daily = events.groupBy("day").agg(*[F.countDistinct(c).alias(c) for c in ids], F.sum("amount").alias("amount"))
    _sink(daily)
    sales = spark.range(0, 8_000_000, 1, 4).select(
        (F.col("id") % 90).alias("day"), (F.col("id") * 7 % 12).alias("region"), (F.col("id") * 13 % 40).alias("product"),
        (F.col("id") * 17 % 5).alias("channel"), (F.col("id") % 977).alias("amount"))
    dims = ["day", "region", "product", "channel"]
    if fixed:
        finest = sales.groupBy(*dims).agg(F.sum("amount").alias("amount"), F.count("*").alias("orders"))
        cube = finest.cube(*dims).agg(F.sum("amount").alias("amount"), F.sum("orders").alias("orders"))
    else:
        cube = sales.cube(*dims).agg(F.sum("amount").alias("amount"), F.count("*").alias("orders"))
    _sink(cube)
    # an Expand that is no problem: unpivot emits one row per listed column, which is what the query asks for
    wide = spark.range(0, 200_000, 1, 2).select((F.col("id") % 10).alias("shop"), F.col("id").alias("units"),
                                                (F.col("id") * 2).alias("returns"))
    _sink(wide.unpivot("shop", ["units", "returns"], "measure", "value").groupBy("shop", "measure").agg(F.sum("value")))


def dataframe_through_rdd(spark, workdir: Path, fixed: bool = False) -> None:
    """A DataFrame of 2M orders checked for emptiness with df.rdd.isEmpty(), then taxed per row with df.rdd.map (a
    Python lambda) and turned back into a DataFrame with toDF() to be summed per customer: every row is pickled to a
    Python worker and back, and toDF first runs a job of its own to sample rows for the column types. `fixed`:
    orders.isEmpty() and the same arithmetic as a built-in column expression (F.when)."""
    from pyspark.sql import functions as F

    orders = spark.range(0, 2_000_000, 1, 4).select(
        (F.col("id") % 5_000).alias("customer_id"), ((F.col("id") * 7919) % 100_000 / 100).alias("amount"),
        (F.col("id") % 7).alias("channel"))
    if orders.isEmpty() if fixed else orders.rdd.isEmpty():
        return
    if fixed:
        taxed = orders.select("customer_id", F.when(F.col("channel") == 3, F.col("amount") * 1.2)
                              .otherwise(F.col("amount")).alias("gross"))
    else:
        taxed = orders.rdd.map(
            lambda row: (row.customer_id, row.amount * 1.2 if row.channel == 3 else row.amount)
        ).toDF(["customer_id", "gross"])
    _sink(taxed.groupBy("customer_id").agg(F.sum("gross").alias("gross")))


DERBY_DRIVER = "org.apache.derby.iapi.jdbc.AutoloadedDriver"  # the embedded Derby database pyspark's jars include


def jdbc_one_partition(spark, workdir: Path, fixed: bool = False) -> None:
    """A table written to a database (embedded Derby) and read back over JDBC with no partitioning options, each row
    fingerprinted, then aggregated: one task reads and hashes every row while the other core waits. `fixed`: the read
    is split on order_id (partitionColumn, lowerBound, upperBound, numPartitions=4)."""
    from pyspark.sql import functions as F

    url = f"jdbc:derby:{workdir / 'shop'};create=true"
    connection = {"driver": DERBY_DRIVER, "user": "copilot", "password": "derby-secret"}
    orders = spark.range(0, 1_500_000, 1, 4).select(
        F.col("id").alias("order_id"), (F.col("id") % 5_000).alias("customer_id"),
        ((F.col("id") * 7919) % 100_000 / 100).alias("amount"), F.sha2(F.col("id").cast("string"), 256).alias("note"))
    orders.write.jdbc(url, "ORDERS", mode="overwrite", properties=connection)
    split = {"column": "order_id", "lowerBound": 0, "upperBound": 1_500_000, "numPartitions": 4} if fixed else {}
    read = spark.read.jdbc(url, "ORDERS", properties=connection, **split)
    fingerprint = F.concat_ws("|", "order_id", "customer_id", "amount", "note")
    for _ in range(6):  # a chain of hashes: per-row work that runs in the read's one task
        fingerprint = F.sha2(fingerprint, 512)
    _sink(read.withColumn("fingerprint", fingerprint).groupBy("customer_id").agg(
        F.sum("amount").alias("spent"), F.count("*").alias("orders"), F.max("fingerprint").alias("last")))


def skewed_outer_join(spark, workdir: Path, fixed: bool = False) -> None:
    """Customers LEFT JOIN their orders, 95% of the 8M orders on customer 0 (AQE's skew-join handling on, with low
    thresholds): AQE splits only the preserved side of an outer join, so the hot partition of the orders side stays
    one task. Then the orders LEFT JOIN customers, whose skew is on the preserved side: AQE splits it.
    `fixed`: the orders are aggregated per customer before the first join (the hot customer becomes one row), and
    the per-customer totals are summed per region after it."""
    from pyspark.sql import functions as F

    hot = F.when(F.col("id") % 20 < 19, F.lit(0)).otherwise(F.col("id") % 50_000)
    orders = spark.range(0, 8_000_000, 1, 8).select(hot.alias("customer_id"), (F.col("id") % 101).alias("amount"))
    customers = spark.range(60_000).select(F.col("id").alias("customer_id"), (F.col("id") % 37).alias("region"))
    if fixed:
        totals = orders.groupBy("customer_id").agg(
            F.sum("amount").alias("amount"), F.sum(_order_digest(orders)).alias("digest"), F.count("*").alias("n"))
        joined = customers.join(totals, "customer_id", "left")
        _sink(joined.groupBy("region").agg(F.sum("amount"), F.sum("digest"), F.sum("n")))
    else:
        joined = customers.join(orders, "customer_id", "left")
        _sink(joined.groupBy("region").agg(F.sum("amount"), F.sum(_order_digest(joined)), F.count("amount")))
    split = orders.join(customers, "customer_id", "left")
    _sink(split.groupBy("region").agg(F.sum("amount"), F.sum(_order_digest(split)), F.count("*")))


def _order_digest(joined):
    """A per-row checksum of a joined order (SHA-256 of its key and amount): work that runs where the join does."""
    from pyspark.sql import functions as F

    return F.crc32(F.sha2(F.concat_ws("-", joined["customer_id"], joined["amount"]), 256))


def exploded_regroup(spark, workdir: Path, fixed: bool = False) -> None:
    """1M orders stored as Parquet with their 20 line items in an array (price, quantity), exploded to 20M rows and
    grouped back by order id to total each order and count its bulk lines: the 20M rows are shuffled to rebuild
    groups each order already was; then the lines of quantity above 1, discounted, collected back into an array per
    order. `fixed`: the totals, counts and discounted arrays computed within each row with the higher-order
    functions aggregate, filter and transform: no explode, no shuffle."""
    from pyspark.sql import functions as F

    path = str(workdir / "orders")
    spark.range(1_000_000).select(
        F.col("id").alias("order_id"),
        F.transform(F.sequence(F.lit(1), F.lit(20)), lambda i: F.struct(
            ((F.col("id") * 7 + i) % 97 + 1).alias("price"), (i % 3 + 1).alias("quantity"))).alias("items"),
    ).write.mode("overwrite").parquet(path)
    orders = spark.read.parquet(path)
    if fixed:
        totals = orders.select(
            "order_id",
            F.aggregate("items", F.lit(0).cast("bigint"), lambda total, x: total + x["price"] * x["quantity"]).alias("total"),
            F.size(F.filter("items", lambda x: x["quantity"] > 1)).alias("bulk_lines"))
        discounted = orders.select("order_id", F.transform(
            F.filter("items", lambda x: x["quantity"] > 1),
            lambda x: F.struct((x["price"] * 9 / 10).alias("price"), x["quantity"].alias("quantity"))).alias("items"))
    else:
        lines = orders.select("order_id", F.explode("items").alias("item"))
        totals = lines.groupBy("order_id").agg(
            F.sum(F.col("item.price") * F.col("item.quantity")).alias("total"),
            F.count(F.when(F.col("item.quantity") > 1, 1)).alias("bulk_lines"))
        discounted = lines.where(F.col("item.quantity") > 1).groupBy("order_id").agg(F.collect_list(F.struct(
            (F.col("item.price") * 9 / 10).alias("price"), F.col("item.quantity").alias("quantity"))).alias("items"))
    _sink(totals)
    _sink(discounted)


def limit_sample(spark, workdir: Path, fixed: bool = False) -> None:
    """A sample of 3M of 4M events taken with limit(3_000_000), each fingerprinted (four SHA-512 rounds) and the
    fingerprints' maximum kept per country: limit gathers its rows into one partition, so the hashing after it
    runs in one task while the other core waits. `fixed`: sample(fraction=0.75, seed=7), which keeps each
    partition's share of the rows where it is (about as many rows, not the first ones)."""
    from pyspark.sql import functions as F

    events = spark.range(0, 4_000_000, 1, 8).select(F.col("id"), (F.col("id") % 50).alias("country"))
    picked = events.sample(fraction=0.75, seed=7) if fixed else events.limit(3_000_000)
    fingerprint = F.col("id").cast("string")
    for _ in range(4):
        fingerprint = F.sha2(fingerprint, 512)
    _sink(picked.withColumn("fingerprint", fingerprint).groupBy("country").agg(
        F.count("*").alias("events"), F.max("fingerprint").alias("last")))


def repartition_then_group(spark, workdir: Path, fixed: bool = False) -> None:
    """10M payments read from Parquet, repartition(64) "for parallelism", then totals per customer: the
    round-robin shuffle moves every row once before the aggregation's own shuffle by customer moves them again
    (the scan already ran in as many tasks as there are cores). `fixed`: no repartition; the aggregation's partial
    step runs in the scan tasks and only its per-customer rows are shuffled."""
    from pyspark.sql import functions as F

    path = str(workdir / "payments")
    spark.range(0, 10_000_000, 1, 8).select(
        (F.col("id") % 5000).alias("customer"), (F.col("id") * 7 % 1000).alias("amount"),
        F.sha2(F.col("id").cast("string"), 256).substr(1, 16).alias("reference")).write.mode("overwrite").parquet(path)
    payments = spark.read.parquet(path)
    if not fixed:
        payments = payments.repartition(64)
    _sink(payments.where(F.col("amount") > 10).groupBy("customer").agg(
        F.sum("amount").alias("total"), F.count("*").alias("payments"), F.sum(F.crc32("reference")).alias("checksum")))


def skewed_group_apply(spark, workdir: Path, fixed: bool = False) -> None:
    """10M payments, 90% from one customer, summarised per customer in pandas with groupBy().applyInPandas (mean,
    largest and 95th percentile of the amounts): the hot customer's 9M rows go to one Python call in one task while
    the other core waits, and no setting splits a group. `fixed`: the same figures from built-in aggregations (avg,
    max, percentile_approx), whose partial step runs in every task that reads the rows, so the hot customer is
    spread over them."""
    from pyspark.sql import functions as F

    payments = spark.range(0, 10_000_000, 1, 8).select(
        F.when(F.col("id") % 10 < 9, F.lit(0)).otherwise(F.col("id") % 20_000).alias("customer"),
        (F.col("id") * 7 % 1000).cast("double").alias("amount"))
    if fixed:
        summary = payments.groupBy("customer").agg(F.avg("amount").alias("mean"), F.max("amount").alias("largest"),
                                                    F.percentile_approx("amount", 0.95).alias("p95"))
    else:
        summary = payments.groupBy("customer").applyInPandas(
            _summarise_amounts, "customer long, mean double, largest double, p95 double")
    _sink(summary)


def _summarise_amounts(group):
    """One customer's payments (a pandas DataFrame) -> one row: mean, largest and 95th percentile amount."""
    import pandas as pd

    amounts = group["amount"]
    return pd.DataFrame({"customer": [group["customer"].iloc[0]], "mean": [amounts.mean()],
                         "largest": [amounts.max()], "p95": [amounts.quantile(0.95)]})


def multiline_json(spark, workdir: Path, fixed: bool = False) -> None:
    """3M orders exported as one JSON array (written here by Python, as another system would export them), read with
    the multiLine option that an array needs, each note fingerprinted (four SHA-512 rounds) and the orders aggregated
    per customer: multiLine makes Spark parse each file whole, so one task reads the 400 MB file and fingerprints
    every row while the other core waits. `fixed`: the same orders exported as JSON Lines (one record per
    line) and read without multiLine, so the file splits at the 128 MB split size."""
    import hashlib
    import json

    from pyspark.sql import functions as F

    path = workdir / ("orders.jsonl" if fixed else "orders.json")
    with path.open("w") as out:
        out.write("" if fixed else "[\n")
        for i in range(3_000_000):
            record = json.dumps({"order_id": i, "customer_id": i % 5_000, "amount": (i * 7919) % 100_000 / 100,
                                 "note": hashlib.sha256(str(i).encode()).hexdigest()})
            out.write(record + "\n" if fixed else ("" if i == 0 else ",\n") + record)
        out.write("" if fixed else "\n]\n")
    schema = "order_id long, customer_id long, amount double, note string"
    reader = spark.read.schema(schema) if fixed else spark.read.schema(schema).option("multiLine", True)
    fingerprint = F.col("note")
    for _ in range(4):
        fingerprint = F.sha2(fingerprint, 512)
    orders = reader.json(str(path)).withColumn("fingerprint", fingerprint)
    _sink(orders.groupBy("customer_id").agg(F.sum("amount").alias("spent"), F.count("*").alias("orders"),
                                            F.max("fingerprint").alias("last")))


def _events_by_day(spark, workdir: Path):
    """8M events (event_id, customer_id, amount) written as Parquet partitioned by day, 60 days of one file each (the
    rows repartitioned by day first, as such a table is written), read back."""
    from pyspark.sql import functions as F

    path = str(workdir / "events_by_day")
    spark.range(0, 8_000_000, 1, 8).select(
        F.col("id").alias("event_id"), ((F.col("id") * 2654435761) % 100_000).alias("customer_id"),
        (F.col("id") % 1_000 / 10).alias("amount"), (F.col("id") % 60).alias("day"),
    ).repartition("day").write.partitionBy("day").mode("overwrite").parquet(path)
    return spark.read.parquet(path)


def udf_partition_filter(spark, workdir: Path, fixed: bool = False) -> None:
    """8M events in a table partitioned by day (60 days), read for the last three days through a Python UDF on the
    day column, then summed per customer: Spark cannot prune partitions by a Python UDF, so the scan reads all 60
    partitions and the UDF runs on every row. `fixed`: the same days as a comparison on the column (day >= 57),
    which Spark turns into a partition filter: it reads 3 partitions."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import BooleanType

    @F.udf(returnType=BooleanType())
    def recent(day):
        return day >= 57

    events = _events_by_day(spark, workdir)
    wanted = F.col("day") >= 57 if fixed else recent("day")
    _sink(events.where(wanted).groupBy("customer_id").agg(F.sum("amount").alias("spent")))


def union_of_filters(spark, workdir: Path, fixed: bool = False) -> None:
    """8M orders written as Parquet, then taxed per region the way a loop builds it: one filtered copy of the orders
    per region (8 regions), each with its rate, unioned (unionByName) and summed per customer. Each copy is a scan of
    its own: one query reads the files 8 times, each time to keep an eighth of the rows. `fixed`: one read, the rate
    from a join with a broadcast 8-row table of the rates."""
    from functools import reduce

    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    path = str(workdir / "orders")
    spark.range(0, 8_000_000, 1, 8).select(
        F.col("id").alias("order_id"), ((F.col("id") * 2654435761) % 100_000).alias("customer_id"),
        (F.col("id") % 8).alias("region"), ((F.col("id") * 7919) % 100_000 / 100).alias("amount"),
        F.md5(F.col("id").cast("string")).alias("note"),
    ).write.mode("overwrite").parquet(path)
    orders = spark.read.parquet(path)
    rates = [0.05, 0.07, 0.10, 0.20, 0.15, 0.08, 0.12, 0.06]
    if fixed:
        table = spark.createDataFrame(list(enumerate(rates)), "region long, rate double")
        taxed = orders.join(F.broadcast(table), "region").withColumn("tax", F.col("amount") * F.col("rate"))
    else:
        taxed = reduce(DataFrame.unionByName, [orders.where(F.col("region") == region)
                                               .withColumn("tax", F.col("amount") * rate)
                                               for region, rate in enumerate(rates)])
    _sink(taxed.groupBy("customer_id").agg(F.sum("tax").alias("tax")))


def overpartitioned_write(spark, workdir: Path, fixed: bool = False) -> None:
    """2M events (25 MB as Parquet) written partitioned by customer_id, which has 500 values: each of the 8 writing
    tasks holds rows of every customer and writes a file into each customer's directory, 4,000 files of a few KiB.
    `fixed`: partitioned by region (customer_id % 8), a column with few values: 64 files."""
    from pyspark.sql import functions as F

    events = spark.range(0, 2_000_000, 1, 8).select(
        F.col("id").alias("event_id"), (F.col("id") % 500).alias("customer_id"),
        ((F.col("id") * 7919) % 100_000 / 100).alias("amount"))
    if fixed:
        events.withColumn("region", F.col("customer_id") % 8).write.partitionBy("region").parquet(str(workdir / "events"))
    else:
        events.write.partitionBy("customer_id").parquet(str(workdir / "events"))


def cached_then_filtered(spark, workdir: Path, fixed: bool = False) -> None:
    """8M events in a table partitioned by day (60 days), read and cached whole, then two queries over its last three
    days (totals per customer, a count and a maximum), each filtering the cached DataFrame on day: the cache reads
    and stores all 60 partitions, and a filter applied to a cache prunes nothing. `fixed`: the filter on day comes
    before cache(), so the scan reads 3 partitions and the cache holds their rows."""
    from pyspark.sql import functions as F

    events = _events_by_day(spark, workdir)
    events = (events.where(F.col("day") >= 57) if fixed else events).cache()
    recent = events.where(F.col("day") >= 57)
    _sink(recent.groupBy("customer_id").agg(F.sum("amount").alias("spent")))
    _sink(recent.agg(F.count("*").alias("events"), F.max("amount").alias("largest")))
    events.unpersist()


def cached_wide_table(spark, workdir: Path, fixed: bool = False) -> None:
    """A Parquet table of 3M orders with 30 columns (ids, amounts, measures, notes), read and cached whole, then two
    queries that use three of its columns (revenue per customer, and the count and largest amount of one status): the
    cache reads, encodes and stores all 30 columns, where a scan of the files would read three. `fixed`: the three
    columns are selected before cache()."""
    from pyspark.sql import functions as F

    path = str(workdir / "wide_orders")
    extra = [(F.col("id") * (k + 3) % 10_007 / 7).alias(f"measure_{k}") for k in range(20)]
    notes = [F.sha1((F.col("id") + k).cast("string")).alias(f"note_{k}") for k in range(6)]
    spark.range(0, 3_000_000, 1, 8).select(
        F.col("id").alias("order_id"), ((F.col("id") * 2654435761) % 100_000).alias("customer_id"),
        (F.col("id") % 1_000 / 10).alias("amount"), (F.col("id") % 5).alias("status"), *extra, *notes,
    ).write.mode("overwrite").parquet(path)
    orders = spark.read.parquet(path)
    orders = (orders.select("customer_id", "amount", "status") if fixed else orders).cache()
    _sink(orders.groupBy("customer_id").agg(F.sum("amount").alias("revenue")))
    _sink(orders.where(F.col("status") == 3).agg(F.count("*").alias("orders"), F.max("amount").alias("largest")))
    orders.unpersist()


def summary_recomputed(spark, workdir: Path, fixed: bool = False) -> None:
    """4M orders joined to 1M customers (both Parquet) and summed per segment, country and day: a summary that three
    actions use without keeping it (written out, its ten largest rows shown, its grand total logged). Each action
    runs the join and the aggregation again from the files. `fixed`: the summary is persisted (memory and disk)
    before the first action and unpersisted after the last."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    orders_path, customers_path = str(workdir / "orders"), str(workdir / "customers")
    spark.range(0, 4_000_000, 1, 8).select(
        F.col("id").alias("order_id"), ((F.col("id") * 2654435761) % 1_000_000).alias("customer_id"),
        (F.col("id") % 1_000 / 10).alias("amount"), (F.col("id") % 30).alias("day"),
    ).write.mode("overwrite").parquet(orders_path)
    spark.range(0, 1_000_000, 1, 4).select(
        F.col("id").alias("customer_id"), (F.col("id") % 7).alias("segment"), (F.col("id") % 40).alias("country"),
        F.sha1(F.col("id").cast("string")).alias("email_hash"),
    ).write.mode("overwrite").parquet(customers_path)
    orders, customers = spark.read.parquet(orders_path), spark.read.parquet(customers_path)
    summary = orders.join(customers, "customer_id").groupBy("segment", "country", "day").agg(
        F.sum("amount").alias("revenue"), F.count("*").alias("orders"))
    if fixed:
        summary = summary.persist(StorageLevel.MEMORY_AND_DISK)
    summary.write.mode("overwrite").parquet(str(workdir / "summary"))
    summary.orderBy(F.desc("revenue")).limit(10).collect()
    logging.getLogger(__name__).info("total revenue %s", summary.agg(F.sum("revenue")).first()[0])
    if fixed:
        summary.unpersist()


def iterative_ranks(spark, workdir: Path, fixed: bool = False) -> None:
    """Scores passed along 2M links between 200,000 pages (Parquet) for six passes, each pass a join of the scores to
    the links and a sum per target page, followed by the largest score as a convergence check: every pass extends
    the same DataFrame, so pass k runs all k joins and aggregations again. `fixed`: each pass's scores are cut from
    their plan with localCheckpoint() before the check."""
    from pyspark.sql import functions as F

    path = str(workdir / "links")
    spark.range(0, 2_000_000, 1, 8).select(
        (F.col("id") % 200_000).alias("src"), ((F.col("id") * 2654435761) % 200_000).alias("dst"),
        (F.col("id") % 10 / 10).alias("weight"),
    ).write.mode("overwrite").parquet(path)
    links = spark.read.parquet(path)
    scores = links.select(F.col("src").alias("page")).distinct().withColumn("score", F.lit(1.0))
    for _ in range(6):
        scores = (links.join(scores, links.src == scores.page).groupBy(F.col("dst").alias("page"))
                  .agg((F.sum(F.col("score") * F.col("weight")) * 0.85 + 0.15).alias("score")))
        if fixed:
            scores = scores.localCheckpoint()
        scores.agg(F.max("score")).first()


def latest_by_self_join(spark, workdir: Path, fixed: bool = False) -> None:
    """8M address updates of 500,000 customers (Parquet), cut to each customer's latest update the way SQL often
    writes it: the updates joined to their own maximum timestamp per customer, so the files are read twice and every
    update is shuffled for the join. `fixed`: one aggregation takes the whole latest row per customer as the maximum
    of a struct led by the timestamp."""
    from pyspark.sql import functions as F

    path = str(workdir / "updates")
    spark.range(0, 8_000_000, 1, 8).select(
        ((F.col("id") * 2654435761) % 500_000).alias("customer_id"), (F.col("id") * 7919 % 100_000_000).alias("ts"),
        (F.col("id") % 40).alias("region"), F.sha1(F.col("id").cast("string")).alias("street"),
    ).write.mode("overwrite").parquet(path)
    updates = spark.read.parquet(path)
    if fixed:
        latest = updates.groupBy("customer_id").agg(F.max(F.struct("ts", "region", "street")).alias("last")).select(
            "customer_id", "last.ts", "last.region", "last.street")
    else:
        newest = updates.groupBy("customer_id").agg(F.max("ts").alias("ts"))
        latest = updates.join(newest, ["customer_id", "ts"])
    _sink(latest)


def _add(function: Callable[..., None], conf: dict[str, str] | None = None, master: str = "local[2]") -> None:
    spec = ProblemWorkload(
        name=function.__name__, description=(function.__doc__ or "").strip(), conf=conf or {}, master=master
    )
    WORKLOADS[spec.name] = (function, spec)


_add(
    skewed_join,
    {
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.skewJoin.enabled": "false",
        "spark.sql.adaptive.coalescePartitions.enabled": "false",
        "spark.sql.autoBroadcastJoinThreshold": "-1",
        "spark.sql.shuffle.partitions": "16",
    },
)
_add(
    spilling_sort,
    {
        "spark.sql.shuffle.partitions": "2",
        "spark.sql.adaptive.enabled": "false",
        "spark.memory.fraction": "0.1",
        "spark.shuffle.spill.numElementsForceSpillThreshold": "20000",
    },
)
_add(
    spread_spill,
    {
        "spark.sql.shuffle.partitions": "2",
        "spark.sql.adaptive.enabled": "false",
        "spark.memory.fraction": "0.1",
        "spark.shuffle.spill.numElementsForceSpillThreshold": "20000",
    },
)
_add(tiny_output_files, {"spark.sql.adaptive.enabled": "true"})
_add(many_shuffle_partitions, {"spark.sql.shuffle.partitions": "2000", "spark.sql.adaptive.enabled": "false"})
_add(
    one_shuffle_partition,
    {
        "spark.sql.shuffle.partitions": "1",
        "spark.sql.adaptive.enabled": "false",
        "spark.sql.autoBroadcastJoinThreshold": "-1",
    },
)
# Spark 4.x evaluates plain Python UDFs with Arrow by default (pythonUDF.arrow.enabled): switch it off to get
# the row-at-a-time evaluation this workload is about (Spark 3.x's default)
_add(python_row_udf, {"spark.sql.adaptive.enabled": "true", "spark.sql.execution.pythonUDF.arrow.enabled": "false"})
_add(pandas_vectorized_udf, {"spark.sql.adaptive.enabled": "true"})
_add(cross_join, {"spark.sql.crossJoin.enabled": "true", "spark.sql.autoBroadcastJoinThreshold": "-1"})
_add(nested_loop_joins, {"spark.sql.shuffle.partitions": "8"})
_add(retried_tasks, {"spark.task.maxFailures": "4"}, master="local[2,4]")
_add(rdd_java_shuffle)
_add(partitioned_full_scan)
_add(lost_shuffle_files, {"spark.local.dir": "{workdir}/local"})
_add(missed_broadcast, {"spark.sql.autoBroadcastJoinThreshold": "-1", "spark.sql.adaptive.enabled": "true"})
_add(cancelled_job, {"spark.sql.adaptive.enabled": "true"})
_add(stopped_stream, {"spark.sql.shuffle.partitions": "8"})
_add(lagging_stream, {"spark.sql.execution.pythonUDF.arrow.enabled": "false"})
_add(failed_stream)
_add(cache_read_once, {"spark.sql.adaptive.enabled": "true"})
_add(exploding_join)
_add(repeated_read)
_add(filter_loop, {"spark.sql.shuffle.partitions": "8"})
_add(window_without_partition, {"spark.sql.shuffle.partitions": "8"})
_add(jdbc_one_partition, {"spark.sql.shuffle.partitions": "8"})
_add(gzip_csv_input, {"spark.sql.shuffle.partitions": "8"})
_add(coalesced_write)
_add(inferred_schema)
_add(unclustered_filter)
_add(expanded_aggregates, {"spark.sql.shuffle.partitions": "8"})
_add(exploded_regroup, {"spark.sql.shuffle.partitions": "8"})
_add(limit_sample, {"spark.sql.shuffle.partitions": "8"})
_add(repartition_then_group, {"spark.sql.shuffle.partitions": "8"})
_add(multiline_json, {"spark.sql.shuffle.partitions": "8"})
_add(union_of_filters, {"spark.sql.shuffle.partitions": "8"})
_add(overpartitioned_write)
_add(cached_then_filtered, {"spark.sql.shuffle.partitions": "8"})
_add(cached_wide_table, {"spark.sql.shuffle.partitions": "8"})
_add(summary_recomputed, {"spark.sql.shuffle.partitions": "8"})
_add(iterative_ranks, {"spark.sql.shuffle.partitions": "8"})
_add(latest_by_self_join, {"spark.sql.shuffle.partitions": "8"})
_add(udf_partition_filter, {"spark.sql.shuffle.partitions": "8", "spark.sql.execution.pythonUDF.arrow.enabled": "false"})
_add(skewed_group_apply, {"spark.sql.shuffle.partitions": "8",
                          "spark.sql.adaptive.coalescePartitions.parallelismFirst": "false",
                          "spark.sql.adaptive.coalescePartitions.minPartitionSize": "16KB",
                          "spark.sql.adaptive.advisoryPartitionSizeInBytes": "64KB"})
_add(dataframe_through_rdd, {"spark.sql.shuffle.partitions": "8"})
_add(sorted_aggregate, {"spark.sql.adaptive.enabled": "true", "spark.sql.shuffle.partitions": "8"})
_add(skewed_window, {"spark.sql.adaptive.enabled": "true", "spark.sql.shuffle.partitions": "8",
                     "spark.sql.adaptive.advisoryPartitionSizeInBytes": "1MB"})
_add(
    aqe_skew_split,
    {
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.skewJoin.enabled": "true",
        "spark.sql.autoBroadcastJoinThreshold": "-1",
        "spark.sql.shuffle.partitions": "16",
        "spark.sql.adaptive.advisoryPartitionSizeInBytes": "256KB",
        "spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes": "1MB",
        "spark.sql.adaptive.skewJoin.skewedPartitionFactor": "2",
    },
)
_add(
    skewed_outer_join,
    {
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.skewJoin.enabled": "true",
        "spark.sql.autoBroadcastJoinThreshold": "-1",
        "spark.sql.shuffle.partitions": "64",
        "spark.sql.adaptive.coalescePartitions.parallelismFirst": "false",
        "spark.sql.adaptive.coalescePartitions.minPartitionSize": "64KB",
        "spark.sql.adaptive.advisoryPartitionSizeInBytes": "256KB",
        "spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes": "1MB",
        "spark.sql.adaptive.skewJoin.skewedPartitionFactor": "2",
    },
)
_add(
    healthy,
    {
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.shuffle.partitions": "8",
        "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
    },
)


# PySpark's SparkSession.builder keeps options from one session to the next in the same process, so every
# key any workload sets is reset to Spark's default for the workloads that do not set it.
SPARK_DEFAULTS: dict[str, str] = {
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.skewJoin.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.sql.autoBroadcastJoinThreshold": "10MB",
    "spark.sql.shuffle.partitions": "8",
    "spark.memory.fraction": "0.6",
    "spark.shuffle.spill.numElementsForceSpillThreshold": "2147483647",
    "spark.sql.crossJoin.enabled": "true",
    "spark.sql.execution.pythonUDF.arrow.enabled": "true",
    "spark.task.maxFailures": "4",
    "spark.serializer": "org.apache.spark.serializer.JavaSerializer",
    "spark.local.dir": "/tmp",
    "spark.sql.adaptive.advisoryPartitionSizeInBytes": "64MB",
    "spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes": "256MB",
    "spark.sql.adaptive.skewJoin.skewedPartitionFactor": "5",
    "spark.sql.adaptive.coalescePartitions.parallelismFirst": "true",
    "spark.sql.adaptive.coalescePartitions.minPartitionSize": "1MB",
}


def generate(out_dir: Path, only: list[str] | None = None) -> dict[str, Path]:
    """Run the named workloads (all by default); return name -> `out_dir/<name>.zstd`."""
    from evals.workloads.runner import run_workload

    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in only or list(WORKLOADS):
        function, spec = WORKLOADS[name]
        with tempfile.TemporaryDirectory(prefix=f"problem-{name}-") as tmp:
            log = run_workload(
                function,
                Path(tmp) / "logs",
                f"problem={name}",
                conf={k: v.format(workdir=tmp) for k, v in {**LOG_CONF, **SPARK_DEFAULTS, **spec.conf}.items()},
                master=spec.master,
                workdir=Path(tmp),
            )
            target = out_dir / f"{name}.zstd"
            shutil.copyfile(log, target)
        written[name] = target
        print(f"{name} -> {target} ({target.stat().st_size} bytes)", flush=True)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the event logs")
    parser.add_argument("--only", nargs="*", choices=sorted(WORKLOADS), help="run only these workloads")
    args = parser.parse_args(argv)
    generate(args.out, args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
