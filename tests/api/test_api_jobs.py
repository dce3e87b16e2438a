"""The HTTP API against a real uvicorn: analyze jobs, their results, refused inputs, the token, problem details."""

from __future__ import annotations

import time

import httpx
import pytest
from api_server import TOKEN, WORKLOADS, upload

from graph.report import Report

pytestmark = pytest.mark.slow

PROBLEM_JSON = "application/problem+json"


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in response.text and "File \"" not in response.text
    return body


@pytest.fixture(scope="module")
def skewed_job(server) -> dict:
    with server.client() as client:
        response = upload(client, WORKLOADS / "skewed_join.zstd", question="why is the join stage slow?")
    assert response.status_code == 200, response.text
    return response.json()


def test_uploaded_log_is_analyzed_and_its_findings_are_ranked_with_evidence(server, skewed_job):
    assert skewed_job["status"] == "succeeded", skewed_job
    assert skewed_job["source"] == "skewed_join.zstd"
    with server.client() as client:
        recommendations = client.get(f"/api/v1/recommendations/{skewed_job['job_id']}").json()
    findings = recommendations["findings"]
    assert [f["rank"] for f in findings] == list(range(1, len(findings) + 1))
    assert "stage_task_skew" in [f["finding"]["rule_id"] for f in findings]
    skew = next(f for f in findings if f["finding"]["rule_id"] == "stage_task_skew")
    assert skew["finding"]["evidence"] and skew["citations"]
    assert skewed_job["findings"] == len(findings)


def test_report_is_served_as_json_markdown_and_html(server, skewed_job):
    job_id = skewed_job["job_id"]
    with server.client() as client:
        as_json = client.get(f"/api/v1/reports/{job_id}", params={"format": "json"})
        as_md = client.get(f"/api/v1/reports/{job_id}", params={"format": "md"})
        as_html = client.get(f"/api/v1/reports/{job_id}", params={"format": "html"})
        recommendations = client.get(f"/api/v1/recommendations/{job_id}").json()
    report = Report.model_validate_json(as_json.text)
    assert report.question == "why is the join stage slow?"
    assert [i.finding.rule_id for i in report.findings] == [f["finding"]["rule_id"] for f in recommendations["findings"]]
    assert as_md.headers["content-type"].startswith("text/markdown")
    assert as_md.text.startswith("# Spark Copilot report") and report.apps[0].app_id in as_md.text
    assert as_html.headers["content-type"].startswith("text/html")
    assert "<html" in as_html.text.lower() and report.apps[0].app_id in as_html.text


def test_metrics_are_the_profile_totals_and_stages_from_the_store(server, skewed_job):
    with server.client() as client:
        metrics = client.get(f"/api/v1/metrics/{skewed_job['job_id']}").json()
    (app,) = metrics["apps"]
    assert app["app"]["app_id"] == skewed_job["app_ids"][0]
    ran = [s for s in app["stages"] if s["status"] != "skipped"]
    assert app["app"]["total_tasks"] == sum(s["num_tasks"] for s in ran) > 0
    assert max(s["task_duration_max_ms"] or 0 for s in app["stages"]) > 10 * min(
        s["task_duration_median_ms"] for s in app["stages"] if s["task_duration_median_ms"])


def test_findings_depth_gives_the_same_ranked_findings_without_citations(server, skewed_job):
    with server.client() as client:
        quick = upload(client, WORKLOADS / "skewed_join.zstd", depth="findings").json()
        fast = client.get(f"/api/v1/recommendations/{quick['job_id']}").json()["findings"]
        full = client.get(f"/api/v1/recommendations/{skewed_job['job_id']}").json()["findings"]
    assert quick["status"] == "succeeded" and quick["depth"] == "findings" and skewed_job["depth"] == "full"
    assert [f["finding"]["rule_id"] for f in fast] == [f["finding"]["rule_id"] for f in full]
    assert not any(f["citations"] for f in fast) and any(f["citations"] for f in full)


def test_job_without_wait_is_accepted_then_polled_to_completion(server):
    with server.client() as client:
        accepted = upload(client, WORKLOADS / "healthy.zstd", wait=False)
        assert accepted.status_code == 202
        job = accepted.json()
        assert job["status"] in ("queued", "running") and accepted.headers["location"] == f"/api/v1/jobs/{job['job_id']}"
        early = client.get(f"/api/v1/reports/{job['job_id']}")
        deadline = time.monotonic() + 120
        while job["status"] not in ("succeeded", "failed") and time.monotonic() < deadline:
            time.sleep(0.2)
            job = client.get(f"/api/v1/jobs/{job['job_id']}").json()
    assert early.status_code in (200, 409)
    assert job["status"] == "succeeded" and job["run_ms"] > 0 and job["queued_ms"] >= 0


def test_jobs_are_listed_newest_first_and_filtered_by_status(server, skewed_job):
    with server.client() as client:
        jobs = client.get("/api/v1/jobs").json()
        succeeded = client.get("/api/v1/jobs", params={"status": "succeeded", "limit": 1}).json()
        wrong = client.get("/api/v1/jobs", params={"status": "sleeping"})
    created = [job["created_at"] for job in jobs]
    assert created == sorted(created, reverse=True) and skewed_job["job_id"] in [job["job_id"] for job in jobs]
    assert len(succeeded) == 1 and succeeded[0]["status"] == "succeeded"
    assert_problem(wrong, 422)


