"""`copilot batch --engine spark`: the same per-log analysis as a Spark job, for fleets beyond one machine.

The driver discovers the logs; their paths become an RDD; each partition runs
`copilot.batch.analyze_log` (the function the local workers run) on its logs.
Results are written as Parquet (`applications/` with one row per log and its
findings nested, `findings/` with one row per finding) and, unless told not to,
loaded into the history store by the driver, the store's single writer.

Works against whatever master the SparkSession points at. The executors need the
package installed (see docs/batch.md for `spark-submit`) and must be able to read
the log paths (shared storage or object-store URLs). Also runnable as
`spark-submit copilot/batch_spark.py SOURCE --out DIR`.
"""

from __future__ import annotations

import time
from pathlib import Path

from copilot.batch.runner import BatchSummary, FailedLog, discover
from copilot.store.db import Store
from copilot.store.fleet import fleet_view
from copilot.store.records import LogOutcome
from copilot.store.writer import finish_run, start_run, stored_hashes, write_outcomes

LOAD_GROUP = 64

FINDING_FIELDS = (
    ("rule_id", "string"), ("category", "string"), ("severity", "string"), ("title", "string"),
    ("savings_core_ms", "double"), ("savings_cost", "double"),
)


def _schema():
    from pyspark.sql import types as T

    finding = T.StructType([
        T.StructField(name, T.DoubleType() if kind == "double" else T.StringType()) for name, kind in FINDING_FIELDS
    ])
    return T.StructType([
        T.StructField("log_path", T.StringType(), False),
        T.StructField("log_hash", T.StringType()),
        T.StructField("log_bytes", T.LongType()),
        T.StructField("status", T.StringType(), False),
        T.StructField("reason", T.StringType()),
        T.StructField("app_id", T.StringType()),
        T.StructField("app_name", T.StringType()),
        T.StructField("duration_ms", T.LongType()),
        T.StructField("cost", T.DoubleType()),
        T.StructField("analysis_ms", T.DoubleType()),
        T.StructField("findings", T.ArrayType(finding)),
        T.StructField("outcome_json", T.StringType()),
    ])


def outcome_row(outcome: LogOutcome) -> tuple:
    """One Parquet row per log: the outcome's key columns, its findings, and the full outcome as JSON."""
    record = outcome.record
    findings = [
        (f.rule_id, f.category, f.severity.value, f.title, f.estimated_savings.core_ms, f.estimated_savings.cost)
        for f in (record.findings if record else [])
    ]
    return (
        outcome.log.log_path, outcome.log.log_hash or None, outcome.log.log_bytes, outcome.status, outcome.reason,
        record.app_id if record else None, record.app_name if record else None,
        record.duration_ms if record else None, record.cost if record else None,
        outcome.elapsed_ms, findings, outcome.model_dump_json(),
    )


def _analyze_partition(refs, skip, settings, full_report):
    from copilot.batch.worker import analyze_log

    for ref in refs:
        yield outcome_row(analyze_log(ref, skip, settings, full_report))


def spark_session(master: str | None = None, app_name: str = "spark-copilot-batch"):
    """The user's active SparkSession, or one built from spark-submit / spark-defaults (or `master`)."""
    import os
    import sys

    from pyspark.sql import SparkSession

    if master and master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # local workers use this interpreter

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    return builder.getOrCreate()


