"""Persisted RDDs and cached DataFrames, from the RDD lineage every stage event carries.

Each stage's RDD info lists the RDDs it runs through, with their storage level. An RDD whose
level stores anything was persisted (`cache()`, `persist()`, `CACHE TABLE`); the stages that ran
with it show which jobs and SQL executions computed it and read it back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tools.eventlog.events import RddInfo, StageInfo
from tools.eventlog.model import CachedData
from tools.redact import redact_text

NAME_CHARS = 300
MAX_CACHED = 200  # persisted RDDs kept per application (a loop that caches per iteration must not grow the profile)
MAX_IDS = 50  # stage / job / execution ids kept per cached RDD
_OFF_HEAP = ("Use Off Heap", "Use ExternalBlockStore", "Use Tachyon")  # the key's names from Spark 2.0, 1.4, 1.0


def storage_level_text(level: dict[str, Any] | None) -> str | None:
    """The storage level in the Spark UI's Storage-tab wording; None when it stores nothing (not persisted)."""
    if not isinstance(level, dict):
        return None
    disk, memory = bool(level.get("Use Disk")), bool(level.get("Use Memory"))
    off_heap = any(level.get(k) for k in _OFF_HEAP)
    if not (disk or memory or off_heap):
        return None
    where = []
    if disk:
        where.append("Disk")
    if memory or off_heap:
        where.append("Memory (off heap)" if off_heap else "Memory")
    form = "Deserialized" if level.get("Deserialized") else "Serialized"
    replication = level.get("Replication") if isinstance(level.get("Replication"), int) else 1
    return f"{' '.join(where)} {form} {replication}x Replicated"


@dataclass
class _Seen:
    rdd: RddInfo
    level: str
    stages: set[int] = field(default_factory=set)
    cached_partitions: int = 0
    memory_bytes: int = 0
    disk_bytes: int = 0


def cached_data(stage_infos: Iterable[StageInfo], stage_jobs: dict[int, list[int]], job_sql: dict[int, int | None],
                unpersisted: set[int]) -> list[CachedData]:
    """The persisted RDDs in the lineage of the stages that ran (`stage_infos`), by RDD id.

    `stage_jobs` maps a stage to the jobs that ran it, `job_sql` a job to its SQL execution (None outside SQL)."""
    seen: dict[int, _Seen] = {}
    for info in stage_infos:
        for rdd in info.rdds:
            level = storage_level_text(rdd.storage_level)
            if level is None or rdd.rdd_id < 0:
                continue
            entry = seen.get(rdd.rdd_id)
            if entry is None:
                if len(seen) >= MAX_CACHED:
                    continue
                entry = seen[rdd.rdd_id] = _Seen(rdd, level)
            entry.stages.add(info.stage_id)
            entry.cached_partitions = max(entry.cached_partitions, rdd.cached_partitions)
            entry.memory_bytes = max(entry.memory_bytes, rdd.memory_bytes)
            entry.disk_bytes = max(entry.disk_bytes, rdd.disk_bytes)
    return [_cached(entry, stage_jobs, job_sql, unpersisted) for _, entry in sorted(seen.items())]


def _cached(entry: _Seen, stage_jobs: dict[int, list[int]], job_sql: dict[int, int | None],
            unpersisted: set[int]) -> CachedData:
    stages = sorted(entry.stages)
    jobs = sorted({job for stage in stages for job in stage_jobs.get(stage, [])})
    executions = sorted({job_sql[j] for j in jobs if job_sql.get(j) is not None})
    outside_sql = [j for j in jobs if job_sql.get(j) is None]
    sized = entry.cached_partitions or entry.memory_bytes or entry.disk_bytes
    return CachedData(
        rdd_id=entry.rdd.rdd_id,
        name=redact_text(" ".join(entry.rdd.name.split()))[:NAME_CHARS],
        callsite=redact_text(entry.rdd.callsite)[:NAME_CHARS],
        storage_level=entry.level,
        partitions=entry.rdd.partitions,
        stage_ids=stages[:MAX_IDS],
        job_ids=jobs[:MAX_IDS],
        sql_execution_ids=executions[:MAX_IDS],
        actions=len(executions) + len(outside_sql),
        unpersisted=entry.rdd.rdd_id in unpersisted,
        cached_partitions=entry.cached_partitions if sized else None,
        memory_bytes=entry.memory_bytes if sized else None,
        disk_bytes=entry.disk_bytes if sized else None,
    )
