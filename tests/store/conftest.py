"""Store fixtures: real outcomes of analyzing public event logs, made once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from copilot.store import LogOutcome

LOGS = (
    "apache__spark/spark-events/local-1422981780767",
    "apache__spark/spark-events/application_1538416563558_0014",
    "apache__spark/spark-events/app-20161115172038-0000",
    "qubole__sparklens/local-1532512550423",
    "NVIDIA__spark-rapids-tools/dsAndDf_eventlog.zstd",
)


@pytest.fixture(scope="session")
def outcomes(eventlog_fixtures: Path) -> list[LogOutcome]:
    """Analyzed outcomes of a handful of real logs (the same function the batch workers run)."""
    from copilot.batch import analyze_log
    from copilot.settings import Settings

    settings = Settings()
    results = [analyze_log(str(eventlog_fixtures / name), frozenset(), settings) for name in LOGS]
    assert all(r.status == "analyzed" for r in results), [r.reason for r in results if r.status != "analyzed"]
    return results


@pytest.fixture(scope="session")
def secret_log_outcome(eventlog_fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> LogOutcome:
    """The analyzed outcome of a real log with secrets planted in its Spark properties (tests/graph/planted_secrets)."""
    from copilot.batch import analyze_log
    from copilot.settings import Settings

    sys.path.insert(0, str(Path(__file__).parents[1] / "graph"))
    from planted_secrets import plant

    source = eventlog_fixtures / "apache__spark" / "spark-events" / "application_1538416563558_0014"
    log = plant(source, tmp_path_factory.mktemp("secret_store") / "application_1538416563558_0088")
    result = analyze_log(str(log), frozenset(), Settings())
    assert result.status == "analyzed", result.reason
    return result
