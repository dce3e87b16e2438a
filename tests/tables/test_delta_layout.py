"""Delta tables written by delta-rs: each layout finding fires on the table made for it and not on a healthy one."""

from __future__ import annotations

import pytest

from tools.tables import TableThresholds, analyze_table, inspect_table

KiB = 1024


def rule_ids(path, thresholds=None, profile=None) -> set[str]:
    return {f.rule_id for f in analyze_table(str(path), profile, thresholds).findings}


def test_delta_profile_reads_active_files_partitions_rows_and_history(delta_small_files):
    table = inspect_table(str(delta_small_files))
    assert table.format == "delta"
    assert table.file_count == 80
    assert table.rows == 2000
    assert table.partitions.columns == ["region"]
    assert table.partitions.count == 2
    assert {p.rows for p in table.partitions.largest} == {1000}
    assert table.delta is not None
    assert table.delta.version == 39
    assert table.delta.operations == {"WRITE": 40}
    assert table.delta.median_files_added_per_write == 2
    assert table.parquet is not None and table.parquet.row_groups == 80
    id_column = next(c for c in table.columns if c.name == "id")
    assert (id_column.min_value, id_column.max_value) == ("0", "1999")


def test_small_files_finding_recommends_optimize_on_many_tiny_files(delta_small_files):
    report = analyze_table(str(delta_small_files))
    finding = next(f for f in report.findings if f.rule_id == "table_small_files")
    assert finding.category == "small_files"
    assert finding.recommendation.code_change == f"OPTIMIZE delta.`{delta_small_files}`"
    assert {e.name: e.value for e in finding.evidence}["data files"] == 80


def test_auto_compaction_finding_when_writes_leave_small_files_uncompacted(delta_small_files):
    report = analyze_table(str(delta_small_files))
    finding = next(f for f in report.findings if f.rule_id == "delta_auto_optimize_off")
    assert {c.key for c in finding.recommendation.config_changes} == {"delta.autoOptimize.autoCompact", "delta.autoOptimize.optimizeWrite"}
    assert "SET TBLPROPERTIES" in (finding.recommendation.code_change or "")


def test_auto_compaction_finding_absent_when_table_already_compacts_itself(delta_small_files_auto_compact):
    table = inspect_table(str(delta_small_files_auto_compact))
    assert table.delta.auto_compact is True and table.delta.optimize_write is True
    ids = rule_ids(delta_small_files_auto_compact)
    assert "table_small_files" in ids
    assert "delta_auto_optimize_off" not in ids


def test_healthy_table_has_no_findings_and_records_optimize_and_vacuum(delta_healthy):
    table = inspect_table(str(delta_healthy))
    assert table.delta.last_optimize_ms is not None
    assert table.delta.last_vacuum_ms is not None
    assert table.delta.operations.get("OPTIMIZE") == 1
    assert table.delta.unreferenced_files == 0
    assert rule_ids(delta_healthy) == set()
    # the healthy table stays clean even with byte floors low enough to catch the skewed one
    assert rule_ids(delta_healthy, TableThresholds(partition_skew_min_bytes=KiB)) == set()


def test_partition_skew_names_the_big_partition(delta_skewed):
    report = analyze_table(str(delta_skewed), thresholds=TableThresholds(partition_skew_min_bytes=64 * KiB))
    finding = next(f for f in report.findings if f.rule_id == "table_partition_skew")
    assert finding.category == "skew"
    assert "region=big" in finding.title
    assert report.table.partitions.largest[0].values == {"region": "big"}
    assert report.table.partitions.bytes_max_to_median >= 8
    assert any(c.key == "spark.sql.files.maxRecordsPerFile" for c in finding.recommendation.config_changes)


def test_partition_skew_needs_the_largest_partition_to_matter(delta_skewed):
    assert "table_partition_skew" not in rule_ids(delta_skewed)  # default floor: 256 MiB


def test_over_partitioned_table_gets_a_coarser_layout_and_vacuum(delta_over_partitioned):
    report = analyze_table(str(delta_over_partitioned))
    ids = {f.rule_id for f in report.findings}
    assert "table_over_partitioned" in ids
    over = next(f for f in report.findings if f.rule_id == "table_over_partitioned")
    assert "Do not partition by region" in over.recommendation.summary
    assert "CLUSTER BY (region)" in over.recommendation.summary
    assert report.table.delta.unreferenced_files == 250
    vacuum = next(f for f in report.findings if f.rule_id == "delta_vacuum_due")
    assert vacuum.recommendation.code_change == f"VACUUM delta.`{delta_over_partitioned}` RETAIN 168 HOURS"


def test_short_retention_is_flagged_and_vacuum_never_goes_below_seven_days(delta_short_retention):
    report = analyze_table(str(delta_short_retention))
    finding = next(f for f in report.findings if f.rule_id == "delta_retention_unsafe")
    assert {e.name for e in finding.evidence} == {"delta.deletedFileRetentionDuration", "delta.logRetentionDuration"}
    assert report.table.delta.deleted_file_retention == "interval 1 hours"


def test_oversized_files_finding_with_a_lowered_threshold_only(delta_skewed):
    assert "table_oversized_files" in rule_ids(delta_skewed, TableThresholds(oversized_file_bytes=64 * KiB))
    assert "table_oversized_files" not in rule_ids(delta_skewed)


def test_delta_file_statistics_measure_how_well_each_column_skips(delta_small_files):
    columns = {c.name: c for c in inspect_table(str(delta_small_files)).columns}
    assert columns["id"].point_lookup_file_ratio <= 0.05  # each append holds its own id range
    assert columns["amount"].point_lookup_file_ratio >= 0.5  # id % 97 over ~50 consecutive ids: each file spans half of 0..96 or more
    assert columns["region"].point_lookup_file_ratio is None  # partition column


def test_unreadable_delta_log_falls_back_to_listing_the_files(tmp_path):
    import pyarrow as pa
    from deltalake import write_deltalake

    path = tmp_path / "broken"
    write_deltalake(str(path), pa.table({"id": [1, 2, 3, 4], "region": ["eu", "us", "eu", "us"]}), partition_by=["region"])
    for commit in (path / "_delta_log").iterdir():
        commit.write_text("{not json")
    table = inspect_table(str(path))
    assert table.delta is None
    assert table.file_count == 2 and table.partitions.columns == ["region"]
    assert any("cannot read Delta table" in w for w in table.warnings)


@pytest.mark.parametrize(("value", "expected"), [("128mb", 128 * 1024 * KiB), ("134217728", 134217728), ("1 GiB", 1024**3)])
def test_delta_target_file_size_is_read_in_bytes(tmp_path, value, expected):
    import pyarrow as pa
    from deltalake import write_deltalake

    write_deltalake(str(tmp_path / "t"), pa.table({"a": [1, 2]}), configuration={"delta.targetFileSize": value})
    assert inspect_table(str(tmp_path / "t")).delta.target_file_size_bytes == expected
