"""50 concurrent analyze requests: every one completes without error and every job is stored, none lost."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
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
        try:
            with server.client(timeout_s=900) as client:
                response = upload(client, LOG)
        except httpx.HTTPError as exc:  # reported with every other failure below, not as the first one alone
            return 0, {"error": f"{type(exc).__name__}: {exc}"}, time.monotonic() - started
        return response.status_code, response.json(), time.monotonic() - started

    try:
        started = time.monotonic()
        with ThreadPoolExecutor(REQUESTS) as pool:
            results = list(pool.map(one_request, range(REQUESTS)))
        wall_s = time.monotonic() - started
        rows = server.job_rows()
    finally:
        server.stop()
    failures = [(status, body) for status, body, _ in results if status != 200]
    assert not failures, (len(failures), failures[:3], server.log_path.read_text()[-3000:])
    assert {body["status"] for _, body, _ in results} == {"succeeded"}, [
        body["error"] for _, body, _ in results if body["status"] != "succeeded"][:3]
    job_ids = {body["job_id"] for _, body, _ in results}
    assert len(job_ids) == REQUESTS
    assert {row[0] for row in rows} == job_ids and {row[1] for row in rows} == {"succeeded"}
    latencies = sorted(seconds for _, _, seconds in results)
    run_ms = [body["run_ms"] for _, body, _ in results]
    print(f"\n{REQUESTS} concurrent analyze requests ({LOG.name}, 2 workers): wall {wall_s:.1f} s, "
          f"{REQUESTS / wall_s:.2f} jobs/s, request latency p50 {statistics.median(latencies):.1f} s "
          f"max {latencies[-1]:.1f} s, analysis per job median {statistics.median(run_ms) / 1000:.2f} s")


def test_submissions_beyond_the_queue_limit_get_429_with_retry_after_and_store_nothing(
        tmp_path, knowledge_index_dir, allowed_dir):
    home = tmp_path / "home"
    home.mkdir()
    env = server_env(home, knowledge_index_dir, token=TOKEN, allowed_dirs=f'["{allowed_dir}"]',
                     max_concurrent_jobs="1", max_queued="1")
    server = Server(home, env).start()

    def submit(_: int):
        with server.client() as client:
            return client.post("/api/v1/analyze/job", json={"path": "healthy.zstd"})

    try:
        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(submit, range(8)))
        accepted = [r.json()["job_id"] for r in responses if r.status_code == 202]
        refused = [r for r in responses if r.status_code == 429]
        with server.client() as client:
            for job_id in accepted:
                deadline = time.monotonic() + 120
                while client.get(f"/api/v1/jobs/{job_id}").json()["status"] not in ("succeeded", "failed"):
                    assert time.monotonic() < deadline
                    time.sleep(0.2)
        rows = {row[0]: row[1] for row in server.job_rows()}
    finally:
        server.stop()
    assert len(accepted) + len(refused) == 8 and len(accepted) >= 2 and refused  # 1 running + 1 queued at a time
    assert len(rows) == len(accepted)
    assert all(r.headers["retry-after"] == "5" and r.headers["content-type"].startswith("application/problem+json")
               for r in refused)
    assert all(rows[job_id] == "succeeded" for job_id in accepted)
