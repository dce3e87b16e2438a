"""A batch killed with SIGKILL mid-run is completed by the next run, nothing lost, nothing duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import duckdb

from copilot.batch import run_batch
from copilot.store import Store
from evals.bench.bench_batch import build_fleet


def _stored(store_path) -> int:
    """Rows committed so far, read without taking the writer's lock away for long."""
    try:
        con = duckdb.connect(str(store_path), read_only=True)
    except duckdb.Error:
        return -1  # the batch is writing right now
    try:
        return con.execute("SELECT count(*) FROM applications").fetchall()[0][0]
    except duckdb.Error:
        return 0
    finally:
        con.close()


def test_a_batch_killed_mid_run_is_completed_by_a_rerun(tmp_path, copilot_home):
    fleet = tmp_path / "fleet"
    paths = build_fleet(fleet, 400, seed=11, compress_every=3)
    store_path = copilot_home / "copilot.duckdb"
    proc = subprocess.Popen(
        [sys.executable, "-m", "copilot.cli", "batch", str(fleet), "--workers", "2", "--json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        stored = max(stored, _stored(store_path))
        if stored >= 1:  # the first group is committed: kill it now, well before the end
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"batch ended before it could be killed: {proc.stderr.read()}"
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and its workers, as a crash would
    proc.wait()

    store = Store(store_path)
    with store.connect() as con:
        before = con.execute("SELECT count(*) FROM applications").fetchall()[0][0]
    assert 1 <= before < len(paths)

    summary = run_batch(str(fleet), store, workers=2)
    assert summary.skipped >= before
    assert summary.analyzed + summary.skipped + summary.failed == len(paths)
    with store.connect() as con:
        total, distinct = con.execute("SELECT count(*), count(DISTINCT log_hash) FROM applications").fetchall()[0]
        distinct_apps = con.execute("SELECT count(DISTINCT app_id) FROM applications").fetchall()[0][0]
        finding_dupes = con.execute(
            "SELECT count(*) FROM (SELECT log_hash, rank FROM findings GROUP BY ALL HAVING count(*) > 1)"
        ).fetchall()[0][0]
        orphans = con.execute(
            "SELECT count(*) FROM findings WHERE log_hash NOT IN (SELECT log_hash FROM applications)"
        ).fetchall()[0][0]
        runs = dict(con.execute("SELECT status, count(*) FROM batch_runs GROUP BY status").fetchall())
    assert total == distinct == distinct_apps == len(paths) - summary.failed
    assert summary.failed == 0
    assert finding_dupes == 0 and orphans == 0
    assert runs == {"interrupted": 1, "complete": 1}


def test_ctrl_c_stops_the_batch_cleanly_keeping_what_it_analyzed(tmp_path, copilot_home):
    import json

    fleet = tmp_path / "fleet"
    build_fleet(fleet, 400, seed=13)
    store_path = copilot_home / "copilot.duckdb"
    proc = subprocess.Popen(
        [sys.executable, "-m", "copilot.cli", "batch", str(fleet), "--workers", "2", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and _stored(store_path) < 1:
        time.sleep(0.05)
    assert proc.poll() is None, "batch ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert "Traceback" not in err
    summary = json.loads(out)
    assert summary["status"] == "interrupted"
    with Store(store_path).connect() as con:
        stored = con.execute("SELECT count(*) FROM applications").fetchall()[0][0]
        status = con.execute("SELECT status FROM batch_runs").fetchall()
    assert stored == summary["analyzed"] < 400
    assert status == [("interrupted",)]
