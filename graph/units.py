"""Human formatting of durations, sizes, money and ratios, shared by the evidence digest, the template and the renderers.

Verify compares numbers in written text against the evidence; formatting both with
the same functions keeps an honest narrative verifiable.
"""

from __future__ import annotations

import math

from tools.units import SAME_RUNTIME, count, human_duration, human_duration_range, human_master, human_number, human_share, human_size


duration = human_duration  # one implementation for every layer, in tools/units.py
duration_range = human_duration_range
size = human_size
master = human_master
number = human_number


def figure(value: float, min_decimals: int = 2) -> str:
    """Two decimals from 1 up; below 1 at least two significant digits (a 2-second local run costs $0.000021 and
    saves 0.0054 core-hours, not $0.0000 and 0.00)."""
    if abs(value) >= 1 or value == 0:
        return f"{value:,.2f}"
    return f"{value:.{max(min_decimals, 1 - math.floor(math.log10(abs(value))))}f}"


def core_hours(hours: float | None) -> str:
    """Core-hours saved, or "-" where nothing was estimated: a finding without a time estimate (AQE off,
    over-sized memory) showed "0.00", which reads as "saves nothing"."""
    return figure(hours) if hours else "-"


def money(amount: float | None, currency: str | None = "USD") -> str:
    if amount is None:
        return "n/a"
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency or "", "")
    text = figure(amount, min_decimals=4)
    return f"{symbol}{text}" if symbol else f"{text} {currency or ''}".strip()


def gb_hours(gb_ms: float) -> str:
    """Memory held over time, from GB-milliseconds: '0.86 GB-h', '0.0054 GB-h'."""
    return f"{figure(gb_ms / 3_600_000)} GB-h"


def speed_change(speedup: float) -> str:
    """'1.50x faster' / '1.10x slower' / 'about the same' from a speed-up (runtime before / runtime after)."""
    if speedup <= 0:
        return "no estimate"
    if abs(speedup - 1) < SAME_RUNTIME:
        return "about the same"
    return f"{speedup:.2f}x faster" if speedup > 1 else f"{1 / speedup:.2f}x slower"


def executors(total: int, peak: int) -> str:
    """'9 executors, at most 2 at once' when executors came and went, else '2 executors'."""
    text = count(total, "executor")
    return text + f", at most {peak:,} at once" if 0 < peak < total else text


def busy(utilization: float, lost_share: float | None) -> str:
    """'98% of the allocated core time busy (50% of that in task attempts that failed or were killed)'."""
    text = f"{percent(utilization)} of the allocated core time busy"
    if lost_share is not None and lost_share >= 0.01:
        text += f" ({percent(lost_share)} of that in task attempts that failed or were killed)"
    return text


def percent(ratio: float | None) -> str:
    return "n/a" if ratio is None else human_share(ratio)