def test_log_path_inside_the_allowed_dir_is_analyzed(server, allowed_dir):
    with server.client() as client:
        response = client.post("/api/v1/analyze/job", params={"wait": "true"}, json={"path": "healthy.zstd"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "succeeded" and response.json()["source"] == str(allowed_dir / "healthy.zstd")


@pytest.mark.parametrize("name, make, status", [
    ("notes.txt", lambda tmp: tmp.write_text("just some text\nnot an event log\n"), 422),
    ("app.zstd", lambda tmp: tmp.write_bytes((WORKLOADS / "skewed_join.zstd").read_bytes()[:30000]), 422),
    ("app.json", lambda tmp: tmp.write_text('{"Event": 42}\n{"not": "spark"}\n'), 422),
    ("big.zstd", lambda tmp: tmp.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(2 * 1024 * 1024)), 413),
])
def test_bad_upload_is_refused_and_nothing_is_stored(server, tmp_path, name, make, status):
    path = tmp_path / name
    make(path)
    jobs_before, apps_before = server.job_rows(), server.application_count()
    with server.client() as client:
        body = assert_problem(upload(client, path), status)
    assert "just some text" not in body["detail"] and str(tmp_path) not in body["detail"]
    assert server.job_rows() == jobs_before and server.application_count() == apps_before
    assert server.uploads() == []


@pytest.mark.parametrize("field, value", [
    ("path", "../outside.zstd"),
    ("path", "logs/../../etc/passwd"),
    ("path", "/etc/passwd"),
    ("path", "escape.zstd"),  # a symlink inside the allowed dir that points out of it
    ("path", "escape/secret.zstd"),  # a symlinked directory
    ("path", "file:///etc/passwd"),
    ("path", "s3://bucket/eventlogs/app-1"),
    ("path", "shs://history:18080/app-1"),
    ("table", "../"),
    ("table", "/tmp"),
])
def test_paths_outside_the_allowed_dirs_are_refused(server, field, value):
    jobs_before = server.job_rows()
    body = {"path": "healthy.zstd", field: value}
    with server.client() as client:
        response = client.post("/api/v1/analyze/job", json=body)
    assert_problem(response, 403)
    assert server.job_rows() == jobs_before


def test_missing_or_wrong_token_is_refused_and_health_stays_open(server):
    with server.client(token=None) as anonymous, server.client(token=TOKEN + "x") as wrong:
        missing = anonymous.get("/api/v1/jobs/whatever")
        bad = wrong.post("/api/v1/analyze/job", json={"path": "healthy.zstd"})
        health = anonymous.get("/health")
        live = anonymous.get("/health/live")
    assert_problem(missing, 401)
    assert live.status_code == 200 and live.json() == {"status": "alive"}
    assert missing.headers["www-authenticate"] == "Bearer"
    assert_problem(bad, 401)
    assert health.status_code == 200


def test_health_reports_each_component(server):
    with server.client(token=None) as client:
        health = client.get("/health").json()
    assert health["status"] == "ok"
    assert health["components"]["store"]["status"] == "ok"
    assert health["components"]["knowledge_index"]["status"] == "ok"
    assert health["components"]["llm"]["status"] == "not configured"


def test_unknown_job_and_wrong_body_are_problem_details(server):
    with server.client() as client:
        assert_problem(client.get("/api/v1/recommendations/no-such-job"), 404)
        assert_problem(client.post("/api/v1/analyze/job", content=b"x", headers={"content-type": "text/plain"}), 415)
        assert_problem(client.post("/api/v1/analyze/job", content=b"{", headers={"content-type": "application/json"}), 400)
        assert_problem(client.post("/api/v1/analyze/job", json={}), 422)
        assert_problem(client.post("/api/v1/analyze/job", json={"path": "healthy.zstd", "app_id": "app-1"}), 422)
        assert_problem(client.post("/api/v1/analyze/job", json={"app_id": "app-1"}), 400)  # no History Server set
        assert_problem(client.get("/api/v1/reports/x", params={"format": "pdf"}), 422)


def test_partition_analysis_of_a_table_and_a_finished_job(server, skewed_job):
    with server.client() as client:
        response = client.post("/api/v1/analyze/partition",
                               json={"table": "tables/events", "job_id": skewed_job["job_id"]})
        unknown = client.post("/api/v1/analyze/partition", json={"job_id": "nope"})
        empty = client.post("/api/v1/analyze/partition", json={})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["table"]["file_count"] == 4 and result["table"]["format"] == "parquet"
    assert result["shuffle_stages"] and all(
        (s["shuffle_read_bytes"] or 0) + (s["shuffle_write_bytes"] or 0) > 0 for s in result["shuffle_stages"])
    assert "stage_task_skew" in [f["rule_id"] for f in result["findings"]]
    assert {f["category"] for f in result["findings"]} <= {
        "too_few_partitions", "too_many_small_tasks", "oversized_partitions", "spill", "shuffle_heavy", "skew"}
    assert_problem(unknown, 404)
    assert_problem(empty, 422)


def test_partition_analysis_of_a_log_path(server):
    with server.client() as client:
        result = client.post("/api/v1/analyze/partition", json={"path": "healthy.zstd"})
        refused = client.post("/api/v1/analyze/partition", json={"path": "escape.zstd"})
    assert result.status_code == 200, result.text
    assert result.json()["shuffle_stages"]
    assert_problem(refused, 403)


def test_chunked_upload_without_a_length_is_stopped_at_the_limit_while_streaming(server):
    def body():
        yield (b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="big.zstd"\r\n'
               b"Content-Type: application/octet-stream\r\n\r\n")
        for _ in range(64):  # 4 MiB against the 1 MiB limit, with no Content-Length to refuse it up front
            yield bytes(64 * 1024)
        yield b"\r\n--XyZ--\r\n"

    jobs_before = server.job_rows()
    with server.client() as client:
        response = client.post("/api/v1/analyze/job", content=body(),
                               headers={"content-type": "multipart/form-data; boundary=XyZ"})
        assert client.get("/health").status_code == 200
    assert_problem(response, 413)
    assert server.job_rows() == jobs_before and server.uploads() == []
