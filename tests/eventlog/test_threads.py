"""Profiles read from many threads at once (the HTTP API's job workers do this) equal the serial ones."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tools.eventlog import load_profile

REPO = Path(__file__).resolve().parents[2]
LOGS = [
    REPO / "tests/fixtures/workloads/skewed_join.zstd",
    REPO / "tests/fixtures/eventlogs/apache__spark/spark-events/local-1642039451826",
    REPO / "tests/fixtures/eventlogs/apache__spark/spark-events/application_1536831636016_59384_1",
]


def test_concurrent_reads_give_the_serial_profiles():
    serial = {str(log): load_profile(log).model_dump() for log in LOGS}
    jobs = [LOGS[i % len(LOGS)] for i in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda log: (str(log), load_profile(log).model_dump()), jobs))
    assert len(results) == len(jobs)
    for path, dumped in results:
        assert dumped == serial[path]
