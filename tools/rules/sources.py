"""Reads whose source sets their partition count: a table read over JDBC (its partitioning options) and files
Spark cannot split (gzip- or zip-compressed text). No Spark setting changes those, so the partition rules give
these fixes and evidence instead of a partition setting."""

from __future__ import annotations

import re

from tools.eventlog.model import SCAN_OPERATORS, StageProfile
from tools.findings import Evidence
from tools.rules.measure import MiB, ev, metric, reads_shuffle
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


def unsplittable_files(ctx: RuleContext, stage: StageProfile) -> tuple[float, float] | None:
    """(files, bytes) of a file scan that ran in no more tasks than files although they average over the split size:
    a splittable file that large is read by several tasks, so these are files Spark cannot split (gzip- or
    zip-compressed text)."""
    if reads_shuffle(stage) or not stage.num_tasks:
        return None
    for node in ctx.profile.stage_nodes(stage.stage_id):
        files, size = metric(node, "number of files read"), metric(node, "size of files read")
        if (node.name.startswith(SCAN_OPERATORS) and files and size and stage.num_tasks <= files
                and size / files > split_bytes(ctx)):
            return files, size
    return None


def unsplittable_advice(files: float, size: float, split: float) -> str:
    """How work on files Spark cannot split gets spread: other files, since no split setting reaches inside one."""
    read = (f"one file of {human_size(size)} in one task" if files == 1
            else f"{count(int(files), 'file')} of {human_size(size / files)} on average, each in one task")
    return (f"The stage read {read} although the split size is {human_size(split)}: Spark cannot split these files "
            "(gzip- or zip-compressed CSV, JSON or text), so no split-size setting reaches inside them. Store the data "
            "as Parquet, ORC or Delta (splittable and columnar), or write more, smaller files (or bzip2, which "
            "splits); until then repartition(n) right after the read spreads the work that follows it, not the read.")


def source_fix(ctx: RuleContext, stage: StageProfile, target_tasks: int) -> str | None:
    """The fix for a read whose own source sets its partitions (a JDBC read, files that cannot be split); no Spark
    setting changes those."""
    jdbc = jdbc_read(stage)
    if jdbc:
        return jdbc_advice(*jdbc, target_tasks)
    whole = unsplittable_files(ctx, stage)
    return unsplittable_advice(*whole, split_bytes(ctx)) if whole else None


def source_evidence(ctx: RuleContext, stage: StageProfile) -> list[Evidence]:
    """What says the read's source set its partitions: the JDBC read's partitions, or the unsplit files' size."""
    jdbc = jdbc_read(stage)
    if jdbc:
        return [ev("JDBC read partitions", jdbc[1], "count", stage_id=stage.stage_id)]
    whole = unsplittable_files(ctx, stage)
    if whole is None:
        return []
    return [ev("files read whole", whole[0], "count", stage_id=stage.stage_id),
            ev("average file size", whole[1] / whole[0], "bytes", split_bytes(ctx), stage.stage_id)]
