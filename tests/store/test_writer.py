"""Writing results: exactly once per log, all of an application or none of it."""

from __future__ import annotations

import pytest

from copilot.store import Store
from copilot.store.records import LogIdentity, LogOutcome, StageSummary
from copilot.store.writer import stored_hashes, write_outcomes

from store_rows import count


def test_writing_the_same_logs_twice_stores_each_once(tmp_path, outcomes):
    store = Store(tmp_path / "s.duckdb")
    write_outcomes(store, outcomes, "run-1")
    first = {t: count(store, t) for t in ("applications", "stages", "findings")}
    write_outcomes(store, outcomes, "run-2")
    assert {t: count(store, t) for t in ("applications", "stages", "findings")} == first
    assert first["applications"] == len(outcomes)
    assert first["stages"] == sum(len(o.record.stages) for o in outcomes)
    assert first["findings"] == sum(len(o.record.findings) for o in outcomes)
    assert stored_hashes(store) == {o.log.log_hash for o in outcomes}


def test_a_group_that_fails_mid_write_leaves_nothing_of_itself(tmp_path, outcomes):
    store = Store(tmp_path / "s.duckdb")
    write_outcomes(store, outcomes[:1])
    broken = outcomes[1].model_copy(deep=True)
    duplicate = StageSummary(stage_id=0, attempt_id=0)
    broken.record.stages = [duplicate, duplicate]  # violates the stage primary key inside the transaction
    with pytest.raises(Exception):
        write_outcomes(store, [outcomes[2], broken])
    assert stored_hashes(store) == {outcomes[0].log.log_hash}
    assert count(store, "stages") == len(outcomes[0].record.stages)
    assert count(store, "findings") == len(outcomes[0].record.findings)


def test_a_failed_log_is_recorded_with_its_reason_and_cleared_when_it_later_succeeds(tmp_path, outcomes):
    store = Store(tmp_path / "s.duckdb")
    good = outcomes[0]
    failed = LogOutcome(status="failed", log=good.log, reason="corrupt zstd frame")
    write_outcomes(store, [failed])
    with store.connect() as con:
        assert con.execute("SELECT log_path, reason FROM batch_failures").fetchall() == [
            (good.log.log_path, "corrupt zstd frame")
        ]
    assert stored_hashes(store, include_failed=False) == set()
    assert stored_hashes(store) == {good.log.log_hash}
    write_outcomes(store, [good])
    assert count(store, "batch_failures") == 0
    assert count(store, "applications") == 1


def test_a_finished_log_replaces_the_stored_snapshot_of_the_same_running_application(tmp_path, outcomes):
    store = Store(tmp_path / "s.duckdb")
    finished = outcomes[0]
    running = finished.model_copy(deep=True)
    running.log = LogIdentity(log_path=finished.log.log_path + ".inprogress", log_hash="snapshot", log_bytes=10)
    running.record.log = running.log
    running.record.complete = False
    write_outcomes(store, [running])
    write_outcomes(store, [finished])
    with store.connect() as con:
        rows = con.execute("SELECT log_hash, complete FROM applications").fetchall()
        orphans = con.execute("SELECT count(*) FROM stages WHERE log_hash = 'snapshot'").fetchall()[0][0]
    assert rows == [(finished.log.log_hash, True)]
    assert orphans == 0
