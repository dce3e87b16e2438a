"""Several processes using one store at once take turns: nothing lost, nothing duplicated, no errors."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from copilot.store import Store
from copilot.store.history import list_applications

from store_rows import count

WRITER = """
import json, sys
from copilot.store import Store, LogOutcome
from copilot.store.writer import write_outcomes
store = Store(sys.argv[1], lock_timeout_s=120)
outcomes = [LogOutcome.model_validate(o) for o in json.load(open(sys.argv[2]))]
for round_ in range(int(sys.argv[3])):
    for outcome in outcomes:
        write_outcomes(store, [outcome], f"writer-{sys.argv[4]}")
print("ok")
"""


def _variants(outcomes, prefix: str):
    """Copies of the real outcomes under distinct hashes (as if they were other logs)."""
    result = []
    for i, outcome in enumerate(outcomes):
        copy = outcome.model_copy(deep=True)
        copy.log.log_hash = f"{prefix}-{i}"
        copy.record.log = copy.log
        copy.record.app_id = f"{copy.record.app_id}-{prefix}"
        result.append(copy)
    return result


def test_concurrent_writers_and_readers_share_one_store(tmp_path, outcomes):
    store_path = tmp_path / "shared.duckdb"
    shared = _variants(outcomes, "shared")
    procs = []
    for writer in range(3):
        mine = shared + _variants(outcomes, f"own{writer}")  # every writer also writes the shared logs
        payload = tmp_path / f"w{writer}.json"
        payload.write_text(json.dumps([o.model_dump(mode="json") for o in mine]))
        procs.append(subprocess.Popen(
            [sys.executable, "-c", WRITER, str(store_path), str(payload), "2", str(writer)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    store = Store(store_path)
    reads = 0
    while any(p.poll() is None for p in procs):
        list_applications(store, limit=5)  # a reader taking its turn between writers
        reads += 1
        time.sleep(0.05)
    for proc in procs:
        out, err = proc.communicate()
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    expected_apps = len(outcomes) * (1 + 3)
    assert reads > 0
    assert count(store, "applications") == expected_apps
    with store.connect() as con:
        dupes = con.execute("SELECT count(*) FROM (SELECT log_hash FROM applications GROUP BY log_hash HAVING count(*) > 1)").fetchall()[0][0]
        findings = con.execute("SELECT count(*) FROM findings").fetchall()[0][0]
    assert dupes == 0
    assert findings == 4 * sum(len(o.record.findings) for o in outcomes)
