"""Fixtures for the notebook tests: the shared knowledge index (built once per session) for the kernel to use."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "graph"))

from shared_index import use_shared_index  # noqa: E402

EXAMPLES_DIR = Path(__file__).parents[2] / "examples"


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES_DIR


@pytest.fixture(autouse=True)
def shared_knowledge_index(copilot_home: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The kernel inherits this environment: COPILOT_HOME in a temp dir, the session's shared index."""
    return use_shared_index(tmp_path_factory, monkeypatch)
