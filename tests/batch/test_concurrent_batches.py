"""Two batches over the same folder at once share the store: both finish, every app stored once."""

from __future__ import annotations

import json
import subprocess
import sys

from copilot.store import Store
from copilot.settings import get_settings
from evals.bench.bench_batch import build_fleet


def test_two_batches_at_once_store_each_app_exactly_once(tmp_path):
    fleet = tmp_path / "fleet"
    paths = build_fleet(fleet, 40, seed=5)
    command = [sys.executable, "-m", "copilot.cli", "batch", str(fleet), "--workers", "1", "--json"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = []
    for proc in (first, second):
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    assert all(r["failed"] == 0 for r in results)
    assert all(r["fleet"]["apps"] == len(paths) for r in results)
    with Store(get_settings().store_path).connect() as con:
        total, distinct = con.execute("SELECT count(*), count(DISTINCT log_hash) FROM applications").fetchall()[0]
    assert total == distinct == len(paths)
