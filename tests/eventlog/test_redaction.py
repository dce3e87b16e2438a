"""Secrets planted in a real log (properties, JDBC URLs in plans and descriptions, AWS keys) never reach the profile."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.eventlog.logs import SQL_APP, events, write_events
from tools.eventlog import load_profile
from tools.redact import REDACTED, redact_all, redact_properties, redact_text

SECRET = "S3cr3tValue"
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"


def planted_log(tmp_path):
    items = events(SQL_APP)
    for e in items:
        if e["Event"] == "SparkListenerEnvironmentUpdate":
            e["Spark Properties"].update({
                "spark.hadoop.fs.s3a.secret.key": f"{SECRET}1",
                "spark.hadoop.fs.s3a.access.key": AWS_KEY_ID,
                "spark.sql.catalog.pg.url": f"jdbc:postgresql://etl:{SECRET}2@db.internal:5432/sales",
                "spark.executorEnv.API_TOKEN": f"{SECRET}3",
                "spark.redaction.regex": "(?i)secret|password|token|access[.]?key|credstore",
                "spark.custom.credstore.value": f"{SECRET}9",
            })
            e["Hadoop Properties"]["fs.azure.account.key.acct.blob.core.windows.net"] = f"{SECRET}4"
            e["System Properties"]["sun.java.command"] = f"Main --url jdbc:mysql://db/x?user=a&password={SECRET}5"
        if e["Event"].endswith(("SparkListenerSQLExecutionStart", "SparkListenerSQLAdaptiveExecutionUpdate")):
            e["physicalPlanDescription"] += (
                f"\n(9) Scan JDBCRelation(jdbc:sqlserver://db;user=sa;password={SECRET}6;database=x) [numPartitions=1]"
            )
            e["sparkPlanInfo"]["simpleString"] += f" Map(url -> jdbc:oracle:thin:scott/{SECRET}7@db:1521/x)"
            # a node name holds a JDBC read's table option, which may be a subquery with literals
            e["sparkPlanInfo"]["children"][0]["nodeName"] = f"Scan JDBCRelation((select * from t where password='{SECRET}c') q)"
        if e["Event"].endswith("SparkListenerSQLExecutionStart"):
            e["description"] = f"copy from jdbc:postgresql://etl:{SECRET}8@db/sales key {AWS_KEY_ID}"
        if e["Event"] == "SparkListenerJobStart":
            e.setdefault("Properties", {})["spark.job.description"] = f"s3a://{AWS_KEY_ID}:{SECRET}0@bucket/path"
        if e["Event"] in ("SparkListenerStageSubmitted", "SparkListenerStageCompleted"):
            e["Stage Info"].setdefault("RDD Info", []).append({  # a cached JDBC read
                "RDD ID": 9001, "Name": f"Scan JDBCRelation(jdbc:mysql://db/x?user=a&password={SECRET}a)",
                "Callsite": f"cache at s3a://{AWS_KEY_ID}:{SECRET}b@bucket/job.py:3", "Number of Partitions": 4,
                "Storage Level": {"Use Disk": True, "Use Memory": True, "Deserialized": True, "Replication": 1},
            })
    return write_events(tmp_path / "planted", items)


def test_planted_secrets_are_not_in_the_profile_json(tmp_path):
    profile = load_profile(planted_log(tmp_path))
    text = profile.model_dump_json()
    assert SECRET not in text
    assert AWS_KEY_ID not in text
    assert profile.spark_properties["spark.hadoop.fs.s3a.secret.key"] == REDACTED
    assert profile.spark_properties["spark.sql.catalog.pg.url"] == f"jdbc:postgresql://etl:{REDACTED}@db.internal:5432/sales"
    assert profile.spark_properties["spark.custom.credstore.value"] == REDACTED  # the app's own redaction regex
    assert profile.spark_properties["spark.master"] == profile.master != REDACTED
    assert any("JDBCRelation(jdbc:sqlserver://db;user=sa;password=" + REDACTED in x.physical_plan for x in profile.sql_executions)
    [cached] = profile.cached
    assert cached.rdd_id == 9001 and REDACTED in cached.name and REDACTED in cached.callsite


def test_planted_secrets_are_not_in_the_cli_output(tmp_path):
    log = planted_log(tmp_path)
    for args in (["profile", str(log)], ["profile", str(log), "--json"]):
        done = subprocess.run([sys.executable, "-m", "copilot.cli", *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert SECRET not in done.stdout and AWS_KEY_ID not in done.stdout


@pytest.mark.parametrize(("text", "expected"), [
    ("jdbc:mysql://db:3306/x?user=bob&password=pw1&ssl=true", f"jdbc:mysql://db:3306/x?user=bob&password={REDACTED}&ssl=true"),
    ("jdbc:postgresql://bob:pw2@db/x", f"jdbc:postgresql://bob:{REDACTED}@db/x"),
    ("Map(url -> jdbc:sqlserver://h;user=sa;password=pw3;db=x, dbtable -> t)",
     f"Map(url -> jdbc:sqlserver://h;user=sa;password={REDACTED};db=x, dbtable -> t)"),
    ("https://acct.blob.core.windows.net/c?sv=2020&sig=abc%2Fdef&se=2", f"https://acct.blob.core.windows.net/c?sv=2020&sig={REDACTED}&se=2"),
    ("https://api.example.com/v1?token=tok123&page=2", f"https://api.example.com/v1?token={REDACTED}&page=2"),
    ('{"password": "pw 4"}', f'{{"password": "{REDACTED}"}}'),
    ("key AKIAIOSFODNN7EXAMPLE used", f"key {REDACTED} used"),
    ("design=plain spark.sql.shuffle.partitions=200", "design=plain spark.sql.shuffle.partitions=200"),
    ("jdbc:oracle:thin:scott/tiger@h:1521", f"jdbc:oracle:thin:scott/{REDACTED}@h:1521"),
    ("API_KEY -> zz", f"API_KEY -> {REDACTED}"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig-x_1", f"Authorization: Bearer {REDACTED}"),
    ("token dapi0123456789abcdef0123456789abcdef used", f"token {REDACTED} used"),
    ("git clone https://ghp_abcdefghijklmnop1234@github.com/o/r", f"git clone https://{REDACTED}@github.com/o/r"),
    ("OPENAI_KEY=sk-proj-abcdefghijklmnop", f"OPENAI_KEY={REDACTED}"),
    ("openai sk-proj-abcdefghijklmnop rejected", f"openai {REDACTED} rejected"),
    ("slack xoxb-1234567890-abcdefghij", f"slack {REDACTED}"),
    ("X-Amz-Signature=abc123&X-Amz-Date=2024", f"X-Amz-Signature={REDACTED}&X-Amz-Date=2024"),
    ("private_key: pk-12345", f"private_key: {REDACTED}"),
    ("https://acct.blob.core.windows.net/c?sas=sv2020sig&se=2", f"https://acct.blob.core.windows.net/c?sas={REDACTED}&se=2"),
    (f"password={REDACTED} sas: {REDACTED}", f"password={REDACTED} sas: {REDACTED}"),  # not redacted twice
    ("gh ghs_abcdefghijklmnop1234 and github_pat_11ABCDEFG0abcdefghij", f"gh {REDACTED} and {REDACTED}"),
    ("key: -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nq8Zb\n-----END RSA PRIVATE KEY----- done",
     f"key: {REDACTED} done"),
    ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg (cut)", REDACTED),  # a key cut short is still a key
])
def test_redact_text(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize("text", [
    "hadoop.security.sasl.qop=auth",
    "clients send bearer tokens in a header",
    "Lost task_1234 failed: disk-backed task-result-getter at Stage 3",
    "Exchange hashpartitioning(key#12, 200), sk_id#3 = risk_score#4",
    "fs.s3a.aws.credentials.provider=org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
])
def test_ordinary_spark_text_is_not_redacted(text):
    assert redact_text(text) == text


def test_redact_properties_follows_spark_key_or_value_rule():
    redacted = redact_properties({
        "spark.ssl.keyPassword": "x", "spark.authenticate.secret": "y", "fs.s3a.access.key": "z",
        "spark.some.setting": "uses a token here", "spark.app.name": "etl", "spark.jdbc.url": "jdbc:x://u:p@h/db",
    })
    assert redacted == {
        "spark.ssl.keyPassword": REDACTED, "spark.authenticate.secret": REDACTED, "fs.s3a.access.key": REDACTED,
        "spark.some.setting": REDACTED, "spark.app.name": "etl", "spark.jdbc.url": f"jdbc:x://u:{REDACTED}@h/db",
    }
    assert json.dumps(redacted)


def test_redact_properties_removes_tokens_known_by_their_form_whatever_the_key():
    redacted = redact_properties({
        "spark.myapp.databricks.pat": "dapi0123456789abcdef0123456789abcdef",
        "spark.hadoop.fs.custom.auth.header": "Bearer eyJhbGciOiJIUzI1NiJ9abcdef",
        "spark.myapp.gh": "ghp_abcdefghijklmnop1234",
        "spark.hadoop.hadoop.security.sasl.qop": "auth", "spark.myapp.request.signature": "c2lnbmVk",
    })
    assert redacted == {
        "spark.myapp.databricks.pat": REDACTED, "spark.hadoop.fs.custom.auth.header": f"Bearer {REDACTED}",
        "spark.myapp.gh": REDACTED, "spark.hadoop.hadoop.security.sasl.qop": "auth",
        "spark.myapp.request.signature": REDACTED,
    }


_FRAGMENTS = [
    "Stage 3 at Dataset.scala:3000", "jdbc:postgresql://etl:pw@db:5432/x", "jdbc:oracle:thin:scott/tiger@h:1521",
    "password=hunter2", "Token: abc", "API_KEY -> zz", "sig=abcd", "?sig=", "AKIAIOSFODNN7EXAMPLE",
    "ASIAIOSFODNN7EXAMPLE", "s3a://bucket/path", "credential=c", "ACCESS.KEY: k", "keys=[k#1]", " ", "\n", ",",
    "credent\u0131al=c", "pa\u017fsword=p",  # dotless i and long s match "i" and "s" case-insensitively
    "Bearer eyJhbGciOiJIUzI1NiJ9", "BEARER ", "bearer tokens", "dapi0123456789abcdef0123456789abcdef", "-2",
    "ghp_abcdefghijklmnop1234", "gho_", "sk-proj-abcdefghij", "sk_live_", "sk_test_", "task_", "xoxb-", "xoxp-",
    "1234567890", "signature=s", "X-Amz-Signature: s", "private_key: pk", "PRIVATE.KEY", "sas=x", "SAS: y",
    "sasl.qop=auth", "\u017fas=x", "ghs_abcdefghijklmnop", "github_pat_abcdefghij", "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----", "credentials.provider=c",
]


@given(st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=12)), max_size=12))
@settings(max_examples=400, deadline=None)
def test_the_quick_check_never_skips_text_the_patterns_would_change(parts):
    text = "".join(parts)
    assert redact_text(text) == redact_all(text)
