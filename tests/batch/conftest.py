"""Batch fixtures: folders of real logs in tmp dirs, and logs written by local PySpark once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from batch_fleet import CORRUPT_NAME, CORRUPT_SOURCE, FIXTURE_LOGS, JOB_NAME, corrupt_copy, rollup


@pytest.fixture(scope="session")
def spark_logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three runs of one job by real local Spark: twice on small data, then on 40x the data.

    A throw-away run first warms the JVM so the first kept run is not slowed by start-up.
    """
    from evals.workloads.runner import run_workload

    run_workload(rollup, tmp_path_factory.mktemp("warmup"), "warmup", rows=10_000)
    log_dir = tmp_path_factory.mktemp("spark_logs")
    return {
        "small_1": run_workload(rollup, log_dir, JOB_NAME, rows=150_000),
        "small_2": run_workload(rollup, log_dir, JOB_NAME, rows=150_000),
        "large": run_workload(rollup, log_dir, JOB_NAME, rows=6_000_000),
    }


@pytest.fixture
def fleet(tmp_path: Path, eventlog_fixtures: Path) -> Path:
    """A folder like a platform team's: public logs (plain, zstd, rolling) plus one corrupt log."""
    root = tmp_path / "fleet"
    (root / "2024-01-01").mkdir(parents=True)
    for i, name in enumerate(FIXTURE_LOGS):
        source = eventlog_fixtures / name
        target = root / ("2024-01-01" if i % 2 else "") / source.name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copyfile(source, target)
    corrupt_copy(eventlog_fixtures / CORRUPT_SOURCE, root / CORRUPT_NAME)
    return root
