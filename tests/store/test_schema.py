"""The store's schema is versioned; older stores are migrated in place, newer ones refused."""

from __future__ import annotations

import duckdb
import pytest

from copilot.store import LATEST_VERSION, Store
from copilot.store.history import _stages as stored_stages
from copilot.store.schema import current_version, migrate
from copilot.store.writer import write_outcomes
from tools.errors import ConfigurationError


def test_a_new_store_is_created_at_the_latest_schema_version(tmp_path):
    store = Store(tmp_path / "new" / "copilot.duckdb")
    with store.connect() as con:
        assert current_version(con) == LATEST_VERSION
        versions = [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()]
    assert versions == list(range(1, LATEST_VERSION + 1))


def test_a_version_1_store_is_migrated_in_place_keeping_its_rows(tmp_path, outcomes):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    assert migrate(con, target=1) == 1
    con.execute(
        "INSERT INTO applications (log_hash, log_path, app_id, app_name, duration_ms, complete) "
        "VALUES ('oldhash', '/logs/old', 'app-old', 'nightly', 1000, true)"
    )
    con.execute("INSERT INTO findings (log_hash, rank, rule_id) VALUES ('oldhash', 1, 'stage_task_skew')")
    con.execute("INSERT INTO stages (log_hash, stage_id, attempt_id, name, status, num_tasks, tasks_failed) "
                "VALUES ('oldhash', 0, 0, 'collect at Job.scala:3', 'complete', 4, 0)")
    assert "log_files" not in {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    con.close()

    store = Store(path)
    write_outcomes(store, outcomes[:2])  # needs the version 2 table
    with store.connect() as con:
        assert current_version(con) == LATEST_VERSION
        assert con.execute("SELECT app_id FROM applications WHERE log_hash = 'oldhash'").fetchall() == [("app-old",)]
        assert con.execute("SELECT count(*) FROM findings WHERE log_hash = 'oldhash'").fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM log_files").fetchall() == [(2,)]
        assert con.execute("SELECT count(*) FROM applications").fetchall() == [(3,)]
        # a row stored before version 5 has no peak; the report falls back to the executor count
        assert con.execute("SELECT peak_executors FROM applications WHERE log_hash = 'oldhash'").fetchall() == [(None,)]
        # stages stored before version 7 do not say what ran in them; new rows do
        assert con.execute("SELECT what_ran FROM stages WHERE log_hash = 'oldhash'").fetchall() == [(None,)]
        assert con.execute("SELECT count(*) FROM stages WHERE what_ran IS NOT NULL").fetchone()[0] > 0
        [old_stage] = stored_stages(con, "oldhash")  # as history and trends read them
    assert (old_stage.name, old_stage.what_ran) == ("collect at Job.scala:3", None)


def test_a_store_from_a_newer_copilot_is_refused_with_one_clear_line(tmp_path):
    path = tmp_path / "future.duckdb"
    con = duckdb.connect(str(path))
    migrate(con)
    con.execute("INSERT INTO schema_version (version, description) VALUES (?, 'from the future')", [LATEST_VERSION + 5])
    con.close()
    with pytest.raises(ConfigurationError, match="newer than this copilot supports"):
        with Store(path).connect():
            pass


def test_a_store_path_that_cannot_be_created_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigurationError, match="history store"):
        with Store(blocker / "sub" / "copilot.duckdb").connect():
            pass
