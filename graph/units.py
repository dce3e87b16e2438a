"""Human formatting of durations, sizes, money and ratios, shared by the evidence digest, the template and the renderers.

Verify compares numbers in written text against the evidence; formatting both with
the same functions keeps an honest narrative verifiable.
"""

from __future__ import annotations


def duration(ms: float | None) -> str:
    """12 ms, 3.4 s, 2.5 min, 1.3 h."""
    if ms is None:
        return "n/a"
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


def size(num_bytes: float | None) -> str:
    """Binary units: 512 B, 3.2 KiB, 1.5 GiB."""
    if num_bytes is None:
        return "n/a"
    value = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def money(amount: float | None, currency: str | None = "USD") -> str:
    if amount is None:
        return "n/a"
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency or "", "")
    text = f"{amount:,.2f}" if abs(amount) >= 1 or amount == 0 else f"{amount:.4f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency or ''}".strip()


def percent(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio * 100:.0f}%"


def number(value: float | str | None, unit: str = "") -> str:
    """An evidence value in its unit (ms and bytes humanised, ratios as x, counts as integers)."""
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    unit = (unit or "").lower()
    if unit in ("ms", "milliseconds"):
        return duration(value)
    if unit in ("bytes", "byte", "b"):
        return size(value)
    if unit in ("ratio", "x"):
        if abs(value) >= 100:
            return f"{value:,.0f}x"
        return f"{value:.1f}x" if abs(value) >= 10 else f"{value:.2f}x"
    if unit in ("fraction", "share", "percent_ratio"):
        return percent(value)
    if unit in ("%", "percent", "pct"):
        return f"{value:.0f}%"
    if float(value).is_integer():
        text = f"{int(value):,}"
    else:
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip() if unit and unit not in ("count",) else text
