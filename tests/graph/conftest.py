"""Fixtures for the graph tests: real public event logs, one with planted secrets, and the LLM doubles."""

from __future__ import annotations

from pathlib import Path

import pytest
from planted_secrets import plant
from shared_index import use_shared_index


@pytest.fixture(scope="session")
def yarn_log(eventlog_fixtures: Path) -> str:
    """A real YARN application (10 executors, 6 stages, one straggler-heavy stage), zstd-compressed."""
    return str(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "join_agg_on_yarn_eventlog.zstd")


@pytest.fixture(scope="session")
def multi_stage_log(eventlog_fixtures: Path) -> str:
    """A real Spark 2.x YARN application with 14 stages and 9 executors (plain JSON lines)."""
    return str(eventlog_fixtures / "apache__spark" / "spark-events" / "application_1538416563558_0014")


@pytest.fixture(scope="session")
def secret_log(multi_stage_log: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    target = tmp_path_factory.mktemp("secret") / "application_1538416563558_0099"
    return str(plant(Path(multi_stage_log), target))


@pytest.fixture(autouse=True)
def shared_knowledge_index(copilot_home: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_shared_index(tmp_path_factory, monkeypatch)
