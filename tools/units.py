"""Human formatting of durations and byte sizes: one implementation for rules, tables, the graph and the CLI.

It lives in `tools/` (the lowest layer) so every package formats the same number the same way,
which keeps written reports verifiable against their evidence.
"""

from __future__ import annotations


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
