"""Run a PySpark workload locally with event logging on, and return the log it wrote.

One JVM serves many runs: each run gets its own SparkContext (and so its own
application id and event log), created with exactly the run's configuration and
stopped after it. Workload functions take a SparkSession and a scale and return nothing.
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


# Options the driver JVM reads only when it starts; the first run launches the JVM with them.
LAUNCH_KEYS = ("spark.driver.memory", "spark.driver.extraJavaOptions")


def run_settings(app_name: str, log_dir: Path, conf: Mapping[str, str] | None = None, master: str = "local[2]") -> dict[str, str]:
    """Every option of one run: the base options, the run's own, its log and warehouse directories."""
    settings = {**BASE_CONF, **(conf or {})}
    settings["spark.master"] = master
    settings["spark.app.name"] = app_name
    settings["spark.eventLog.dir"] = log_dir.resolve().as_uri()
    settings["spark.sql.warehouse.dir"] = str((log_dir / "_warehouse").resolve())
    return settings


def spark_session(app_name: str, log_dir: Path, conf: Mapping[str, str] | None = None, master: str = "local[2]"):
    """A fresh SparkSession writing its event log into `log_dir`, configured with this run's options only.

    `SparkSession.builder` would start from a SparkConf that loads the JVM's system properties, and the
    shared JVM keeps as system properties the options it was launched with (the first run's): those would
    leak into every later run. So the JVM is launched with the driver-JVM options alone, and each run's
    SparkConf skips the system properties and holds exactly `run_settings`.
    """
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    log_dir.mkdir(parents=True, exist_ok=True)
    settings = run_settings(app_name, log_dir, conf, master)
    launch = SparkConf(loadDefaults=False).setAll([(k, settings[k]) for k in LAUNCH_KEYS if k in settings])
    SparkContext._ensure_initialized(conf=launch)  # starts the gateway JVM once per process (no-op afterwards)
    run_conf = SparkConf(loadDefaults=False).setAll(list(settings.items()))
    return SparkSession(SparkContext(conf=run_conf))


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
