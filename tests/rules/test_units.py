"""tools.units: the one formatting of durations and sizes every layer shows."""

import pytest

from graph import units as graph_units
from tools.units import human_duration, human_duration_range, human_size, parse_seconds


def test_durations_step_from_ms_to_seconds_minutes_hours():
    assert [human_duration(v) for v in (12, 999, 1000, 119_949, 120_000, 7_199_000, 7_200_000)] == [
        "12 ms", "999 ms", "1.0 s", "119.9 s", "2.0 min", "120.0 min", "2.0 h"]


def test_a_duration_range_is_written_in_the_larger_ends_unit():
    assert human_duration_range(118_600, 138_000) == "2.0 min to 2.3 min"  # not "118.6 s to 2.3 min"
    assert human_duration_range(91_800, 108_000, " - ") == "91.8 s - 108.0 s"
    assert human_duration_range(13_600, 174_000) == "13.6 s to 2.9 min"  # "0.2 min" would lose the low end
    assert human_duration_range(450, 1_500) == "450 ms to 1.5 s"
    assert human_duration_range(None, 1_500) == human_duration_range(450, None) == ""


def test_sizes_use_binary_units_up_to_tib():
    assert [human_size(v) for v in (512, 1536, 1.5 * 1024**3, 3 * 1024**5)] == ["512 B", "1.5 KiB", "1.5 GiB", "3072.0 TiB"]


def test_missing_values_show_the_callers_placeholder():
    assert human_duration(None) == "n/a" and human_size(None, missing="-") == "-"


def test_graph_formats_with_the_same_functions():
    assert graph_units.duration(754_000) == human_duration(754_000) == "12.6 min"
    assert graph_units.number(1536, "bytes") == "1.5 KiB"


def test_spark_size_strings_read_back_in_bytes():
    from tools.units import parse_size

    assert [parse_size(v) for v in ("1048576", "10MB", "128mb", "1.5 GiB", "4g")] == [2**20, 10 * 2**20, 128 * 2**20, 1.5 * 2**30, 4 * 2**30]
    assert parse_size("512", default_unit="m") == 512 * 2**20  # spark.executor.memory reads a bare number as MiB
    assert [parse_size(v) for v in (None, "", "lots", "-1")] == [None] * 4


def test_executor_memory_strings_read_in_mib_with_a_default():
    from tools.cost import memory_mib

    assert (memory_mib("4g"), memory_mib("2048"), memory_mib("bogus"), memory_mib("512k", 0)) == (4096, 2048, 1024, 0.5)


def test_money_keeps_two_significant_digits_of_small_amounts():
    assert [graph_units.money(v) for v in (12345.678, 1.5, 0.5, 0.0144, 0.00031, 0.000021, 0.0)] == [
        "$12,345.68", "$1.50", "$0.5000", "$0.0144", "$0.00031", "$0.000021", "$0.00"]
    assert graph_units.money(0.000021, "CHF") == "0.000021 CHF" and graph_units.money(None) == "n/a"
    assert graph_units.gb_hours(0.78 * 3.6e6) == "0.78 GB-h"


def test_small_figures_keep_two_significant_digits():
    """Core-hours and GB-hours of small runs: 0.0054, not 0.00 (the batch summary showed 0.00 for every local run)."""
    assert [graph_units.figure(v) for v in (1234.567, 1.5, 0.5, 0.054, 0.0054, 0.0)] == [
        "1,234.57", "1.50", "0.50", "0.054", "0.0054", "0.00"]
    assert graph_units.gb_hours(0.0054 * 3.6e6) == "0.0054 GB-h"


def test_a_share_never_rounds_a_part_to_all_or_nothing():
    """203 tasks ran in 9.5 min on a 2.5 h allocation: "100% of allocated executor core time was idle" was false, "0%" of it busy too."""
    from tools.units import human_share

    assert [human_share(r) for r in (0.37, 0.994, 0.9972, 0.9996, 1.0, 0.004, 0.0008, 0.0, 1.5)] == [
        "37%", "99%", "99.7%", "99.96%", "100%", "0.4%", "0.08%", "0%", "150%"]
    assert graph_units.percent(0.9996) == "99.96%" and graph_units.percent(None) == "n/a"


def test_core_hours_not_estimated_read_as_a_dash_not_as_zero():
    """History and batch tables: a finding with no time estimate (AQE off, over-sized memory) showed "0.00"."""
    assert [graph_units.core_hours(v) for v in (2.02, 0.0054, 0.0, None)] == ["2.02", "0.0054", "-", "-"]


def test_evidence_reads_a_number_as_a_limit_and_a_setting_as_the_value_expected():
    from graph.compose import evidence_line
    from tools.findings import Evidence

    crossed = Evidence(name="max / median task duration", value=31.3, unit="ratio", threshold=4.0, stage_id=4)
    setting = Evidence(name="spark.sql.adaptive.coalescePartitions.enabled", value="false", threshold="true")
    assert evidence_line(crossed) == "max / median task duration 31.3x (threshold 4.00x) in stage 4"
    assert evidence_line(setting) == "spark.sql.adaptive.coalescePartitions.enabled false (expected true)"


@pytest.mark.parametrize(("text", "seconds"), [
    ("60s", 60.0), ("2min", 120.0), ("2m", 120.0), ("500ms", 0.5), ("1h", 3600.0), ("120", 120.0), (" 1.5 S ", 1.5),
    ("infinity", None), ("", None), (None, None), ("10 parsecs", None),
])
def test_parse_seconds_reads_spark_time_strings(text, seconds):
    assert parse_seconds(text) == seconds


def test_a_master_redacted_in_the_log_is_said_so_not_shown_as_the_marker():
    from tools.units import human_master

    assert human_master("*********(redacted)") == "redacted in the log"
    assert human_master("yarn") == "yarn" and human_master(None) == human_master("") == "?"


@pytest.mark.parametrize(("value", "text"), [(9.9997, "10.0x"), (9.994, "9.99x"), (2.5, "2.50x"), (16.2, "16.2x"),
                                             (99.7, "100x"), (1234.0, "1,234x")])
def test_a_ratio_takes_the_decimals_of_the_value_it_prints(value: float, text: str) -> None:
    """A join of 499,987,388 rows over 50,000,000 was '10.00x': the decimals were chosen before rounding."""
    from tools.units import human_number

    assert human_number(value, "ratio") == text
