"""Secrets planted in an uploaded log (properties, a JDBC URL in the plans) and in the question never leave the server."""

from __future__ import annotations

import json

import pytest
import zstandard
from api_server import WORKLOADS, upload
from planted_secrets import plant_text

pytestmark = pytest.mark.slow

PROPERTY_SECRETS = {
    "spark.hadoop.fs.s3a.secret.key": "ApiS3cretKeyValue0042",
    "spark.myapp.db.password": "ApiPlantedDbPw-17",
}
JDBC = "jdbc:postgresql://etl:ApiPlanPw55@db.internal:5432/sales?password=ApiPlanPw56"
QUESTION = "why is it slow? (our warehouse token=ghp_ApiQuestionTok3nXYZ123)"
SECRETS = (*PROPERTY_SECRETS.values(), "ApiPlanPw55", "ApiPlanPw56", "ghp_ApiQuestionTok3nXYZ123")


def plant_secrets(target):
    """A plain-text copy of a real workload log with secret properties and a JDBC URL in every SQL description/plan."""
    with open(WORKLOADS / "skewed_join.zstd", "rb") as handle:
        text = zstandard.ZstdDecompressor().stream_reader(handle).read().decode()
    target.write_text(plant_text(text, properties=PROPERTY_SECRETS, description=f"load from {JDBC}",
                                 plan_prefix=f"Scan JDBCRelation({JDBC})\n"))
    return target


def test_no_planted_secret_reaches_a_response_or_the_store(server, tmp_path):
    log = plant_secrets(tmp_path / "app-with-secrets")
    with server.client() as client:
        job = upload(client, log, question=QUESTION).json()
        assert job["status"] == "succeeded", job
        job_id = job["job_id"]
        texts = [json.dumps(job), client.get(f"/api/v1/jobs/{job_id}").text,
                 client.get(f"/api/v1/recommendations/{job_id}").text, client.get(f"/api/v1/metrics/{job_id}").text]
        texts += [client.get(f"/api/v1/reports/{job_id}", params={"format": fmt}).text for fmt in ("json", "md", "html")]
        texts.append(client.post("/api/v1/analyze/partition", json={"job_id": job_id}).text)
    with server.store.connect() as con:
        stored = con.execute(
            "SELECT j.question, j.report_json, string_agg(f.finding_json, ' ') FROM api_jobs j "
            "LEFT JOIN findings f ON f.log_hash = j.log_hashes[1] WHERE j.job_id = ? GROUP BY ALL", [job_id]).fetchone()
    texts += [value or "" for value in stored]
    assert "why is it slow?" in stored[0]
    for secret in SECRETS:
        assert not [text[:80] for text in texts if secret in text], secret
