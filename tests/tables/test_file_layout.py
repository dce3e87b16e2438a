"""Parquet / CSV layouts written by pyarrow: footers, codecs, unsplittable files, bad input."""

from __future__ import annotations

import pytest

from tools.errors import ConfigurationError
from tools.tables import TableThresholds, analyze_table, inspect_table

KiB = 1024


def test_parquet_footers_give_rows_row_groups_codecs_and_column_stats(parquet_snappy):
    table = inspect_table(str(parquet_snappy))
    assert table.format == "parquet"
    assert table.rows == 5000
    assert table.parquet.row_groups == 5
    assert set(table.parquet.codecs) == {"SNAPPY"}
    amount = next(c for c in table.columns if c.name == "amount")
    assert (float(amount.min_value), float(amount.max_value)) == (0.0, 96.0)
    assert amount.null_count == 0
    assert amount.compressed_bytes and amount.uncompressed_bytes


def test_uncompressed_parquet_gets_a_codec_recommendation(parquet_uncompressed, parquet_snappy):
    report = analyze_table(str(parquet_uncompressed))
    finding = next(f for f in report.findings if f.rule_id == "table_parquet_uncompressed")
    assert finding.recommendation.config_changes[0].key == "spark.sql.parquet.compression.codec"
    assert "table_parquet_uncompressed" not in {f.rule_id for f in analyze_table(str(parquet_snappy)).findings}


def test_gzipped_csv_larger_than_a_split_is_flagged_as_unsplittable(csv_gzipped):
    table = inspect_table(str(csv_gzipped))
    assert table.format == "csv"
    assert table.compressed_text_files == 1
    report = analyze_table(str(csv_gzipped), thresholds=TableThresholds(target_file_bytes=256 * KiB))
    finding = next(f for f in report.findings if f.rule_id == "table_oversized_files")
    assert finding.category == "oversized_partitions"
    assert "cannot be split" in finding.recommendation.summary
    assert "table_oversized_files" not in {f.rule_id for f in analyze_table(str(csv_gzipped)).findings}


def test_missing_path_is_one_clear_error(tmp_path):
    with pytest.raises(ConfigurationError, match="no such table path"):
        inspect_table(str(tmp_path / "nope"))


def test_damaged_parquet_file_is_a_warning_not_a_crash(tmp_path):
    (tmp_path / "part-0.parquet").write_bytes(b"not parquet at all")
    table = inspect_table(str(tmp_path))
    assert table.file_count == 1
    assert any("unreadable Parquet footer" in w for w in table.warnings)


def test_orc_and_json_files_are_counted_per_format_with_orc_rows(tmp_path):
    import pyarrow as pa
    from pyarrow import orc

    for day in ("2024-01-01", "2024-01-02"):
        folder = tmp_path / f"day={day}"
        folder.mkdir()
        orc.write_table(pa.table({"id": list(range(300))}), folder / "part-0.orc")
    (tmp_path / "day=2024-01-02" / "extra.json").write_text('{"id": 1}\n{"id": 2}\n')
    (tmp_path / "_SUCCESS").write_text("")
    table = inspect_table(str(tmp_path))
    assert table.format == "mixed"
    assert table.formats == {"orc": 2, "json": 1}
    assert table.partitions.columns == ["day"]
    assert table.partitions.count == 2
    assert table.rows is None  # the JSON file's rows are not counted
    assert {p.values["day"]: p.rows for p in table.partitions.largest} == {"2024-01-01": 300, "2024-01-02": None}
