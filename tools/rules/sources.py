"""Stages whose task count their code or their source set: a table read over JDBC (its partitioning options), files
Spark cannot split (gzip- or zip-compressed text), a coalesce(n). No Spark setting changes those, so the partition
rules give these fixes and evidence instead of a partition setting."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tools.eventlog.model import SCAN_OPERATORS, StageProfile
from tools.findings import Evidence
from tools.rules.measure import SCAN_LOCATION, MiB, ev, metric, reads_shuffle
from tools.rules.registry import RuleContext
from tools.units import count, human_size, parse_size

# Spark's name for a JDBC scan: the table (or subquery) and the partitions its options gave the read
_JDBC_SCAN = re.compile(r"Scan JDBCRelation\((.*)\) \[numPartitions=(\d+)\]")


def jdbc_read(stage: StageProfile) -> tuple[str, int] | None:
    """The table a stage read over JDBC and the number of partitions the read was given."""
    if reads_shuffle(stage):
        return None
    for operator in stage.operators:
        match = _JDBC_SCAN.match(operator)
        if match:
            return match.group(1), int(match.group(2))
    return None


def jdbc_advice(table: str, partitions: int, target_tasks: int) -> str:
    """How a JDBC read gets more partitions: its own options, which no Spark setting replaces."""
    why = ("with no partitioning options Spark reads the whole table through one connection, in one task"
           if partitions == 1 else f"its numPartitions option is {partitions}")
    return (f"The stage reads {table} over JDBC in {count(partitions, 'partition')}: {why}. Give the read a "
            "partitionColumn (a numeric, date or timestamp column whose values spread evenly), lowerBound and "
            f"upperBound (they set the stride of the ranges and filter no rows) and numPartitions={target_tasks}, or "
            "a list of predicates with one WHERE condition per partition. numPartitions also caps the connections the "
            "read opens at once, so keep it within what the database allows; a larger fetchsize (rows per round "
            "trip) speeds each task as well.")


DEFAULT_SPLIT_BYTES = 128 * MiB  # spark.sql.files.maxPartitionBytes


def split_bytes(ctx: RuleContext) -> float:
    """The most bytes of a splittable file one SQL scan task reads (spark.sql.files.maxPartitionBytes)."""
    return parse_size(ctx.prop("spark.sql.files.maxPartitionBytes")) or DEFAULT_SPLIT_BYTES


# extensions of the codecs whose files Spark reads whole (bzip2 splits)
_CODECS = {"gz": "gzip", "gzip": "gzip", "zip": "zip", "deflate": "deflate", "zst": "zstd", "lz4": "lz4",
           "snappy": "snappy", "z": "compress"}


def unsplittable_files(ctx: RuleContext, stage: StageProfile) -> tuple[float, float, str] | None:
    """(files, bytes, why) of a file scan that ran in no more tasks than files although they average over the split
    size: a splittable file that large is read by several tasks, so these are files Spark cannot split. `why` is the
    codec when the path read names one ('gzip'), else the format ('json': compressed, or read with multiLine)."""
    if reads_shuffle(stage) or not stage.num_tasks:
        return None
    for node in ctx.profile.stage_nodes(stage.stage_id):
        files, size = metric(node, "number of files read"), metric(node, "size of files read")
        if (node.name.startswith(SCAN_OPERATORS) and files and size and stage.num_tasks <= files
                and size / files > split_bytes(ctx)):
            location = SCAN_LOCATION.search(node.description)
            codec = _CODECS.get(location[1].rsplit(".", 1)[-1].lower(), "") if location else ""
            return files, size, codec or node.name.removeprefix("Scan ").split(" ")[0].lower()
    return None


def unsplittable_advice(files: float, size: float, split: float, why: str) -> str:
    """How work on files Spark cannot split gets spread: other files, since no split setting reaches inside one."""
    read = (f"one file of {human_size(size)} in one task" if files == 1
            else f"{count(int(files), 'file')} of {human_size(size / files)} on average, each in one task")
    whole = "read with the multiLine option, which parses each file whole"
    cause = {"json": f"gzip- or zip-compressed JSON, or JSON {whole}",
             "csv": f"gzip- or zip-compressed CSV, or CSV {whole}",
             "text": "gzip- or zip-compressed text, or text read with the wholetext option"}.get(
        why, f"{why}-compressed" if why in _CODECS.values() else "gzip- or zip-compressed CSV, JSON or text")
    lines = (" Read without multiLine, files with one record per line split." if why in ("json", "csv") else "")
    return (f"The stage read {read} although the split size is {human_size(split)}: Spark cannot split these files "
            f"({cause}), so no split-size setting reaches inside them.{lines} Store the data as Parquet, ORC or Delta "
            "(splittable and columnar), or write more, smaller files (or bzip2, which splits); until then "
            "repartition(n) right after the read spreads the work that follows it, not the read.")


_COALESCE = re.compile(r"Coalesce (\d+)$")  # the plan node of coalesce(n)


def coalesced_to(ctx: RuleContext, stage: StageProfile) -> int | None:
    """n of a coalesce(n) that set this stage's task count (no shuffle read): a `Coalesce n` node in the stage's SQL
    execution with n equal to its tasks. The node has no metrics, so it is matched by its count, not its stage."""
    execution = ctx.profile.sql_execution(stage.sql_execution_id)
    if reads_shuffle(stage) or execution is None or not stage.num_tasks:
        return None
    for node in execution.nodes:
        match = _COALESCE.match(node.description) if node.name == "Coalesce" else None
        if match and int(match.group(1)) == stage.num_tasks:
            return stage.num_tasks
    return None


def coalesce_advice(n: int, target_tasks: int) -> str:
    """Why coalesce(n) also narrows the work before it, and what keeps that work parallel."""
    return (f"The stage's {count(n, 'task')} come{'s' if n == 1 else ''} from coalesce({n}) in the code: coalesce merges "
            f"partitions without a shuffle, so the work before it runs in {count(n, 'task')} too. Use repartition({n}) "
            f"there instead: the same {count(n, 'partition')} after a shuffle, with the work before it spread over "
            f"every partition of its input; or drop it when the output's partition count does not matter (about "
            f"{target_tasks} keeps every core busy).")


@dataclass(frozen=True)
class PartitionsFromCode:
    """A stage whose task count its code or its source set, which no Spark setting changes: the fix, the evidence
    that says so, and what to look up in the docs."""

    fix: str
    evidence: list[Evidence]
    doc_query: str


def partitions_from_code(ctx: RuleContext, stage: StageProfile, target_tasks: int) -> PartitionsFromCode | None:
    """A JDBC read (its options set the partitions), files Spark cannot split, or a coalesce(n); None otherwise."""
    jdbc = jdbc_read(stage)
    if jdbc:
        return PartitionsFromCode(jdbc_advice(*jdbc, target_tasks),
                                  [ev("JDBC read partitions", jdbc[1], "count", stage_id=stage.stage_id)],
                                  "JDBC read partitionColumn numPartitions one connection one task")
    whole = unsplittable_files(ctx, stage)
    if whole:
        files, size, why = whole
        return PartitionsFromCode(unsplittable_advice(files, size, split_bytes(ctx), why),
                                  [ev("files read whole", files, "count", stage_id=stage.stage_id),
                                   ev("average file size", size / files, "bytes", split_bytes(ctx), stage.stage_id)],
                                  "gzip compressed files multiLine not splittable one task per file")
    n = coalesced_to(ctx, stage)
    if n:
        return PartitionsFromCode(coalesce_advice(n, target_tasks),
                                  [ev("coalesce(n) in the code", n, "count", stage_id=stage.stage_id)],
                                  "coalesce merges partitions without a shuffle, repartition")
    return None
