"""Where logs live: rolling and Databricks directories, directory trees, fsspec URLs, in-progress files."""

from __future__ import annotations

import gzip
import shutil
import uuid

import fsspec
import pytest

from tests.eventlog.logs import ROLLING_APP, SQL_APP, YARN_APP, ZSTD_APP, databricks_layout
from tools.eventlog import discover_applications, load_profile


def signature(profile):
    """What must not change when the same events are stored differently."""
    return (
        profile.app_id, profile.total_tasks, profile.failed_tasks, len(profile.jobs), len(profile.executors),
        [(s.stage_id, s.attempt_id, s.status, s.tasks_succeeded,
          s.metrics.duration_ms.sum if s.metrics.duration_ms else None) for s in profile.stages],
        [(x.execution_id, len(x.nodes)) for x in profile.sql_executions],
        profile.used_core_ms, profile.critical_path_ms,
    )


def test_databricks_layout_gives_the_same_profile_as_the_single_file(tmp_path):
    layout = databricks_layout(SQL_APP, tmp_path / "cluster-1" / "driver-context")
    refs = discover_applications(tmp_path)
    assert len(refs) == 1
    assert [p.rsplit("/", 1)[-1] for p in refs[0].parts] == [
        "eventlog-2024-03-01--10-00.gz", "eventlog-2024-03-02--10-00.gz", "eventlog"]
    profile = load_profile(layout)
    assert signature(profile) == signature(load_profile(SQL_APP))
    assert profile.source.codec == "gzip+none"
    assert profile.complete


def test_rolling_directory_parts_are_read_in_index_order(tmp_path):
    target = tmp_path / ROLLING_APP.name
    shutil.copytree(ROLLING_APP, target)
    # rename so that lexical order (events_10 < events_2) differs from index order
    (target / "events_2_local-1623876083964.zstd").rename(target / "events_10_local-1623876083964.zstd")
    ref = discover_applications(target)[0]
    assert ref.parts[-1].endswith("events_10_local-1623876083964.zstd")
    profile = load_profile(target)
    assert profile.complete and profile.source.bad_lines == 0
    assert signature(profile) == signature(load_profile(ROLLING_APP))


def test_memory_url_reads_files_and_rolling_directories():
    root = f"memory://copilot-test-{uuid.uuid4().hex}"
    fs = fsspec.filesystem("memory")
    fs.pipe(f"{root}/logs/{ZSTD_APP.name}", ZSTD_APP.read_bytes())
    for part in ROLLING_APP.iterdir():
        fs.pipe(f"{root}/logs/{ROLLING_APP.name}/{part.name}", part.read_bytes())
    refs = discover_applications(f"{root}/logs")
    assert sorted(r.app_key for r in refs) == ["dsAndDf_eventlog", "local-1623876083964"]
    for ref in refs:
        assert ref.path.startswith("memory://")
        local = ZSTD_APP if ref.app_key == "dsAndDf_eventlog" else ROLLING_APP
        assert signature(load_profile(ref.path)) == signature(load_profile(local))
    fs.rm(root.replace("memory://", "/"), recursive=True)


def test_file_url_works_like_a_local_path():
    assert signature(load_profile(YARN_APP.as_uri())) == signature(load_profile(YARN_APP))


def test_directory_tree_discovery_skips_files_that_are_not_event_logs(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    shutil.copy(YARN_APP, tmp_path / "a" / YARN_APP.name)
    shutil.copy(ZSTD_APP, tmp_path / "a" / "b" / ZSTD_APP.name)
    shutil.copytree(ROLLING_APP, tmp_path / ROLLING_APP.name)
    (tmp_path / "a" / "notes.txt").write_text("not a log\n")
    (tmp_path / "a" / "metrics.json").write_text('{"rows": 1}\n')
    (tmp_path / "a" / ".hidden").write_text('{"Event":"SparkListenerLogStart"}\n')
    refs = discover_applications(tmp_path)
    assert sorted(r.app_key for r in refs) == sorted([YARN_APP.name, "dsAndDf_eventlog", "local-1623876083964"])
    assert {r.codec for r in refs} == {"none", "zstd"}
    assert all(r.total_bytes > 0 and r.parts for r in refs)


def test_load_profile_on_a_directory_with_one_app_profiles_it(tmp_path):
    shutil.copy(YARN_APP, tmp_path / YARN_APP.name)
    assert load_profile(tmp_path).app_id == load_profile(YARN_APP).app_id


def test_inprogress_log_with_a_truncated_last_line_is_incomplete_not_an_error(tmp_path):
    data = YARN_APP.read_bytes()
    cut = data.rfind(b'{"Event":"SparkListenerTaskEnd"') + 200
    log = tmp_path / f"{YARN_APP.name}.inprogress"
    log.write_bytes(data[:cut])
    refs = discover_applications(tmp_path)
    assert refs[0].incomplete
    assert discover_applications(tmp_path, include_incomplete=False) == []
    profile = load_profile(log)
    assert not profile.complete
    assert profile.source.bad_lines == 0
    assert any("cut off" in w for w in profile.warnings)
    assert any("ApplicationEnd" in w for w in profile.warnings)
    assert profile.total_tasks == load_profile(YARN_APP).total_tasks - 1


def test_inprogress_compressed_log_cut_mid_stream_is_read_up_to_the_cut(tmp_path):
    data = gzip.compress(YARN_APP.read_bytes())
    log = tmp_path / f"{YARN_APP.name}.gz.inprogress"
    log.write_bytes(data[: len(data) * 2 // 3])
    profile = load_profile(log)
    assert not profile.complete
    assert 0 < profile.total_tasks < load_profile(YARN_APP).total_tasks


def test_log_without_trailing_newline_is_complete(tmp_path):
    log = tmp_path / YARN_APP.name
    log.write_bytes(YARN_APP.read_bytes().rstrip(b"\n"))
    profile = load_profile(log)
    assert profile.complete and profile.warnings == []


@pytest.mark.parametrize("max_plan_chars", [200, 100_000])
def test_physical_plans_are_truncated_to_the_limit(max_plan_chars):
    profile = load_profile(SQL_APP, max_plan_chars=max_plan_chars)
    plans = [x.physical_plan for x in profile.sql_executions if x.physical_plan]
    assert plans
    assert all(len(p) <= max_plan_chars + 80 for p in plans)
    assert any("truncated" in p for p in plans) == (max_plan_chars == 200)
