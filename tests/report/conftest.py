"""Fixtures for the report tests: one real analysis rendered in every format."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def yarn_log(eventlog_fixtures: Path) -> str:
    return str(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "join_agg_on_yarn_eventlog.zstd")
