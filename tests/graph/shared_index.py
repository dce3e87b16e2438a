"""One real knowledge index (Chroma on disk, the shipped cards) per test session, shared by the graph, report and chat tests.

Building it costs minutes on a busy 2-core machine, so it is built once under the
session's base temp dir and every test points COPILOT_CHROMA_DIR at it. The Spark
config catalog is left out (it starts a JVM); the cards are what findings cite, and the PySpark API
reference is in (the chat's API answers are tested on it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def shared_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "copilot-knowledge-index"


def use_shared_index(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point this test's settings at the shared index (built by the first test that searches)."""
    path = shared_index_dir(tmp_path_factory)
    monkeypatch.setenv("COPILOT_CHROMA_DIR", str(path))
    monkeypatch.setenv("COPILOT_KNOWLEDGE__CONFIG_CATALOG", "false")
    from copilot.settings import get_settings

    get_settings.cache_clear()
    return path


@contextmanager
def isolated_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """For module-scoped fixtures (which run before the per-test autouse ones): own COPILOT_HOME + the shared index."""
    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("copilot_home_module")
        mp.setenv("COPILOT_HOME", str(home))
        for var in ("COPILOT_CONFIG", "OPENAI_API_KEY", "COPILOT_LLM__BASE_URL", "COPILOT_LLM__API_KEY"):
            mp.delenv(var, raising=False)
        use_shared_index(tmp_path_factory, mp)
        yield home
    from copilot.settings import get_settings

    get_settings.cache_clear()
