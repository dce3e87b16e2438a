"""Helpers that derive test inputs from real event logs (copies, splits, mutations)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

FIXTURES = Path(__file__).parents[1] / "fixtures" / "eventlogs"
SPARK_EVENTS = FIXTURES / "apache__spark" / "spark-events"
# Spark 2.1 standalone: 4 executors, failed tasks with ExceptionFailure.
FAILING_APP = SPARK_EVENTS / "app-20161115172038-0000"
# Spark 2.3 on YARN: several stages, spills, executors removed, failed tasks.
YARN_APP = SPARK_EVENTS / "application_1538416563558_0014"
# Spark 3.x local app with SQL executions.
SQL_APP = SPARK_EVENTS / "local-1642039451826"
ZSTD_APP = FIXTURES / "NVIDIA__spark-rapids-tools" / "dsAndDf_eventlog.zstd"
ROLLING_APP = FIXTURES / "NVIDIA__spark-rapids-tools" / "eventlog_v2_local-1623876083964"


def events(path: Path) -> list[dict]:
    """The events of a plain-text log, parsed with the standard json module (the independent reader)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_events(path: Path, items: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in items))
    return path


def databricks_layout(source: Path, target_dir: Path, parts: int = 3) -> Path:
    """Split a plain log Databricks-style: rolled `eventlog-<date>.gz` parts plus the current `eventlog`."""
    lines = source.read_bytes().splitlines(keepends=True)
    size = -(-len(lines) // parts)
    chunks = [lines[i : i + size] for i in range(0, len(lines), size)]
    target_dir.mkdir(parents=True)
    for i, chunk in enumerate(chunks[:-1]):
        (target_dir / f"eventlog-2024-03-0{i + 1}--10-00.gz").write_bytes(gzip.compress(b"".join(chunk)))
    (target_dir / "eventlog").write_bytes(b"".join(chunks[-1]))
    return target_dir
