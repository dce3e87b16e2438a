"""Fixtures shared by every test area. Area-specific fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from spark_history import history_server  # noqa: F401 - one session History Server for the source and batch tests

TESTS_DIR = Path(__file__).parent
FIXTURES_DIR = TESTS_DIR / "fixtures"
EVENTLOG_FIXTURES = FIXTURES_DIR / "eventlogs"
SHARED_DIR = TESTS_DIR.parent.parent / "shared"


@pytest.fixture(autouse=True)
def copilot_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test writes under its own COPILOT_HOME, never the user's."""
    home = tmp_path_factory.mktemp("copilot_home")
    monkeypatch.setenv("COPILOT_HOME", str(home))
    for var in ("COPILOT_CONFIG", "OPENAI_API_KEY", "COPILOT_LLM__BASE_URL", "COPILOT_LLM__API_KEY"):
        monkeypatch.delenv(var, raising=False)
    from copilot.settings import get_settings

    get_settings.cache_clear()
    return home


@pytest.fixture(scope="session")
def eventlog_fixtures() -> Path:
    return EVENTLOG_FIXTURES


@pytest.fixture(scope="session")
def shared_eventlogs() -> Path:
    """The public logs in ../shared/eventlogs (tests using this are skipped on a clone without ../shared)."""
    path = SHARED_DIR / "eventlogs"
    if not path.is_dir():
        pytest.skip("../shared/eventlogs is not present beside this checkout")
    return path
