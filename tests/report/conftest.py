"""Fixtures for the report tests: one real analysis rendered in every format."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "graph"))

from shared_index import use_shared_index  # noqa: E402


@pytest.fixture(scope="session")
def yarn_log(eventlog_fixtures: Path) -> str:
    return str(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "join_agg_on_yarn_eventlog.zstd")


@pytest.fixture(autouse=True)
def shared_knowledge_index(copilot_home: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_shared_index(tmp_path_factory, monkeypatch)
