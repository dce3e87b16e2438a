"""`copilot batch shs://host:port`: a whole real Spark History Server, downloaded into the cache and batched like files."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.batch import run_batch
from copilot.cli import app
from copilot.settings import get_settings
from copilot.store import Store
from tools.eventlog import load_profile
from tools.sources.shs import list_applications

pytestmark = pytest.mark.slow




def _app_ids(store: Store) -> list[str]:
    with store.connect() as con:
        return sorted(r[0] for r in con.execute("SELECT app_id FROM applications").fetchall())


def test_a_history_server_is_batched_through_the_cache_and_a_rerun_downloads_and_analyzes_nothing(
    history_server, tmp_path
):
    url = history_server["url"]
    completed = sorted(a.id for a in list_applications(url, status="completed"))
    assert load_profile(history_server["local_log"]).app_id in completed and len(completed) >= 4
    store = Store(tmp_path / "s.duckdb")
    summary = run_batch(url, store, workers=2)
    assert (summary.discovered, summary.analyzed, summary.failed) == (len(completed), len(completed), 0), summary.failures
    assert _app_ids(store) == completed
    cache = get_settings().home / "cache" / "shs"
    with store.connect() as con:
        paths = [Path(r[0]) for r in con.execute("SELECT log_path FROM applications").fetchall()]
    assert all(cache in p.parents for p in paths)
    stamps = {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}

    again = run_batch(url, store, workers=2)
    assert (again.analyzed, again.failed, again.skipped) == (0, 0, len(completed))
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()} == stamps  # served from the cache
    assert again.fleet.apps == len(completed)


def test_the_batch_command_takes_a_history_server_url(history_server):
    result = CliRunner().invoke(app, ["batch", history_server["url"], "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["analyzed"] >= 4 and summary["failed"] == 0
    assert summary["source"] == history_server["url"]


def test_an_unreachable_history_server_is_one_line_and_exit_2(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = subprocess.run([sys.executable, "-m", "copilot.cli", "batch", f"shs://127.0.0.1:{port}"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("copilot: error:") and "History Server" in result.stderr
    assert result.stderr.strip().count("\n") == 0
