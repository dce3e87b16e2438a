"""Logs written by real local Spark in every codec and in rolling mode give the same profile."""

from __future__ import annotations

import random
import shutil

import pytest

from tests.eventlog.conftest import CODECS
from tests.eventlog.test_layouts import signature
from tools.errors import EventLogError
from tools.eventlog import discover_applications, load_profile

pytestmark = pytest.mark.slow


def shape(profile):
    """Counts and sums that do not depend on timing (each log is a separate run of the same workload)."""
    def total(field):
        return sum(getattr(s.metrics, field).sum for s in profile.stages if getattr(s.metrics, field))

    return {
        "tasks": profile.total_tasks,
        "jobs": len(profile.jobs),
        "stages": [(s.stage_id, s.attempt_id, s.status, s.num_tasks, s.tasks_succeeded, s.parent_ids) for s in profile.stages],
        "sql": [([n.name for n in x.nodes], x.job_ids) for x in profile.sql_executions],  # execution ids are per JVM
        "input_records": total("input_records"),
        "shuffle_read_records": total("shuffle_read_records"),
        "shuffle_write_records": total("shuffle_write_records"),
        "shuffle_write_bytes": total("shuffle_write_bytes"),
        "output_rows": sorted(n.metrics.get("number of output rows", -1) for x in profile.sql_executions for n in x.nodes),
        "executors": len(profile.executors),
        "complete": profile.complete,
    }


def test_every_codec_and_rolling_mode_give_the_same_counts_and_sums(spark_codec_logs):
    profiles = {name: load_profile(path) for name, path in spark_codec_logs.items()}
    reference = shape(profiles["none"])
    assert reference["tasks"] > 0 and reference["shuffle_write_bytes"] > 0
    for name, profile in profiles.items():
        assert shape(profile) == reference, name
        assert profile.source.bad_lines == 0 and profile.warnings == [], name
    for codec in CODECS:
        assert profiles[codec].source.codec == codec
    assert profiles["zstd-rolling"].source.codec == "zstd"
    assert spark_codec_logs["none-rolling"].name.startswith("eventlog_v2_")


def test_spark_run_profile_has_cached_and_shuffle_stages(spark_codec_logs):
    profile = load_profile(spark_codec_logs["zstd"])
    assert profile.spark_version and profile.master == "local[2]"
    assert any(s.parent_ids for s in profile.stages)
    assert any(s.status == "skipped" for s in profile.stages)
    assert sum(s.metrics.shuffle_read_records.sum for s in profile.stages if s.metrics.shuffle_read_records) > 0
    driver = profile.executors[0]
    assert driver.executor_id == "driver" and driver.cores == 2 and driver.task_count == profile.total_tasks
    assert any(n.metrics.get("number of output rows") for x in profile.sql_executions for n in x.nodes)


def test_same_run_copied_into_rolling_layout_gives_identical_profile(spark_codec_logs, tmp_path):
    """One run, two layouts: the numbers must be exactly equal, timings included."""
    single = spark_codec_logs["zstd"]
    rolling = tmp_path / f"eventlog_v2_{single.stem}"
    rolling.mkdir()
    shutil.copy(single, rolling / f"events_1_{single.name}")
    (rolling / f"appstatus_{single.stem}").write_bytes(b"")
    assert signature(load_profile(rolling)) == signature(load_profile(single))


def test_secrets_set_in_spark_never_reach_the_profile(spark_codec_logs):
    for path in spark_codec_logs.values():
        text = load_profile(path).model_dump_json()
        assert "hunter2" not in text
        assert "etl_user:*********(redacted)@db.internal" in text


def test_discovery_finds_every_codec_log(spark_codec_logs):
    root = next(iter(spark_codec_logs.values())).parent.parent
    refs = discover_applications(root)
    assert sorted(r.app_key for r in refs) == sorted(
        p.name.split(".")[0].removeprefix("eventlog_v2_") for p in spark_codec_logs.values())


@pytest.mark.parametrize("codec", ["lz4", "lzf", "snappy", "zstd"])
def test_mutated_spark_logs_give_a_profile_or_an_event_log_error(spark_codec_logs, tmp_path, codec):
    blob = spark_codec_logs[codec].read_bytes()
    rng = random.Random(codec)
    for i in range(25):
        data = bytearray(blob)
        if i % 2:
            data = data[: rng.randrange(len(data))]
        else:
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(len(data))] ^= rng.randint(1, 255)
        path = tmp_path / f"app{i}.{codec}"
        path.write_bytes(bytes(data))
        try:
            load_profile(path).model_dump_json()
        except EventLogError as exc:
            assert "\n" not in str(exc)


@pytest.mark.parametrize("codec", ["lz4", "lzf", "snappy", "zstd"])
def test_truncated_compressed_spark_log_is_an_error_unless_in_progress(spark_codec_logs, tmp_path, codec):
    blob = spark_codec_logs[codec].read_bytes()
    finished = tmp_path / f"app.{codec}"
    finished.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(EventLogError, match=f"truncated {codec} stream|corrupt {codec} data"):
        load_profile(finished)
    running = tmp_path / f"app.{codec}.inprogress"
    running.write_bytes(blob[: len(blob) // 2])
    profile = load_profile(running)
    assert not profile.complete and profile.source.events > 0


def test_spark_written_logs_same_profile_with_workers(spark_codec_logs):
    """Every codec Spark writes (and rolling mode) read with worker processes gives the serial profile."""
    from tools.eventlog.parallel import can_fork

    if not can_fork():
        pytest.skip("worker processes need the fork start method")
    for name, path in spark_codec_logs.items():
        serial = load_profile(path, workers=1)
        parallel = load_profile(path, workers=2, parallel_min_bytes=1)
        assert parallel.model_dump() == serial.model_dump(), name
