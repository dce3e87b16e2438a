"""Turn another part's typed score object (pydantic model or dataclass) into scorecard metrics and tables.

The parts own their score types; the harness reads them by shape: numbers become
metrics (dotted names for nested groups such as `hybrid.recall@5`), mappings of
rows (per category, per case) become tables, lists of strings become misses.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from evals.harness.scorecard import Better, Metric, ResultTable

LOWER_IS_BETTER_MARKERS = ("ape", "error", "latency", "_ms", "miss", "false_positive", "violation", "width")


def as_plain(value: Any) -> Any:
    """Pydantic models, dataclasses and mappings as plain dicts/lists, recursively."""
    if hasattr(value, "model_dump"):
        return as_plain(value.model_dump())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return as_plain(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): as_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_plain(v) for v in value]
    return value


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def direction(name: str) -> Better:
    lowered = name.lower()
    if "coverage" in lowered or "recall" in lowered or "precision" in lowered:
        return "higher"
    return "lower" if any(marker in lowered for marker in LOWER_IS_BETTER_MARKERS) else "higher"


def _is_row_mapping(value: Any) -> bool:
    """{name: {field: number, ...}, ...}: a table keyed by its first column."""
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(v, dict) and v and all(is_number(x) or x is None or isinstance(x, str) for x in v.values())
                for v in value.values())
    )


def _is_row_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def rows_table(title: str, rows: dict[str, dict[str, Any]] | list[dict[str, Any]], key: str = "name") -> ResultTable:
    """A table from a mapping of rows (key column first) or a list of row dicts."""
    if isinstance(rows, dict):
        rows = [{key: name, **fields} for name, fields in rows.items()]
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    return ResultTable(title=title, columns=columns, rows=cells)


def _cell(value: Any) -> str | float | int | None:
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def flatten_score(score: Any, skip: tuple[str, ...] = ()) -> tuple[list[Metric], list[ResultTable], list[str]]:
    """Metrics from numbers (one level of nesting kept as dotted names), tables from row mappings, misses from strings."""
    metrics: list[Metric] = []
    tables: list[ResultTable] = []
    misses: list[str] = []
    plain = as_plain(score)

    def walk(prefix: str, value: Any, depth: int) -> None:
        if is_number(value):
            metrics.append(Metric(name=prefix, value=float(value), better=direction(prefix)))
        elif _is_row_mapping(value) and (depth > 0 or not all(is_number(x) for v in value.values() for x in v.values()) or len(value) > 4):
            tables.append(rows_table(prefix, value))
        elif isinstance(value, dict) and depth < 2:
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else key, inner, depth + 1)
        elif _is_row_list(value):
            tables.append(rows_table(prefix, value))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            misses.extend(value)

    for key, value in (plain or {}).items():
        if key not in skip:
            walk(key, value, 0)
    return metrics, tables, misses
