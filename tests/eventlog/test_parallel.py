"""Reading a plain log with worker processes gives exactly the profile of reading it in one process."""

from __future__ import annotations

import multiprocessing
import os
import resource
import subprocess
import sys

import pytest

from tests.eventlog.logs import (
    FAILING_APP,
    ROLLING_APP,
    SPARK_EVENTS,
    SQL_APP,
    YARN_APP,
    databricks_layout,
    events,
    write_events,
)
from tools.errors import EventLogError
from tools.eventlog import load_profile
from tools.eventlog.parallel import can_fork, line_ranges

pytestmark = pytest.mark.skipif(not can_fork(), reason="worker processes need the fork start method")

YARN_SPARK3 = SPARK_EVENTS / "application_1536831636016_59384_1"


def profiles(path, workers: int = 2):
    serial = load_profile(path, workers=1)
    parallel = load_profile(path, workers=workers, parallel_min_bytes=1)
    return serial, parallel


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.mark.parametrize("log", [FAILING_APP, YARN_APP, SQL_APP, YARN_SPARK3], ids=lambda p: p.name)
@pytest.mark.parametrize("workers", [2, 3])
def test_real_logs_same_profile_serial_and_parallel(log, workers):
    serial, parallel = profiles(log, workers)
    assert serial.total_tasks > 0
    assert parallel.model_dump() == serial.model_dump()


@pytest.fixture(scope="module")
def repeated_log(tmp_path_factory):
    """A multi-MB log from real events: a YARN app with failed tasks and removed executors, its jobs
    replayed many times (same stage ids again, so later copies arrive after their stage completed)."""
    items = events(YARN_APP)
    first_job = next(i for i, e in enumerate(items) if e["Event"] == "SparkListenerJobStart")
    end = next(i for i, e in enumerate(items) if e["Event"] == "SparkListenerApplicationEnd")
    body = items[first_job:end]
    mixed = events(SQL_APP)
    sql_body = [e for e in mixed if e["Event"] not in ("SparkListenerApplicationStart", "SparkListenerApplicationEnd",
                                                        "SparkListenerLogStart", "SparkListenerEnvironmentUpdate")]
    out = items[:first_job]
    for _ in range(12):
        out += body + sql_body
    out += items[end:]
    return write_events(tmp_path_factory.mktemp("parallel") / "repeated", out)


def test_synthesized_multi_mb_log_same_profile(repeated_log):
    assert repeated_log.stat().st_size > 4_000_000
    before = children_cpu_s()
    serial, parallel = profiles(repeated_log, workers=2)
    assert children_cpu_s() > before  # the worker processes did the decoding
    assert parallel.model_dump() == serial.model_dump()
    assert serial.total_tasks > 12 * 30
    assert any(s.tasks_failed for s in serial.stages)
    assert any("finished after the stage completed" in w for w in serial.warnings)


def test_cut_last_line_same_profile(repeated_log, tmp_path):
    data = repeated_log.read_bytes()
    cut = tmp_path / "app.inprogress"
    cut.write_bytes(data + data[: data.index(b"\n", 100) - 7])  # log continued, last line cut mid-event
    serial, parallel = profiles(cut)
    assert not serial.complete
    assert parallel.model_dump() == serial.model_dump()


def test_ranges_cover_whole_lines(repeated_log):
    data = repeated_log.read_bytes()
    ranges, end = line_ranges(str(repeated_log), len(data), 7)
    assert end == len(data) and len(ranges) == 7
    assert ranges[0][0] == 0 and all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    assert all(data[b - 1 : b] == b"\n" for _, b in ranges)


def test_small_files_and_one_worker_stay_in_process(tmp_path):
    before = children_cpu_s()
    load_profile(YARN_APP)  # far below the default threshold
    load_profile(YARN_APP, workers=1, parallel_min_bytes=1)
    assert children_cpu_s() == before


def test_metric_records_fast_path_matches_attribute_reads():
    """The fixed-layout msgpack read gives exactly the values read attribute by attribute (absent groups are NaN)."""
    import msgspec
    import numpy as np

    from tools.eventlog.events import TaskEnd
    from tools.eventlog.stages import metric_records, metric_records_by_attribute

    decode = msgspec.json.Decoder(TaskEnd).decode
    for log in (FAILING_APP, SQL_APP, YARN_SPARK3):
        lines = [line for line in log.read_bytes().splitlines() if line.startswith(b'{"Event":"SparkListenerTaskEnd"')]
        metrics = [t.metrics for t in map(decode, lines) if t.metrics is not None]
        fast, slow = metric_records(metrics), metric_records_by_attribute(metrics)
        assert len(fast) == len(metrics) > 10
        for name in fast.dtype.names:
            np.testing.assert_array_equal(fast[name], slow[name])
        assert np.nansum(fast["run_ms"]) > 0


