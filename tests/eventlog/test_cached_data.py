"""Persisted RDDs and cached DataFrames in the profile, from the stages' RDD lineage (real logs)."""

from __future__ import annotations

import pytest

from tests.conftest import TESTS_DIR
from tools.eventlog import load_profile
from tools.eventlog.cache import storage_level_text

WORKLOADS = TESTS_DIR / "fixtures" / "workloads"
SPARK_EVENTS = TESTS_DIR / "fixtures" / "eventlogs" / "apache__spark" / "spark-events"


@pytest.mark.parametrize(("level", "text"), [
    ({"Use Disk": True, "Use Memory": True, "Use Off Heap": False, "Deserialized": True, "Replication": 1},
     "Disk Memory Deserialized 1x Replicated"),
    ({"Use Disk": False, "Use Memory": True, "Deserialized": False, "Replication": 2}, "Memory Serialized 2x Replicated"),
    ({"Use Disk": True, "Use Memory": False, "Deserialized": False, "Replication": 1}, "Disk Serialized 1x Replicated"),
    ({"Use Disk": False, "Use Memory": True, "Use Off Heap": True, "Deserialized": False, "Replication": 1},
     "Memory (off heap) Serialized 1x Replicated"),
    ({"Use Disk": False, "Use Memory": False, "Use Tachyon": True, "Deserialized": False, "Replication": 1},
     "Memory (off heap) Serialized 1x Replicated"),
    ({"Use Disk": False, "Use Memory": False, "Deserialized": False, "Replication": 1}, None),  # not persisted
    (None, None),
])
def test_storage_levels_read_as_the_spark_ui_words_them(level, text):
    assert storage_level_text(level) == text


def test_a_cache_reused_by_two_queries_and_one_read_once():
    """cache_read_once (PySpark 4.3): totals cached, read by two SQL executions, unpersisted; then a projection
    persisted MEMORY_AND_DISK (PySpark stores it serialized) that one execution builds and reads."""
    profile = load_profile(WORKLOADS / "cache_read_once.zstd")
    reused, once = profile.cached
    assert reused.sql_execution_ids == [0, 1] and reused.actions == 2 and reused.unpersisted
    assert reused.storage_level == "Disk Memory Deserialized 1x Replicated"
    assert reused.name.startswith("AdaptiveSparkPlan") and "HashAggregate" in reused.name
    assert once.sql_execution_ids == [2] and once.actions == 1 and not once.unpersisted
    assert once.storage_level == "Disk Memory Serialized 1x Replicated"
    assert once.partitions == 2 and len(once.stage_ids) == 2  # AQE builds the cache in a job of its own
    jobs = {j.job_id: j for j in profile.jobs}
    assert {jobs[j].sql_execution_id for j in once.job_ids} == {2}
    # Spark 2.3+ does not track block updates: no sizes
    assert (once.cached_partitions, once.memory_bytes, once.disk_bytes) == (None, None, None)


def test_an_rdd_cached_by_spark_1_has_its_sizes():
    """A Spark 1.x log (apache/spark test data): RDD 0 cached in memory, 8 of 8 partitions, 28 MB, read by 2 jobs."""
    [cached] = load_profile(SPARK_EVENTS / "local-1422981759269").cached
    assert (cached.rdd_id, cached.partitions, cached.cached_partitions) == (0, 8, 8)
    assert (cached.memory_bytes, cached.disk_bytes) == (28000128, 0)
    assert cached.job_ids == [0, 1] and cached.actions == 2 and cached.sql_execution_ids == []


def test_an_mllib_rdd_persisted_across_iterations():
    """BisectingKMeans on YARN (Spark 2.5 snapshot): the RDD made at its map call is read by six jobs, then released."""
    [cached] = load_profile(SPARK_EVENTS / "application_1538416563558_0014").cached
    assert cached.callsite == "map at BisectingKMeans.scala:168"
    assert cached.actions == 6 and cached.unpersisted


def test_logs_without_persisted_data_have_none():
    assert load_profile(WORKLOADS / "healthy.zstd").cached == []
