"""Fixtures for the graph tests: real public event logs, one with planted secrets, and the LLM doubles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SECRETS = {
    "spark.hadoop.fs.s3a.secret.key": "S3CRETkeyVALUEdoNotLeak42",
    "spark.myapp.db.password": "hunter2-PLANTED-pw",
    "spark.myapp.jdbc.url": "jdbc:postgresql://db.internal:5432/sales?user=etl&password=JdbcPlantedPw99",
}
SECRET_VALUES = ("S3CRETkeyVALUEdoNotLeak42", "hunter2-PLANTED-pw", "JdbcPlantedPw99")


@pytest.fixture(scope="session")
def yarn_log(eventlog_fixtures: Path) -> str:
    """A real YARN application (10 executors, 6 stages, one straggler-heavy stage), zstd-compressed."""
    return str(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "join_agg_on_yarn_eventlog.zstd")


@pytest.fixture(scope="session")
def multi_stage_log(eventlog_fixtures: Path) -> str:
    """A real Spark 2.x YARN application with 14 stages and 9 executors (plain JSON lines)."""
    return str(eventlog_fixtures / "apache__spark" / "spark-events" / "application_1538416563558_0014")


def plant_secrets(source: Path, target: Path) -> Path:
    """Copy an event log, adding secret-bearing properties and a JDBC URL with a password to its environment."""
    lines = source.read_text().splitlines()
    out = []
    for line in lines:
        event = json.loads(line) if line.strip() else None
        if event and event.get("Event") == "SparkListenerEnvironmentUpdate":
            props = event.setdefault("Spark Properties", [])
            if isinstance(props, dict):
                props.update(SECRETS)
            else:
                props.extend([k, v] for k, v in SECRETS.items())
            line = json.dumps(event)
        out.append(line)
    target.write_text("\n".join(out) + "\n")
    return target


@pytest.fixture(scope="session")
def secret_log(multi_stage_log: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    target = tmp_path_factory.mktemp("secret") / "application_1538416563558_0099"
    return str(plant_secrets(Path(multi_stage_log), target))
