"""Durations and byte sizes for people, and Spark size strings read back: one implementation for every layer.

It lives in `tools/` (the lowest layer) so every package formats the same number the same way,
which keeps written reports verifiable against their evidence.
"""

from __future__ import annotations

import math
import re

from tools.redact import is_redacted


# (unit, milliseconds per unit, decimals), smallest first; a duration takes the first unit it stays under the limit of.
_DURATION_UNITS = (("ms", 1.0, 0, 1000.0), ("s", 1000.0, 1, 120_000.0), ("min", 60_000.0, 1, 7_200_000.0),
                   ("h", 3_600_000.0, 1, math.inf))


def _duration_unit(ms: float) -> tuple[str, float, int]:
    for name, per, decimals, limit in _DURATION_UNITS:
        if abs(ms) < limit:
            return name, per, decimals
    return _DURATION_UNITS[-1][:3]  # NaN compares false everywhere: the largest unit, as before


def human_duration(ms: float | None, missing: str = "n/a") -> str:
    """Milliseconds for people: 12 ms, 3.4 s, 2.5 min, 1.3 h (`missing` when None)."""
    if ms is None:
        return missing
    name, per, decimals = _duration_unit(float(ms))
    return f"{float(ms) / per:.{decimals}f} {name}"


def human_duration_range(low_ms: float | None, high_ms: float | None, joiner: str = " to ") -> str:
    """A range in the larger end's unit when the smaller end is at least one of it: '2.0 min to 2.3 min', not
    '118.6 s to 2.3 min'; a wider range keeps each end's own unit ('13.6 s to 2.9 min'). '' when an end is None."""
    if low_ms is None or high_ms is None:
        return ""
    ends = (float(low_ms), float(high_ms))
    name, per, decimals = _duration_unit(max(map(abs, ends)))
    if min(map(abs, ends)) < per:
        return joiner.join(map(human_duration, ends))
    return joiner.join(f"{ms / per:.{decimals}f} {name}" for ms in ends)


SAME_RUNTIME = 0.005  # runtimes within half a percent of each other read as the same


def runtime_direction(before_ms: float, after_ms: float, low_ms: float | None = None,
                      high_ms: float | None = None) -> str:
    """Which way a predicted change moves the runtime: "faster", "slower" or "unchanged" by the point estimate,
    "uncertain" when the prediction's interval holds the observed runtime strictly inside it (the prediction
    cannot tell a gain from a loss, whatever its point says)."""
    if low_ms is not None and high_ms is not None and low_ms < before_ms < high_ms:
        return "uncertain"
    if after_ms <= 0 or abs(before_ms / after_ms - 1) < SAME_RUNTIME:
        return "unchanged"
    return "faster" if after_ms < before_ms else "slower"


def count(n: int, noun: str) -> str:
    """'1 job', '3 jobs', '1,200 tasks' (regular plurals only)."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def human_master(url: str | None) -> str:
    """The master URL as a text says it after "master ": "?" when the log has none, and no redaction marker where
    the log itself carries Spark's (public test logs redact spark.master)."""
    if not url:
        return "?"
    return "redacted in the log" if is_redacted(url) else url


def human_share(ratio: float) -> str:
    """A share as a percent that never rounds a part to all or to nothing: "99.7%" (not 100%) of the core time
    idle when 203 tasks ran, "0.08%" (not 0%) of it busy. Whole percents otherwise; near 0% or 100%, one
    significant digit of the part (or of the rest), so the figure still traces back to the evidence."""
    if 0 < ratio < 0.005:
        return f"{ratio:.{-math.floor(math.log10(ratio * 100) + 1e-9)}%}"
    if 0.995 <= ratio < 1:
        return f"{ratio:.{max(1, -math.floor(math.log10((1 - ratio) * 100) + 1e-9))}%}"
    return f"{ratio:.0%}"


def human_size(num_bytes: float | None, missing: str = "n/a") -> str:
    """Bytes in binary units: 512 B, 3.2 KiB, 1.5 GiB (`missing` when None)."""
    if num_bytes is None:
        return missing
    value = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


_SIZE_UNITS = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$", re.IGNORECASE)


def parse_size(value: str | None, default_unit: str = "b") -> float | None:
    """A Spark size string ('4g', '512m', '10MB', '1048576') in bytes; None when absent or unparsable."""
    match = _SIZE.match(value or "")
    if match is None:
        return None
    unit = match.group(2).lower() or ("b" if match.group(3) else default_unit)
    return float(match.group(1)) * _SIZE_UNITS[unit]


_TIME_UNITS_S = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|m|h|d)?\s*$", re.IGNORECASE)


def parse_seconds(value: str | None, default_unit: str = "s") -> float | None:
    """A Spark time string ('60s', '2min', '500ms', '1h', '120') in seconds; None when absent or unparsable."""
    match = _TIME.match(value or "")
    if match is None:
        return None
    return float(match.group(1)) * _TIME_UNITS_S[(match.group(2) or default_unit).lower()]


def human_number(value: float | str | None, unit: str = "") -> str:
    """An evidence value in its unit (ms and bytes humanised, ratios as x, counts as integers)."""
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    unit = (unit or "").lower()
    if unit in ("ms", "milliseconds"):
        return human_duration(value)
    if unit in ("bytes", "byte", "b"):
        return human_size(value)
    if unit in ("ratio", "x"):
        # chosen by the value as printed: 9.9997 is '10.0x', not '10.00x'
        if abs(value) >= 99.5:
            return f"{value:,.0f}x"
        return f"{value:.1f}x" if abs(value) >= 9.995 else f"{value:.2f}x"
    if unit in ("fraction", "share", "percent_ratio"):
        return human_share(value)
    if unit in ("%", "percent", "pct"):
        return f"{value:.0f}%"
    if float(value).is_integer():
        text = f"{int(value):,}"
    else:
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip() if unit and unit not in ("count",) else text


def one_line(text: str, limit: int) -> str:
    """`text` on one line (runs of whitespace, newlines too, as one space), cut to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."

