"""Profiles of the committed workload logs and public logs, loaded once per session."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from tests.conftest import EVENTLOG_FIXTURES, FIXTURES_DIR
from tools.eventlog import load_profile
from tools.eventlog.model import AppProfile

WORKLOAD_LOGS = FIXTURES_DIR / "workloads"


@lru_cache(maxsize=None)
def load(name: str) -> AppProfile:
    """A workload log by name (`skewed_join`) or a public log by its path under tests/fixtures/eventlogs."""
    path = WORKLOAD_LOGS / f"{name}.zstd"
    if not path.exists():
        path = EVENTLOG_FIXTURES / name
    return load_profile(str(path))


@pytest.fixture(scope="session")
def profile_of():
    return load


@pytest.fixture(scope="session")
def healthy() -> AppProfile:
    return load("healthy")


def public_logs() -> list[Path]:
    """Every public application log under tests/fixtures/eventlogs (rolling directories count once)."""
    logs = []
    for path in sorted(EVENTLOG_FIXTURES.rglob("*")):
        if path.name == "SOURCES.tsv" or "eventlog_v2_" in str(path.parent):
            continue
        if path.is_file() or path.name.startswith("eventlog_v2_"):
            logs.append(path)
    return logs
