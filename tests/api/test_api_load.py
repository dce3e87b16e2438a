"""50 concurrent analyze requests: every one completes without error and every job is stored, none lost."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from api_server import TOKEN, WORKLOADS, Server, server_env, upload

pytestmark = pytest.mark.slow

REQUESTS = 50
LOG = WORKLOADS / "rdd_java_shuffle.zstd"  # the smallest workload log (33 KB)


def test_fifty_concurrent_analyze_requests_all_complete_and_no_job_is_lost(tmp_path, knowledge_index_dir):
    home = tmp_path / "home"
    home.mkdir()
    server = Server(home, server_env(home, knowledge_index_dir, token=TOKEN, max_concurrent_jobs="2")).start()

    def one_request(_: int) -> tuple[int, dict, float]:
        started = time.monotonic()
        with server.client(timeout_s=900) as client:
            response = upload(client, LOG)
        return response.status_code, response.json(), time.monotonic() - started

    try:
        started = time.monotonic()
        with ThreadPoolExecutor(REQUESTS) as pool:
            results = list(pool.map(one_request, range(REQUESTS)))
        wall_s = time.monotonic() - started
        rows = server.job_rows()
    finally:
        server.stop()
    assert [status for status, _, _ in results] == [200] * REQUESTS, [body for _, body, _ in results][:3]
    assert {body["status"] for _, body, _ in results} == {"succeeded"}
    job_ids = {body["job_id"] for _, body, _ in results}
    assert len(job_ids) == REQUESTS
    assert {row[0] for row in rows} == job_ids and {row[1] for row in rows} == {"succeeded"}
    latencies = sorted(seconds for _, _, seconds in results)
    run_ms = [body["run_ms"] for _, body, _ in results]
    print(f"\n{REQUESTS} concurrent analyze requests ({LOG.name}, 2 workers): wall {wall_s:.1f} s, "
          f"{REQUESTS / wall_s:.2f} jobs/s, request latency p50 {statistics.median(latencies):.1f} s "
          f"max {latencies[-1]:.1f} s, analysis per job median {statistics.median(run_ms) / 1000:.2f} s")
