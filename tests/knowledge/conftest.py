"""Knowledge-area fixtures: one real Chroma index over the fixture corpus and the cards, built once."""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"


@pytest.fixture(scope="session")
def corpus_fixtures() -> Path:
    return CORPUS_FIXTURES


@pytest.fixture(scope="session")
def shared_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Chroma dir holding the fixture corpus and the cards (embedding them once per session)."""
    from knowledge.api import CARDS_DIR
    from knowledge.index import KnowledgeIndex

    path = tmp_path_factory.mktemp("knowledge") / "chroma"
    index = KnowledgeIndex.open(path)
    index.ingest([CORPUS_FIXTURES])
    index.ingest([CARDS_DIR], kind="card")
    return path


@pytest.fixture
def shared_index(shared_index_dir: Path):  # noqa: ANN201
    from knowledge.api import open_index

    return open_index(shared_index_dir)


@pytest.fixture
def cli_env(shared_index_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the default index at the session index (cards already embedded), without the JVM catalog or the PySpark
    API reference."""
    monkeypatch.setenv("COPILOT_CHROMA_DIR", str(shared_index_dir))
    monkeypatch.setenv("COPILOT_KNOWLEDGE__CONFIG_CATALOG", "false")
    monkeypatch.setenv("COPILOT_KNOWLEDGE__API_REFERENCE", "false")
    from copilot.settings import get_settings

    get_settings.cache_clear()
    return shared_index_dir
