"""Durations and byte sizes for people, and Spark size strings read back: one implementation for every layer.

It lives in `tools/` (the lowest layer) so every package formats the same number the same way,
which keeps written reports verifiable against their evidence.
"""

from __future__ import annotations

import re


def human_duration(ms: float | None, missing: str = "n/a") -> str:
    """Milliseconds for people: 12 ms, 3.4 s, 2.5 min, 1.3 h (`missing` when None)."""
    if ms is None:
        return missing
    ms = float(ms)
    if abs(ms) < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if abs(seconds) < 120:
        return f"{seconds:.1f} s"
    minutes = seconds / 60
    if abs(minutes) < 120:
        return f"{minutes:.1f} min"
    return f"{minutes / 60:.1f} h"


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
