"""Run a PySpark workload locally with event logging on, and return the log it wrote.

One JVM serves many runs: each run gets its own SparkContext (and so its own
application id and event log), created with the run's configuration and stopped
after it. Workload functions take a SparkSession and a scale and return nothing.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

Workload = Callable[..., None]

BASE_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.eventLog.enabled": "true",
    "spark.eventLog.rolling.enabled": "false",
    "spark.eventLog.compress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.driver.memory": "1g",
    "spark.sql.warehouse.dir": "",  # filled per run
    "spark.driver.extraJavaOptions": "-Dderby.system.home=/tmp",
}


def spark_session(app_name: str, log_dir: Path, conf: Mapping[str, str] | None = None, master: str = "local[2]"):
    """A fresh SparkSession writing its event log into `log_dir`."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    log_dir.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.master(master).appName(app_name)
    settings = {**BASE_CONF, **(conf or {})}
    settings["spark.eventLog.dir"] = log_dir.resolve().as_uri()
    settings["spark.sql.warehouse.dir"] = str((log_dir / "_warehouse").resolve())
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def run_workload(
    workload: Workload,
    log_dir: Path,
    app_name: str,
    conf: Mapping[str, str] | None = None,
    master: str = "local[2]",
    **params: object,
) -> Path:
    """Run `workload(spark, **params)` in its own application and return its event log path."""
    spark = spark_session(app_name, log_dir, conf, master)
    app_id = spark.sparkContext.applicationId
    try:
        workload(spark, **params)
    finally:
        spark.stop()
    return _wait_for_log(log_dir, app_id)


def _wait_for_log(log_dir: Path, app_id: str, timeout_s: float = 30.0) -> Path:
    """The finished log of `app_id` (Spark renames `.inprogress` away at stop)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for candidate in log_dir.iterdir():
            if candidate.name.startswith(app_id) and not candidate.name.endswith(".inprogress"):
                return candidate
            if candidate.name.startswith(f"eventlog_v2_{app_id}"):
                return candidate
        time.sleep(0.1)
    raise TimeoutError(f"no finished event log for {app_id} in {log_dir}")
