"""`copilot profile`: a readable summary, the full profile as JSON, one profile per app under a directory."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from tests.eventlog.logs import FAILING_APP, SPARK_EVENTS, ZSTD_APP
from tools.eventlog.model import AppProfile

DEMO_LOG = SPARK_EVENTS / "application_1555004656427_0144"


def copilot(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "copilot.cli", *args], capture_output=True, text=True, timeout=120,
                          env={"COLUMNS": "140", "PATH": "/usr/bin:/bin"})


def test_summary_of_the_demo_log():
    done = copilot("profile", str(DEMO_LOG))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Spark shell" in out and "application_1555004656427_0144" in out
    assert "Spark 3.0.0-SNAPSHOT" in out and "master yarn" in out and "user tgraves" in out
    assert "Executors 2" in out


def test_summary_shows_top_stages_and_failures():
    done = copilot("profile", str(FAILING_APP))
    assert done.returncode == 0, done.stderr
    assert "Top stages by duration" in done.stdout
    assert "count at" in done.stdout and "16 +10f" in done.stdout
    assert "10 tasks: ExceptionFailure:java.lang.RuntimeException" in done.stdout


def test_json_is_the_full_app_profile():
    done = copilot("profile", str(FAILING_APP), "--json")
    assert done.returncode == 0, done.stderr
    profile = AppProfile.model_validate_json(done.stdout)
    assert profile.total_tasks == 26 and profile.failed_tasks == 10
    assert profile.stages[0].metrics.duration_ms.count == 16


def test_directory_of_apps_gives_one_profile_each(tmp_path):
    shutil.copy(FAILING_APP, tmp_path / FAILING_APP.name)
    shutil.copy(ZSTD_APP, tmp_path / ZSTD_APP.name)
    done = copilot("profile", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)
    assert isinstance(items, list) and len(items) == 2
    assert {AppProfile.model_validate(i).source.codec for i in items} == {"none", "zstd"}
    human = copilot("profile", str(tmp_path))
    assert human.returncode == 0
    assert human.stdout.count("Top stages by duration") == 2


def test_names_with_brackets_print_as_written(tmp_path):
    """An app name is data: "[/etl]" neither vanishes nor crashes rich's markup parser (it raised MarkupError)."""
    name = "nightly [/etl] [bold]orders[/bold]"
    log = tmp_path / DEMO_LOG.name
    log.write_text(DEMO_LOG.read_text().replace('"App Name":"Spark shell"', json.dumps({"App Name": name})[1:-1], 1))
    done = copilot("profile", str(log))
    assert done.returncode == 0, done.stderr
    assert name in done.stdout


def test_summary_lists_the_cached_data():
    """The BisectingKMeans log persisted one RDD, which six jobs ran through before it was released."""
    done = copilot("profile", str(SPARK_EVENTS / "application_1538416563558_0014"))
    assert done.returncode == 0, done.stderr
    assert ("Cached data (1)\n  RDD 5: Disk Memory Deserialized · 2 partitions · 6 actions · unpersisted\n"
            "    map at BisectingKMeans.scala:168\n") in done.stdout
    assert "Cached data" not in copilot("profile", str(DEMO_LOG)).stdout


def test_stages_are_named_by_what_ran_in_them():
    """Spark calls the skewed join's stage '$anonfun$withThreadLocalCaptured$1 at CompletableFuture.java:1768'."""
    from tests.conftest import FIXTURES_DIR

    done = copilot("profile", str(FIXTURES_DIR / "workloads" / "skewed_join.zstd"))
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.lstrip().startswith("4.0 "))
    assert "SQL 0: Sort, SortMergeJoin, HashAggregate" in row and "anonfun" not in done.stdout
