"""tools.units: the one formatting of durations and sizes every layer shows."""

from graph import units as graph_units
from tools.units import human_duration, human_size


def test_durations_step_from_ms_to_seconds_minutes_hours():
    assert [human_duration(v) for v in (12, 999, 1000, 119_949, 120_000, 7_199_000, 7_200_000)] == [
        "12 ms", "999 ms", "1.0 s", "119.9 s", "2.0 min", "120.0 min", "2.0 h"]


def test_sizes_use_binary_units_up_to_tib():
    assert [human_size(v) for v in (512, 1536, 1.5 * 1024**3, 3 * 1024**5)] == ["512 B", "1.5 KiB", "1.5 GiB", "3072.0 TiB"]


def test_missing_values_show_the_callers_placeholder():
    assert human_duration(None) == "n/a" and human_size(None, missing="-") == "-"


def test_graph_formats_with_the_same_functions():
    assert graph_units.duration(754_000) == human_duration(754_000) == "12.6 min"
    assert graph_units.number(1536, "bytes") == "1.5 KiB"
