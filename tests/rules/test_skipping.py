"""Data skipping: selective filters over columnar scans that read every row."""

from __future__ import annotations

from tools.rules import RuleThresholds, diagnose
from tools.rules.skipping import selective_scans

SMALL_LOG = RuleThresholds(selective_scan_min_bytes=1e8)  # the workload's table is 476 MiB; the default floor is 1 GiB


def _skipping_findings(profile, thresholds: RuleThresholds | None = None):
    return [f for f in diagnose(profile, thresholds) if f.rule_id == "selective_filter_full_scan"]


def test_a_pushed_predicate_on_unclustered_files_is_told_to_cluster(profile_of):
    """unclustered_filter (real PySpark 4.3 log): customer_id = 4242 reached the Parquet reader, yet all 6M rows came
    out of the scan (every row group spans every customer) and the filter kept 60."""
    profile = profile_of("unclustered_filter")
    [scan, by_day] = selective_scans(profile.sql_executions)
    assert (scan.execution.execution_id, scan.rows_scanned, scan.rows_kept) == (1, 6_000_000, 60)
    assert (scan.format, scan.pushed) == ("parquet", "EqualTo(customer_id,4242)")
    assert not _skipping_findings(profile)  # 476 MiB of files: under the 1 GiB floor
    first, second = _skipping_findings(profile, SMALL_LOG)
    assert (first.sql_execution_ids, second.sql_execution_ids) == ([1], [2])
    facts = {e.name: e.value for e in first.evidence}
    assert facts["rows produced per row kept"] == 100_000 and facts["predicates pushed to the reader"] == scan.pushed
    assert first.title == "SQL 1 (save): a filter kept 60 of the 6,000,000 rows its scan of 475.8 MiB of parquet files produced"
    assert first.estimated_savings.core_ms < facts["scan time"]  # at most the scan time of the rows dropped
    rec = first.recommendation
    assert not rec.config_changes
    assert "repartitionByRange(n, col).sortWithinPartitions(col)" in rec.code_change and "date_format" not in rec.code_change


def test_a_predicate_the_reader_never_got_is_told_to_use_the_raw_column(profile_of):
    """date_format(ts, 'yyyy-MM-dd') = '2024-03-01': only IsNotNull(ts) is pushed; 16,442 of 6M rows kept."""
    profile = profile_of("unclustered_filter")
    by_day = selective_scans(profile.sql_executions)[1]
    assert by_day.pushed == "" and "date_format(ts, yyyy-MM-dd" in by_day.condition
    [finding] = [f for f in _skipping_findings(profile, SMALL_LOG) if f.sql_execution_ids == [2]]
    assert {e.name: e.value for e in finding.evidence}["predicates pushed to the reader"] == "null checks only"
    assert finding.recommendation.code_change.startswith("No predicate reached the reader besides null checks")
    assert "ts >= '2024-03-01' AND ts < '2024-03-02'" in finding.recommendation.code_change


def test_filters_that_keep_most_rows_or_read_text_are_not_reported(profile_of):
    """repeated_read's filter keeps 99% of its Parquet rows; CSV, JSON and text scans have no statistics to skip by."""
    kept_most = selective_scans(profile_of("repeated_read").sql_executions)[0]
    assert kept_most.selectivity > 0.9
    lowered = RuleThresholds(selective_scan_min_bytes=0, selective_scan_max_share=1.0)
    assert [f.sql_execution_ids for f in _skipping_findings(profile_of("repeated_read"), lowered)]  # Parquet: it would
    assert not _skipping_findings(profile_of("inferred_schema"), lowered)  # the header read: a text scan
