"""Parquet tables written by local PySpark, and Z-order candidates from the filters of the application that read them."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tools.eventlog import load_profile
from tools.tables import TableThresholds, analyze_table, inspect_table

pytestmark = pytest.mark.slow
KiB = 1024


def ids(report) -> set[str]:
    return {f.rule_id for f in report.findings}


def test_spark_small_files_are_found_and_healthy_single_file_is_not(spark_tables):
    small = analyze_table(str(spark_tables["small_files"]))
    assert small.table.file_count == 120
    assert small.table.rows == 60_000
    assert "table_small_files" in ids(small)
    finding = next(f for f in small.findings if f.rule_id == "table_small_files")
    assert "repartition(1)" in (finding.recommendation.code_change or "")
    healthy = analyze_table(str(spark_tables["healthy"]))
    assert healthy.table.file_count == 1
    assert "table_small_files" not in ids(healthy)


def test_spark_hive_partitions_show_the_skewed_country(spark_tables):
    table = inspect_table(str(spark_tables["skewed"]))
    assert table.partitions.columns == ["country"]
    assert table.partitions.count == 7
    assert table.partitions.largest[0].values == {"country": "big"}
    assert table.partitions.largest[0].rows == 54_000
    report = analyze_table(str(spark_tables["skewed"]), thresholds=TableThresholds(partition_skew_min_bytes=64 * KiB))
    assert "table_partition_skew" in ids(report)
    assert "table_partition_skew" not in ids(analyze_table(str(spark_tables["healthy"]), thresholds=TableThresholds(partition_skew_min_bytes=64 * KiB)))


def test_filters_in_the_application_plans_become_clustering_candidates(spark_tables):
    profile = load_profile(spark_tables["log"])
    filtered = analyze_table(str(spark_tables["filtered"]), profile)
    finding = next(f for f in filtered.findings if f.rule_id == "table_data_skipping_candidates")
    assert finding.title.startswith("The application filters on customer_id, amount")
    assert "sortWithinPartitions('customer_id', 'amount')" in (finding.recommendation.code_change or "")
    assert finding.sql_execution_ids
    skipping = {e.name: e.value for e in finding.evidence}
    assert skipping["share of files an equality filter on customer_id reads"] == 1.0  # round-robin files all span it
    # without the profile there is nothing to go on
    assert "table_data_skipping_candidates" not in ids(analyze_table(str(spark_tables["filtered"])))


def test_a_column_the_files_are_already_sorted_by_is_not_a_candidate(spark_tables):
    profile = load_profile(spark_tables["log"])
    report = analyze_table(str(spark_tables["clustered"]), profile)
    customer = next(c for c in report.table.columns if c.name == "customer_id")
    assert customer.point_lookup_file_ratio <= 0.3
    finding = next(f for f in report.findings if f.rule_id == "table_data_skipping_candidates")
    assert finding.title.startswith("The application filters on amount,")
    assert "customer_id" not in finding.title


def test_filters_on_another_table_are_not_candidates_for_this_one(spark_tables):
    profile = load_profile(spark_tables["log"])
    assert "table_data_skipping_candidates" not in ids(analyze_table(str(spark_tables["small_files"]), profile))


def test_partition_filter_alone_is_not_a_zorder_candidate(spark_tables):
    profile = load_profile(spark_tables["log"])
    report = analyze_table(str(spark_tables["skewed"]), profile)
    assert "table_data_skipping_candidates" not in ids(report)


def test_cli_table_json_with_profile(spark_tables):
    from copilot.cli import app

    result = CliRunner().invoke(app, ["table", str(spark_tables["filtered"]), "--profile", str(spark_tables["log"]), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["table"]["file_count"] == 4
    assert "table_data_skipping_candidates" in {f["rule_id"] for f in data["findings"]}
