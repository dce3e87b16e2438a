"""Nothing finished is lost across a restart; a job running when the server dies ends failed, not silently lost."""

from __future__ import annotations

import subprocess
import sys

import pytest
from api_server import TOKEN, WORKLOADS, Server, server_env, upload

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


def test_finished_job_and_its_report_survive_a_restart(home, knowledge_index_dir):
    home.mkdir()
    server = Server(home, server_env(home, knowledge_index_dir, token=TOKEN)).start()
    try:
        with server.client() as client:
            job = upload(client, WORKLOADS / "skewed_join.zstd").json()
            before = client.get(f"/api/v1/reports/{job['job_id']}", params={"format": "json"}).text
            metrics_before = client.get(f"/api/v1/metrics/{job['job_id']}").json()
    finally:
        server.stop()
    assert job["status"] == "succeeded"
    server.start()
    try:
        with server.client() as client:
            after_job = client.get(f"/api/v1/jobs/{job['job_id']}").json()
            after = client.get(f"/api/v1/reports/{job['job_id']}", params={"format": "json"}).text
            metrics_after = client.get(f"/api/v1/metrics/{job['job_id']}").json()
    finally:
        server.stop()
    assert after_job == job
    assert after == before
    assert metrics_after == metrics_before


def test_job_running_when_the_server_is_killed_is_marked_failed_at_the_next_start(home, knowledge_index_dir):
    home.mkdir()
    server = Server(home, server_env(home, knowledge_index_dir, token=TOKEN)).start()
    try:
        with server.client() as client:
            accepted = upload(client, WORKLOADS / "many_shuffle_partitions.zstd", wait=False)
    finally:
        server.kill()
    assert accepted.status_code == 202
    job_id = accepted.json()["job_id"]
    (row,) = server.job_rows()
    assert row[1] in ("queued", "running")  # the crash left it unfinished
    server.start()
    try:
        with server.client() as client:
            job = client.get(f"/api/v1/jobs/{job_id}").json()
            report = client.get(f"/api/v1/reports/{job_id}")
    finally:
        server.stop()
    assert job["status"] == "failed" and job["error"] == "interrupted by server restart"
    assert job["finished_at"] is not None
    assert report.status_code == 409 and "interrupted by server restart" in report.json()["detail"]
    assert server.uploads() == []  # the dead job's upload is cleaned up


def test_serve_refuses_a_public_address_without_a_token(home, knowledge_index_dir):
    home.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "copilot.cli", "serve", "--host", "0.0.0.0", "--port", "0"],
        env=server_env(home, knowledge_index_dir), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "copilot: error: refusing to listen on 0.0.0.0 without an API token: set COPILOT_API__TOKEN "
        "(or bind to 127.0.0.1)"]


def test_history_server_app_that_cannot_be_fetched_fails_the_job_with_one_clear_line(home, knowledge_index_dir):
    from api_server import free_port

    home.mkdir()
    port = free_port()  # nothing listens there
    env = server_env(home, knowledge_index_dir, token=TOKEN, history_server_url=f"http://127.0.0.1:{port}")
    server = Server(home, env).start()
    try:
        with server.client() as client:
            response = client.post("/api/v1/analyze/job", params={"wait": "true"}, json={"app_id": "app-20260101-0001"})
            refused = client.post("/api/v1/analyze/job", json={"app_id": "../../etc/passwd"})
    finally:
        server.stop()
    assert response.status_code == 200
    job = response.json()
    assert job["status"] == "failed" and job["source_kind"] == "history_server"
    assert job["error"].startswith(f"cannot reach the History Server at http://127.0.0.1:{port}")
    assert "\n" not in job["error"]
    assert refused.status_code == 422