def test_rolling_parts_read_by_workers_same_profile():
    serial, parallel = profiles(ROLLING_APP)
    assert len(serial.source.parts) > 1
    assert parallel.model_dump() == serial.model_dump()


def test_databricks_parts_read_by_workers_same_profile(repeated_log, tmp_path):
    layout = databricks_layout(repeated_log, tmp_path / "cluster" / "eventlog", parts=4)
    before = children_cpu_s()
    serial, parallel = profiles(layout)
    assert children_cpu_s() > before
    assert serial.source.codec == "gzip+none" and len(serial.source.parts) == 4
    assert parallel.model_dump() == serial.model_dump()


def test_corrupt_part_same_error_with_workers(repeated_log, tmp_path):
    layout = databricks_layout(repeated_log, tmp_path / "cluster" / "eventlog", parts=3)
    rolled = sorted(layout.glob("eventlog-*.gz"))[1]
    data = rolled.read_bytes()
    rolled.write_bytes(data[: len(data) // 2])  # a rolled part cut in the middle of its gzip stream
    messages = []
    for workers in (1, 2):
        with pytest.raises(EventLogError) as caught:
            load_profile(layout, workers=workers, parallel_min_bytes=1)
        messages.append(str(caught.value))
    assert "truncated gzip" in messages[0]
    assert messages[1] == messages[0]
    assert not multiprocessing.active_children()  # workers stopped, not left blocked on their pipes


@pytest.mark.parametrize("codec", ["zstd", "gz"])
def test_compressed_log_decompressed_here_parsed_by_workers_same_profile(repeated_log, tmp_path, codec):
    import gzip

    import zstandard

    data = repeated_log.read_bytes()
    log = tmp_path / f"app.{codec}"
    log.write_bytes(zstandard.ZstdCompressor().compress(data) if codec == "zstd" else gzip.compress(data))
    before = children_cpu_s()
    serial, parallel = profiles(log)
    assert children_cpu_s() > before
    assert serial.source.bytes_decoded == len(data)
    assert parallel.model_dump() == serial.model_dump()


def test_compressed_log_cut_mid_stream(repeated_log, tmp_path):
    import zstandard

    compressed = zstandard.ZstdCompressor().compress(repeated_log.read_bytes())
    running = tmp_path / "app.zstd.inprogress"
    running.write_bytes(compressed[: len(compressed) * 2 // 3])  # still being written
    serial, parallel = profiles(running)
    assert not serial.complete and serial.total_tasks > 0
    assert parallel.model_dump() == serial.model_dump()
    finished = tmp_path / "app.zstd"
    finished.write_bytes(compressed[: len(compressed) * 2 // 3])  # not running: a truncated file is an error
    errors = []
    for workers in (1, 2):
        with pytest.raises(EventLogError) as caught:
            load_profile(finished, workers=workers, parallel_min_bytes=1)
        errors.append(str(caught.value))
    assert "truncated zstd" in errors[0] and errors[1] == errors[0]
    assert not multiprocessing.active_children()


def test_remote_plain_log_read_here_parsed_by_workers_same_profile(repeated_log):
    import fsspec

    url = "memory://parallel-test/app-repeated"
    with fsspec.open(url, "wb") as f:
        f.write(repeated_log.read_bytes())
    before = children_cpu_s()
    serial, parallel = profiles(url)
    assert children_cpu_s() > before
    assert parallel.model_dump() == serial.model_dump()
    assert serial.model_dump(exclude={"source"}) == load_profile(repeated_log, workers=1).model_dump(exclude={"source"})


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux-only")
def test_workers_follow_the_cpus_this_process_may_use():
    """A process pinned to one CPU (a container's cpuset, `taskset`) reads alone and batches one log at a time."""
    code = (
        "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
        "from tools.eventlog.parallel import default_workers\n"
        "from copilot.batch import default_workers as batch_workers\n"
        "print(default_workers(), batch_workers())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["1", "1"]


def test_workers_keep_freed_memory_where_glibc_allows(repeated_log):
    """Workers raise glibc's mmap and trim thresholds (page faults cost them a fifth of their CPU otherwise);
    elsewhere the call is a no-op that says so, and either way the profile is the same."""
    import platform

    from tools.eventlog.parallel import keep_freed_memory

    def in_child(conn):
        conn.send(keep_freed_memory())
        conn.close()

    parent, child = multiprocessing.get_context("fork").Pipe()
    process = multiprocessing.get_context("fork").Process(target=in_child, args=(child,))
    process.start()
    applied = parent.recv()
    process.join()
    assert applied is (platform.libc_ver()[0] == "glibc")
    serial, parallel = profiles(repeated_log, workers=2)  # the workers call it
    assert parallel.model_dump() == serial.model_dump()
