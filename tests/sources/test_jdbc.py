"""JDBC partitioning advice measured on real databases: a SQLite file always, PostgreSQL on loopback when it can start."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tools.errors import ConfigurationError
from tools.sources.jdbc import advise_jdbc, jdbc_url, redact_url

ROWS = 30_000


def _fill(engine: sa.Engine) -> None:
    """orders: id primary key, customer_id indexed and even, bursty (90% of rows in 1% of its range), a date, a constant."""
    meta = sa.MetaData()
    orders = sa.Table(
        "orders", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.Integer, index=True),
        sa.Column("bursty", sa.Integer),
        sa.Column("created", sa.Date),
        sa.Column("constant", sa.Integer),
        sa.Column("note", sa.String(20)),
    )
    tiny = sa.Table("tiny", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(10)))
    meta.drop_all(engine)
    meta.create_all(engine)
    rng = random.Random(3)
    rows = [
        {
            "id": i, "customer_id": i % 500, "bursty": (i % 100) if i < ROWS * 0.9 else rng.randint(0, 10_000),
            "created": dt.date(2024, 1, 1) + dt.timedelta(days=i % 366), "constant": 1, "note": "x",
        }
        for i in range(ROWS)
    ]
    with engine.begin() as connection:
        for start in range(0, len(rows), 1000):  # multi-row VALUES: one statement per 1000 rows
            connection.execute(orders.insert().values(rows[start : start + 1000]))
        connection.execute(tiny.insert(), [{"id": i, "name": "n"} for i in range(10)])


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('jdbc') / 'shop.db'}"
    engine = sa.create_engine(url)
    _fill(engine)
    engine.dispose()
    return url


def test_primary_key_wins_and_bounds_are_its_range(sqlite_url):
    advice = advise_jdbc(sqlite_url, "orders", rows_per_partition=3000)
    assert advice.row_count == ROWS
    assert (advice.partition_column, advice.lower_bound, advice.upper_bound) == ("id", "0", str(ROWS - 1))
    assert advice.num_partitions == 10
    assert advice.options["numPartitions"] == "10"
    assert advice.options["url"] == f"jdbc:sqlite:{sqlite_url.removeprefix('sqlite:///')}"
    assert advice.fetchsize == 10_000


def test_uneven_column_is_measured_as_skewed_and_ranked_below_even_ones(sqlite_url):
    advice = advise_jdbc(sqlite_url, "orders", rows_per_partition=3000)
    by_name = {c.name: c for c in advice.candidates}
    assert by_name["bursty"].stride_skew > 5
    assert by_name["customer_id"].stride_skew < 1.5
    assert by_name["customer_id"].score > by_name["bursty"].score
    assert by_name["created"].kind == "date" and by_name["created"].min_value == "2024-01-01"
    assert not by_name["constant"].usable
    assert "note" not in by_name


def test_partitions_capped_by_distinct_values_and_max_partitions(sqlite_url):
    advice = advise_jdbc(sqlite_url, "orders", rows_per_partition=100, max_partitions=20)
    assert advice.num_partitions == 20
    assert any("at most 20" in reason for reason in advice.reasons)


def test_small_table_is_read_with_one_query(sqlite_url):
    advice = advise_jdbc(sqlite_url, "tiny")
    assert advice.partition_column is None
    assert advice.num_partitions == 1
    assert "partitionColumn" not in advice.options
    assert "fit in one partition" in advice.reasons[0]


def test_unknown_table_is_one_clear_error(sqlite_url):
    with pytest.raises(ConfigurationError, match="no table missing"):
        advise_jdbc(sqlite_url, "missing")


def test_password_is_redacted_in_urls_and_errors():
    url = "postgresql+pg8000://alice:hunter2-pw@127.0.0.1:1/shop?sslkey=abc&application_name=x"
    assert "hunter2" not in redact_url(url)
    assert "sslkey=***" in redact_url(url)
    assert jdbc_url(url) == "jdbc:postgresql://127.0.0.1:1/shop"
    with pytest.raises(ConfigurationError) as error:
        advise_jdbc(url, "orders")
    assert "hunter2" not in str(error.value)
    assert "alice:***@127.0.0.1:1" in str(error.value)


def test_cli_jdbc_advise_json(sqlite_url):
    from copilot.cli import app

    result = CliRunner().invoke(app, ["jdbc", "advise", sqlite_url, "orders", "--rows-per-partition", "3000", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["partition_column"] == "id"


@pytest.mark.slow
def test_postgres_advice_and_redaction(postgres_url):
    engine = sa.create_engine(postgres_url)
    _fill(engine)
    engine.dispose()
    advice = advise_jdbc(postgres_url, "public.orders", rows_per_partition=3000)
    assert advice.dialect == "postgresql"
    assert (advice.partition_column, advice.lower_bound, advice.upper_bound, advice.num_partitions) == ("id", "0", str(ROWS - 1), 10)
    by_name = {c.name: c for c in advice.candidates}
    assert by_name["bursty"].stride_skew > 5
    assert by_name["customer_id"].indexed
    assert any("PostgreSQL driver fetches the whole result" in reason for reason in advice.reasons)
    assert advice.options["url"].startswith("jdbc:postgresql://127.0.0.1:")
    dumped = advice.model_dump_json()
    assert "s3cret" not in dumped and "***" in advice.url


@pytest.mark.slow
def test_postgres_wrong_password_error_hides_the_password(postgres_url):
    wrong = postgres_url.replace("s3cret-Pw-42", "wrong-Pw-99")
    with pytest.raises(ConfigurationError) as error:
        advise_jdbc(wrong, "orders")
    assert "wrong-Pw-99" not in str(error.value)
    assert "password authentication failed" in str(error.value)


def test_jdbc_scan_with_one_query_is_found_in_a_real_log(eventlog_fixtures):
    from tools.eventlog import load_profile
    from tools.sources.jdbc import JdbcScanThresholds, jdbc_scan_findings

    profile = load_profile(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "jdbc_eventlog.zstd")
    assert jdbc_scan_findings(profile) == []  # 21 and 38 rows: one query is right
    findings = jdbc_scan_findings(profile, JdbcScanThresholds(min_rows=30, rows_per_partition=10))
    assert len(findings) == 1
    finding = findings[0]
    assert finding.category == "too_few_partitions"
    assert finding.title == "JDBC read of TBLS pulled 38 rows through 1 query"
    assert finding.recommendation.config_changes[0].model_dump() == {"key": "numPartitions", "value": "4", "current": "1"}
