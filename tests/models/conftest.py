"""Fixtures for the runtime model: the committed feature table and a few real public logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.dataset import read_table
from models.features import RunFeatures

REPO = Path(__file__).resolve().parents[2]
FEATURE_TABLE = REPO / "models" / "data" / "runs.parquet"


@pytest.fixture(scope="session")
def feature_rows() -> list[RunFeatures]:
    return read_table(FEATURE_TABLE)


@pytest.fixture(scope="session")
def small_rows(feature_rows: list[RunFeatures]) -> list[RunFeatures]:
    """Three workloads x 12 runs: enough pairs to train in a second."""
    picked: list[RunFeatures] = []
    for workload in ("aggregation", "join", "sort"):
        picked += [r for r in feature_rows if r.workload == workload][:12]
    return picked


@pytest.fixture(scope="session")
def cluster_log(eventlog_fixtures: Path) -> Path:
    """A YARN application with executor events (2 executors x 4 cores, 100 tasks)."""
    return eventlog_fixtures / "apache__spark" / "spark-events" / "application_1536831636016_59384_1"


@pytest.fixture(scope="session")
def sql_cluster_log(eventlog_fixtures: Path) -> Path:
    """A YARN application with SQL queries (a join and an aggregation; up to 10 executors x 3 cores): the
    cluster log for spark.sql.* changes, which do nothing to `cluster_log`'s RDD code."""
    return eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "join_agg_on_yarn_eventlog.zstd"


@pytest.fixture(scope="session")
def local_log(eventlog_fixtures: Path) -> Path:
    """A local-mode application with a Python UDF (master local[1])."""
    return eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "python_udf_eventlog"
