"""Structured-streaming rates come from the per-source progress values Spark writes."""

import json

import zstandard

from tests.conftest import EVENTLOG_FIXTURES
from tools.eventlog import load_profile

STREAMING_LOG = EVENTLOG_FIXTURES / "NVIDIA__spark-rapids-tools" / "streaming_eventlog.zstd"


def _progress_events() -> list[dict]:
    with STREAMING_LOG.open("rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as reader:
        lines = reader.read().decode().splitlines()
    events = [json.loads(line) for line in lines if "QueryProgressEvent" in line]
    return [e["progress"] for e in events]


def test_streaming_input_rows_and_rates_match_the_per_source_values():
    progress = _progress_events()
    assert progress, "the fixture holds progress events"
    expected_rows = sum(s.get("numInputRows", 0) for p in progress for s in p["sources"])
    expected_input_rps = [sum(s["inputRowsPerSecond"] for s in p["sources"]) for p in progress]

    (query,) = load_profile(STREAMING_LOG).streaming

    assert query.num_input_rows_total == expected_rows > 0
    assert abs(query.input_rows_per_second_mean - sum(expected_input_rps) / len(expected_input_rps)) < 1e-9
    assert query.processed_rows_per_second_mean is not None


def test_a_batch_that_read_nothing_does_not_pull_the_mean_rates_down():
    """The rate source's first micro-batch reads 0 rows (rates 0.0): averaged in, it put the lagging workload's
    20,000 rows/s input at 15,908 rows/s. The means are over the batches that read input."""
    log = EVENTLOG_FIXTURES.parent / "workloads" / "lagging_stream.zstd"
    with log.open("rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as reader:
        progress = [json.loads(line)["progress"] for line in reader.read().decode().splitlines()
                    if "QueryProgressEvent" in line]
    sources = [p["sources"][0] for p in progress]
    assert sources[0]["numInputRows"] == 0 and sources[0]["inputRowsPerSecond"] == 0.0
    read = [s for s in sources if s["numInputRows"] > 0]
    (query,) = load_profile(log).streaming
    assert query.batches == len(progress)
    assert query.input_rows_per_second_mean == sum(s["inputRowsPerSecond"] for s in read) / len(read)
    assert query.processed_rows_per_second_mean == sum(s["processedRowsPerSecond"] for s in read) / len(read)
