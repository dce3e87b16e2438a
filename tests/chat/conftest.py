"""Fixtures for the chat tests: the copilot executable, real logs, and the LLM doubles from tests/graph."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "graph"))

from shared_index import use_shared_index  # noqa: E402


@pytest.fixture(scope="session")
def copilot_exe() -> str:
    return str(Path(sys.executable).with_name("copilot"))


@pytest.fixture(scope="session")
def yarn_log(eventlog_fixtures: Path) -> str:
    return str(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "join_agg_on_yarn_eventlog.zstd")


@pytest.fixture(scope="session")
def secret_chat_log(eventlog_fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    from planted_secrets import plant

    source = eventlog_fixtures / "apache__spark" / "spark-events" / "application_1538416563558_0014"
    return str(plant(source, tmp_path_factory.mktemp("secret") / "application_1538416563558_0077"))


@pytest.fixture(autouse=True)
def shared_knowledge_index(copilot_home: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_shared_index(tmp_path_factory, monkeypatch)
