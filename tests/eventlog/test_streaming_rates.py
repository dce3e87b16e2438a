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
