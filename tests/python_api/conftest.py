"""Fixtures for the Python API tests: real public logs, one with planted secrets, and the shared knowledge index."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "graph"))

from shared_index import use_shared_index  # noqa: E402


@pytest.fixture(scope="session")
def yarn_log(eventlog_fixtures: Path) -> str:
    """A real YARN application (10 executors, a straggler-heavy stage 3), zstd-compressed."""
    return str(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "join_agg_on_yarn_eventlog.zstd")


@pytest.fixture(scope="session")
def multi_stage_log(eventlog_fixtures: Path) -> Path:
    """A real Spark 2.x YARN application with 14 stages (plain JSON lines)."""
    return eventlog_fixtures / "apache__spark" / "spark-events" / "application_1538416563558_0014"


@pytest.fixture(autouse=True)
def shared_knowledge_index(copilot_home: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_shared_index(tmp_path_factory, monkeypatch)