def run_spark_batch(
    source: str,
    out_dir: Path | str,
    *,
    store: Store | None = None,
    spark=None,
    master: str | None = None,
    partitions: int | None = None,
    force: bool = False,
    include_incomplete: bool = False,
    top_n: int = 10,
    full_reports: bool = False,
    settings=None,
) -> BatchSummary:
    """Analyze every log under `source` as a Spark job; Parquet to `out_dir/<run id>/`, then into `store`."""
    from copilot.settings import get_settings

    settings = settings or get_settings()
    started = time.perf_counter()
    spark = spark or spark_session(master)
    sc = spark.sparkContext
    refs = discover(source, include_incomplete)
    run_id = start_run(store, source, "spark", sc.defaultParallelism) if store else f"spark-{int(time.time())}"
    skip = frozenset() if force or store is None else frozenset(stored_hashes(store))
    summary = BatchSummary(run_id=run_id, source=source, engine="spark", workers=sc.defaultParallelism,
                           discovered=len(refs), store_path=str(store.path) if store else "")
    target = f"{str(out_dir).rstrip('/')}/{run_id}"
    status = "interrupted"
    try:
        if refs:
            slices = partitions or min(len(refs), max(sc.defaultParallelism * 4, 1))
            skip_b = sc.broadcast(skip)
            rows = sc.parallelize(refs, slices).mapPartitions(
                lambda it: _analyze_partition(it, skip_b.value, settings, full_reports)
            )
            frame = spark.createDataFrame(rows, _schema()).persist()
            frame.write.mode("overwrite").parquet(f"{target}/applications")
            frame.selectExpr("log_hash", "app_id", "app_name", "inline(findings)").write.mode("overwrite").parquet(
                f"{target}/findings"
            )
            counts = dict(frame.groupBy("status").count().collect())
            summary.analyzed, summary.skipped, summary.failed = (counts.get(k, 0) for k in ("analyzed", "skipped", "failed"))
            summary.bytes_analyzed = frame.where("status = 'analyzed'").agg({"log_bytes": "sum"}).collect()[0][0] or 0
            summary.failures = [FailedLog(log_path=r.log_path, reason=r.reason or "unknown")
                                for r in frame.where("status = 'failed'").select("log_path", "reason").collect()]
            hashes = [r.log_hash for r in frame.where("status != 'failed'").select("log_hash").collect()]
            if store is not None:
                load_parquet_into_store(f"{target}/applications", store, run_id, spark)
            frame.unpersist()
        else:
            hashes = []
        status = "complete"
    finally:
        if store is not None:
            finish_run(store, run_id, status, discovered=summary.discovered, analyzed=summary.analyzed,
                       skipped=summary.skipped, failed=summary.failed, bytes_analyzed=summary.bytes_analyzed)
    summary.status = status
    summary.elapsed_s = time.perf_counter() - started
    if summary.elapsed_s > 0:
        summary.apps_per_s = (summary.analyzed + summary.failed) / summary.elapsed_s
        summary.mb_per_s = summary.bytes_analyzed / 1e6 / summary.elapsed_s
    if store is not None:
        summary.fleet = fleet_view(store, hashes, top_n=top_n)
    return summary


def load_parquet_into_store(applications_path: str, store: Store, run_id: str | None = None, spark=None) -> int:
    """Load a Spark batch's `applications` Parquet into the store, a group of logs per transaction."""
    frame = spark.read.parquet(applications_path).where("status != 'skipped'").select("outcome_json")
    group: list[LogOutcome] = []
    written = 0
    for row in frame.toLocalIterator():
        group.append(LogOutcome.model_validate_json(row.outcome_json))
        if len(group) >= LOAD_GROUP:
            written += write_outcomes(store, group, run_id)
            group = []
    written += write_outcomes(store, group, run_id)
    return written


def main(argv: list[str] | None = None) -> None:
    """Entry point for `spark-submit copilot/batch_spark.py SOURCE --out DIR [--store PATH]`."""
    import argparse

    parser = argparse.ArgumentParser(prog="batch_spark", description=__doc__.split("\n")[0])
    parser.add_argument("source")
    parser.add_argument("--out", required=True, help="Parquet output folder (any path the cluster can write)")
    parser.add_argument("--store", help="also load the results into this DuckDB history store (driver-local)")
    parser.add_argument("--partitions", type=int, default=None)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--include-incomplete", action="store_true")
    parser.add_argument("--reports", action="store_true", help="full offline graph report per log (slower)")
    args = parser.parse_args(argv)
    summary = run_spark_batch(
        args.source, args.out, store=Store(args.store) if args.store else None, partitions=args.partitions,
        force=args.force, include_incomplete=args.include_incomplete, full_reports=args.reports,
    )
    print(summary.model_dump_json(indent=2))


if __name__ == "__main__":
    main()
