"""Real servers for the source tests: a PostgreSQL cluster and a Spark History Server, both on loopback."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

PG_USER = "copilot"
PG_PASSWORD = "s3cret-Pw-42"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_bin() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL cluster on 127.0.0.1 with password auth; stopped and deleted afterwards."""
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine: apt-get install postgresql")
    as_postgres: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="copilot-pg-"))
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        if shutil.which("runuser") is None or subprocess.run(["id", "postgres"], capture_output=True).returncode:
            shutil.rmtree(root)
            pytest.skip("running as root without a 'postgres' user to run the server as")
        as_postgres = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
    data, port = root / "data", free_port()
    (root / "pw").write_text(PG_PASSWORD)
    if as_postgres:
        shutil.chown(root / "pw", "postgres")
    subprocess.run(
        as_postgres + [str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, "--pwfile", str(root / "pw"), "--auth=scram-sha-256", "-E", "UTF8"],
        check=True, capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run(as_postgres + [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+pg8000://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_postgres + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


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
