"""A real Spark History Server from the installed pyspark, on loopback: one per test session.

Imported into tests/conftest.py, so the source tests and the batch tests share the same server.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _history_server_command(log_dir: Path, port: int) -> list[str]:
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    return [
        "java", "-Xmx384m", "-cp", f"{jars}/*",
        f"-Dspark.history.fs.logDirectory={log_dir.as_uri()}",
        f"-Dspark.history.ui.port={port}",
        "-Dspark.history.fs.update.interval=1s",
        "-Dspark.ui.bindAddress=127.0.0.1",
        "org.apache.spark.deploy.history.HistoryServer",
    ]


def _copy_fixture_logs(eventlog_fixtures: Path, log_dir: Path) -> None:
    spark_events = eventlog_fixtures / "apache__spark" / "spark-events"
    for name in ("application_1628109047826_1317105", "local-1430917381535_1", "local-1430917381535_2"):
        shutil.copy(spark_events / name, log_dir / name)
    rolling = eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "eventlog_v2_local-1623876083964"
    shutil.copytree(rolling, log_dir / rolling.name)


def _local_spark_log(log_dir: Path) -> Path:
    """One small application run by local PySpark, its event log written straight into the server's directory."""
    from evals.workloads.runner import run_workload

    def workload(spark) -> None:
        spark.range(0, 20_000).selectExpr("id % 7 AS k", "id").groupBy("k").count().collect()

    return run_workload(workload, log_dir, "shs-fixture")


@pytest.fixture(scope="session")
def history_server(tmp_path_factory: pytest.TempPathFactory, eventlog_fixtures: Path):
    """A real Spark History Server from the installed pyspark, on loopback, serving fixture logs and one local Spark log."""
    if shutil.which("java") is None:
        pytest.skip("java is not on PATH")
    log_dir = tmp_path_factory.mktemp("shs_logs")
    _copy_fixture_logs(eventlog_fixtures, log_dir)
    local_log = _local_spark_log(log_dir)
    port = free_port()
    out = (log_dir.parent / "shs.out").open("wb")
    process = subprocess.Popen(_history_server_command(log_dir, port), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        expected = 4  # 3 fixture applications (one with two attempts) + the local Spark run
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"History Server exited with {process.returncode}; see {out.name}")
            try:
                apps = httpx.get(f"{url}/api/v1/applications", timeout=2).json()
                if len(apps) >= expected:
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"History Server did not list {expected} applications in 120 s; see {out.name}")
            time.sleep(0.5)
        yield {"url": f"shs://127.0.0.1:{port}", "log_dir": log_dir, "local_log": local_log}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        out.close()
