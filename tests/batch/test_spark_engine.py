"""`--engine spark` on local[2] runs the same per-log analysis and finds exactly what the local engine finds."""

from __future__ import annotations

import os
import sys

import pyarrow.parquet as pq
import pytest

from copilot.batch import run_batch
from copilot.batch_spark import run_spark_batch, spark_session
from copilot.store import Store

from batch_fleet import good_logs

pytestmark = pytest.mark.slow


def _findings(store: Store) -> dict[str, list[tuple]]:
    with store.connect() as con:
        rows = con.execute(
            "SELECT log_hash, rule_id, severity, round(savings_core_ms, 3), stage_ids FROM findings ORDER BY log_hash, rank"
        ).fetchall()
        apps = con.execute("SELECT log_hash, app_id, duration_ms, cost FROM applications ORDER BY log_hash").fetchall()
    grouped: dict[str, list[tuple]] = {h: [] for h, *_ in apps}
    for log_hash, *rest in rows:
        grouped[log_hash].append(tuple(rest))
    return {"apps": apps, **grouped}


@pytest.fixture(scope="module")
def spark():
    """One local[2] session for this module's tests."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = spark_session("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_the_spark_engine_stores_the_same_findings_as_the_local_engine(fleet, tmp_path, spark):
    local = Store(tmp_path / "local.duckdb")
    run_batch(str(fleet), local, workers=2)
    via_spark = Store(tmp_path / "spark.duckdb")
    summary = run_spark_batch(str(fleet), tmp_path / "parquet", store=via_spark, spark=spark, partitions=4)
    assert (summary.analyzed, summary.failed) == (good_logs(), 1)
    assert "corrupt zstd data" in summary.failures[0].reason
    assert _findings(via_spark) == _findings(local)

    out = tmp_path / "parquet" / summary.run_id
    applications = pq.read_table(out / "applications").to_pylist()
    assert sorted(r["status"] for r in applications) == ["analyzed"] * good_logs() + ["failed"]
    findings = pq.read_table(out / "findings")
    assert findings.num_rows == sum(len(r["findings"]) for r in applications)


def test_the_spark_engine_skips_logs_the_store_already_has(fleet, tmp_path, spark):
    store = Store(tmp_path / "s.duckdb")
    run_batch(str(fleet), store, workers=2)
    summary = run_spark_batch(str(fleet), tmp_path / "parquet", store=store, spark=spark)
    assert (summary.analyzed, summary.skipped, summary.failed) == (0, good_logs() + 1, 0)
    with store.connect() as con:
        assert con.execute("SELECT count(*) FROM applications").fetchall()[0][0] == good_logs()


def test_the_spark_engine_can_write_parquet_only(fleet, tmp_path, spark):
    summary = run_spark_batch(str(fleet), tmp_path / "parquet", store=None, spark=spark)
    assert (summary.analyzed, summary.failed) == (good_logs(), 1)
    rows = pq.read_table(tmp_path / "parquet" / summary.run_id / "applications").num_rows
    assert rows == good_logs() + 1


def test_the_batch_command_runs_on_the_active_spark_session(fleet, tmp_path, spark):
    import json

    from typer.testing import CliRunner

    from copilot.cli import app

    result = CliRunner().invoke(app, ["batch", str(fleet), "--engine", "spark", "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["engine"], summary["analyzed"], summary["failed"]) == ("spark", good_logs(), 1)
    assert (tmp_path / "out" / summary["run_id"] / "findings").is_dir()
