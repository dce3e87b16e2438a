"""How well file statistics skip files: the share of files an equality filter on a column must still read.

Every file records min/max per column (Parquet footers, Delta `stats`). A filter
`col = v` can skip a file only when v lies outside its [min, max]. Probing with
values that occur in the table (each sampled file's min and max) and counting the
files whose range holds the probe gives the expected fraction read: about 1/files
for a table clustered by the column, 1.0 when every file spans the whole range.
"""

from __future__ import annotations

MAX_FILES = 5000
MAX_PROBES = 200


def point_lookup_file_ratio(ranges: list[tuple[object, object]]) -> float | None:
    """Mean fraction of files whose [min, max] holds a probe value; None when it cannot be judged."""
    valid = [(low, high) for low, high in ranges if low is not None and high is not None]
    if len(valid) < 2:
        return None
    if len(valid) > MAX_FILES:
        step = len(valid) / MAX_FILES
        valid = [valid[int(i * step)] for i in range(MAX_FILES)]
    step = max(1, len(valid) * 2 // MAX_PROBES)
    probes = [value for low, high in valid[::step] for value in (low, high)]
    try:
        hits = [sum(1 for low, high in valid if low <= probe <= high) for probe in probes]
    except TypeError:  # values of mixed or incomparable types
        return None
    return sum(hits) / (len(hits) * len(valid))
