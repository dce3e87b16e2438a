"""The workload-shape suite: real PySpark runs that train and evaluate the runtime model.

Twenty shapes (aggregation, join, skewed join, window, sort, wide scan, Python UDF,
count distinct, star join, explode, rollup (a CUBE of three columns), string functions,
union + dedup, skewed window, skewed aggregation, cached reuse, pivot, anti join, join
back to group totals, percentiles), each at several data scales, under a grid of configurations (shuffle partitions,
AQE, broadcast threshold, cores via local[N], memory fraction). Data is generated
in-process from `spark.range`; nothing is downloaded. Each run writes one event
log; `python -m evals.workloads.shapes --out DIR --runs N` runs N of them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel

from models.features import HOST_PROBE_PROPERTY

BASE_ROWS = 2_000_000  # rows at scale 1; keeps one run a few seconds on one core


def _source(spark, rows: int, scale: float):
    """`rows` generated ids in input partitions proportional to the scale (like file splits), not to the cores."""
    return spark.range(0, rows, 1, max(2, round(4 * scale)))


def _sink(df) -> None:
    """Force full evaluation without writing output (the no-op data source)."""
    df.write.format("noop").mode("overwrite").save()


def aggregation(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale)
    df = _source(spark, rows, scale).select(
        (F.col("id") % max(rows // 50, 1)).alias("k"), (F.col("id") * 7 % 1000).alias("v")
    )
    _sink(df.groupBy("k").agg(F.sum("v").alias("s"), F.count("*").alias("n"), F.avg("v").alias("a")))


def join(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale)
    facts = _source(spark, rows, scale).select((F.col("id") % (rows // 4)).alias("k"), (F.col("id") % 97).alias("v"))
    dims = _source(spark, rows // 4, scale).select(F.col("id").alias("k"), (F.col("id") % 13).alias("g"))
    _sink(facts.join(dims, "k").groupBy("g").agg(F.sum("v")))


def skewed_join(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale)
    hot = F.when(F.col("id") % 10 < 6, F.lit(0)).otherwise(F.col("id") % 5000)
    facts = _source(spark, rows, scale).select(hot.alias("k"), (F.col("id") % 101).alias("v"))
    dims = spark.range(0, 5000, 1, 2).select(F.col("id").alias("k"), F.concat(F.lit("name-"), F.col("id")).alias("name"))
    _sink(facts.join(dims, "k").groupBy("name").agg(F.max("v"), F.count("*")))


def window(spark, scale: float) -> None:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale * 0.5)
    df = _source(spark, rows, scale).select((F.col("id") % 200).alias("g"), ((F.col("id") * 31) % 10007).alias("v"))
    spec = Window.partitionBy("g").orderBy("v")
    _sink(df.select("g", "v", F.row_number().over(spec).alias("rn"), F.lag("v").over(spec).alias("prev")))


def sort(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale)
    df = _source(spark, rows, scale).select(((F.col("id") * 2654435761) % 1000003).alias("v"), F.col("id"))
    _sink(df.orderBy("v"))


def wide_scan(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale * 0.3)
    cols = [((F.col("id") * (i + 3)) % (1000 + i)).alias(f"c{i}") for i in range(40)]
    df = _source(spark, rows, scale).select("id", *cols).where(F.col("c3") > 10)
    _sink(df.groupBy((F.col("id") % 16).alias("b")).agg(*[F.sum(f"c{i}") for i in range(0, 40, 2)]))


def python_udf(spark, scale: float) -> None:
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType

    rows = int(BASE_ROWS * scale * 0.03)

    @F.udf(returnType=LongType())
    def digest(value):
        return (value * 2654435761) % 997

    df = _source(spark, rows, scale).select((F.col("id") % 64).alias("k"), digest(F.col("id")).alias("d"))
    _sink(df.groupBy("k").agg(F.sum("d")))


def distinct_count(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale * 0.5)
    df = _source(spark, rows, scale).select((F.col("id") % 100).alias("g"), ((F.col("id") * 7919) % (rows // 3)).alias("u"))
    _sink(df.groupBy("g").agg(F.countDistinct("u").alias("users"), F.count("*").alias("n")))


def star_join(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale * 0.5)
    facts = _source(spark, rows, scale).select(
        (F.col("id") % 20000).alias("customer"), (F.col("id") % 500).alias("product"),
        (F.col("id") % 365).alias("day"), (F.col("id") % 1000).alias("amount"),
    )
    customers = spark.range(0, 20000, 1, 2).select(F.col("id").alias("customer"), (F.col("id") % 50).alias("region"))
    products = spark.range(0, 500, 1, 1).select(F.col("id").alias("product"), (F.col("id") % 12).alias("category"))
    days = spark.range(0, 365, 1, 1).select(F.col("id").alias("day"), F.floor(F.col("id") / 30).alias("month"))
    joined = facts.join(customers, "customer").join(products, "product").join(days, "day")
    _sink(joined.groupBy("region", "category", "month").agg(F.sum("amount")))


def explode(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale * 0.25)
    items = F.array(*[(F.col("id") * (i + 1)) % 5003 for i in range(8)])
    df = _source(spark, rows, scale).select((F.col("id") % 1000).alias("basket"), F.explode(items).alias("item"))
    _sink(df.groupBy("item").agg(F.count("*").alias("n"), F.approx_count_distinct("basket").alias("baskets")))


def rollup(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale * 0.5)
    df = _source(spark, rows, scale).select(
        (F.col("id") % 7).alias("a"), (F.col("id") % 31).alias("b"), (F.col("id") % 113).alias("c"),
        (F.col("id") % 1009).alias("v"),
    )
    _sink(df.cube("a", "b", "c").agg(F.sum("v"), F.max("v")))


def string_ops(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale * 0.2)
    text = F.concat_ws("-", F.lit("order"), F.col("id").cast("string"), (F.col("id") % 977).cast("string"))
    df = _source(spark, rows, scale).select(F.sha2(text, 256).alias("h"), F.upper(text).alias("t"))
    _sink(df.groupBy(F.substring("h", 1, 3).alias("prefix")).agg(F.max("t"), F.count("*")))


def union_dedup(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale * 0.5)
    first = _source(spark, rows, scale).select((F.col("id") % (rows // 2)).alias("k"), (F.col("id") % 10).alias("v"))
    second = _source(spark, rows, scale).select(((F.col("id") * 3) % (rows // 2)).alias("k"), (F.col("id") % 10).alias("v"))
    _sink(first.unionByName(second).dropDuplicates(["k", "v"]))


def skewed_window(spark, scale: float) -> None:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale * 0.3)
    hot = F.when(F.col("id") % 10 < 5, F.lit(0)).otherwise(F.col("id") % 400)
    df = _source(spark, rows, scale).select(hot.alias("g"), ((F.col("id") * 31) % 100003).alias("v"))
    spec = Window.partitionBy("g").orderBy("v")
    _sink(df.select("g", "v", F.rank().over(spec).alias("r")).where(F.col("r") <= 10))


def skewed_aggregation(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale * 0.3)
    hot = F.when(F.col("id") % 10 < 6, F.lit(0)).otherwise(F.col("id") % 2000)
    df = _source(spark, rows, scale).select(hot.alias("k"), (F.col("id") % 1000).alias("v"))
    _sink(df.groupBy("k").agg(F.size(F.collect_set("v")).alias("distinct_v"), F.count("*").alias("n")))


def cached_reuse(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale * 0.5)
    df = _source(spark, rows, scale).select((F.col("id") % 1000).alias("k"), (F.col("id") % 7919).alias("v")).cache()
    try:
        _sink(df.groupBy("k").agg(F.sum("v")))
        _sink(df.groupBy((F.col("v") % 97).alias("b")).agg(F.count("*")))
    finally:
        df.unpersist()


def pivot(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale * 0.5)
    df = _source(spark, rows, scale).select(
        (F.col("id") % 5000).alias("store"), (F.col("id") % 12).alias("month"), (F.col("id") % 100).alias("amount")
    )
    _sink(df.groupBy("store").pivot("month", list(range(12))).agg(F.sum("amount")))


def anti_join(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale * 0.5)
    events = _source(spark, rows, scale).select((F.col("id") % (rows // 2)).alias("user"), (F.col("id") % 50).alias("kind"))
    blocked = _source(spark, rows // 20, scale).select(((F.col("id") * 7) % (rows // 2)).alias("user"))
    _sink(events.join(blocked, "user", "left_anti").groupBy("kind").count())


def enrich_join(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale * 0.5)
    df = _source(spark, rows, scale).select((F.col("id") % (rows // 100)).alias("k"), (F.col("id") % 1000 + 1).alias("v"))
    totals = df.groupBy("k").agg(F.sum("v").alias("total"))
    _sink(df.join(totals, "k").select("k", (F.col("v") / F.col("total")).alias("share")).where(F.col("share") > 0.01))


def percentile(spark, scale: float) -> None:
    from pyspark.sql import functions as F

    rows = int(BASE_ROWS * scale * 0.3)
    df = _source(spark, rows, scale).select((F.col("id") % 300).alias("g"), ((F.col("id") * 7) % 100003).alias("v"))
    _sink(df.groupBy("g").agg(F.percentile_approx("v", [0.5, 0.9, 0.99]).alias("p"), F.stddev("v")))


SHAPES: dict[str, Callable[..., None]] = {
    "aggregation": aggregation,
    "join": join,
    "skewed_join": skewed_join,
    "window": window,
    "sort": sort,
    "wide_scan": wide_scan,
    "python_udf": python_udf,
    "distinct_count": distinct_count,
    "star_join": star_join,
    "explode": explode,
    "rollup": rollup,
    "string_ops": string_ops,
    "union_dedup": union_dedup,
    "skewed_window": skewed_window,
    "skewed_aggregation": skewed_aggregation,
    "cached_reuse": cached_reuse,
    "pivot": pivot,
    "anti_join": anti_join,
    "enrich_join": enrich_join,
    "percentile": percentile,
}

SCALES = (0.5, 1.0, 2.0, 4.0)
SHUFFLE_PARTITIONS = ("2", "8", "32", "200")
AQE = ("true", "false")
BROADCAST_THRESHOLD = ("-1", "10485760")
CORES = (1, 2)
MEMORY_FRACTION = ("0.6", "0.2")


class RunSpec(BaseModel):
    """One run of the suite: a shape at a scale under one configuration."""

    shape: str
    scale: float
    cores: int
    conf: dict[str, str]

    @property
    def app_name(self) -> str:
        c = self.conf
        return (
            f"shape={self.shape} scale={self.scale:g} cores={self.cores}"
            f" sp={c['spark.sql.shuffle.partitions']} aqe={c['spark.sql.adaptive.enabled']}"
            f" bc={c['spark.sql.autoBroadcastJoinThreshold']} mf={c['spark.memory.fraction']}"
        )


def run_plan(runs: int, seed: int = 7, shapes: Sequence[str] | None = None) -> list[RunSpec]:
    """`runs` specs drawn without replacement from the full grid, balanced over shapes and scales.

    `shapes` (default: all, in SHAPES order) picks the shapes; the plan depends on them and the seed.
    """
    rng = random.Random(seed)
    configs = list(itertools.product(SHUFFLE_PARTITIONS, AQE, BROADCAST_THRESHOLD, CORES, MEMORY_FRACTION))
    cells = list(itertools.product(shapes or SHAPES, SCALES))
    per_cell: dict[tuple[str, float], list] = {cell: rng.sample(configs, len(configs)) for cell in cells}
    plan: list[RunSpec] = []
    round_index = 0
    while len(plan) < runs and round_index < len(configs):
        for shape, scale in rng.sample(cells, len(cells)):
            if len(plan) >= runs:
                break
            partitions, aqe, broadcast, cores, memory_fraction = per_cell[(shape, scale)][round_index]
            conf = {
                "spark.sql.shuffle.partitions": partitions,
                "spark.sql.adaptive.enabled": aqe,
                "spark.sql.autoBroadcastJoinThreshold": broadcast,
                "spark.memory.fraction": memory_fraction,
            }
            plan.append(RunSpec(shape=shape, scale=scale, cores=cores, conf=conf))
        round_index += 1
    return plan


def host_probe_ms(repeats: int = 3) -> float:
    """Wall time of a fixed single-thread CPU loop (median of a few): how loaded the machine is right now.

    Runs share a busy machine; the probe taken just before each run goes into the run's
    Spark properties so training can compare runs made under different host load.
    """
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        total = 0
        for i in range(300_000):
            total += i * i % 7
        timings.append((time.perf_counter() - started) * 1000)
    return sorted(timings)[len(timings) // 2]


def run_suite(out_dir: Path, runs: int, seed: int = 7, skip: int = 0, shapes: Sequence[str] | None = None) -> list[Path]:
    """Run the first `runs` specs of the plan (after `skip`), writing event logs into `out_dir`."""
    from evals.workloads.runner import run_workload

    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = out_dir / "manifest.jsonl"
    logs: list[Path] = []
    for index, spec in enumerate(run_plan(runs, seed, shapes)):
        if index < skip:
            continue
        probe_before = host_probe_ms()
        started = time.monotonic()
        log = run_workload(
            SHAPES[spec.shape],
            out_dir,
            spec.app_name,
            conf={**spec.conf, HOST_PROBE_PROPERTY: f"{probe_before:.1f}"},
            master=f"local[{spec.cores}]",
            scale=spec.scale,
        )
        logs.append(log)
        record = {
            "index": index,
            "log": log.name,
            **spec.model_dump(),
            "wall_s": round(time.monotonic() - started, 3),
            "probe_before_ms": round(probe_before, 1),
            "probe_after_ms": round(host_probe_ms(), 1),
        }
        with manifest.open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        print(f"[{index + 1}/{runs}] {spec.app_name} -> {log.name} ({record['wall_s']} s)", flush=True)
    return logs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the event logs (outside the repo)")
    parser.add_argument("--runs", type=int, default=280)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip", type=int, default=0, help="resume: skip the first N specs of the plan")
    parser.add_argument("--base-rows", type=int, default=BASE_ROWS,
                        help="rows at scale 1 (longer runs have less relative run-to-run noise)")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated shapes to plan over (default: all)")
    args = parser.parse_args(argv)
    shapes = [name.strip() for name in args.shapes.split(",") if name.strip()]
    unknown = sorted(set(shapes) - set(SHAPES))
    if unknown:
        parser.error(f"unknown shape(s) {', '.join(unknown)}; known: {', '.join(SHAPES)}")
    globals()["BASE_ROWS"] = args.base_rows
    run_suite(args.out, args.runs, args.seed, args.skip, shapes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
