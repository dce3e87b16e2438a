"""Columns the application filtered on, read from its SQL plans: the Z-order / clustering candidates.

Sources, strongest first: `PushedFilters: [...]` and `PartitionFilters: [...]` of file scans,
then `Filter (...)` operators (`col#12` attribute references). When a scan names the table's
location, only the plans that read that table count.
"""

from __future__ import annotations

import re
from collections import Counter

from pydantic import BaseModel

from tools.eventlog.model import AppProfile

_PUSHED = re.compile(r"(?:PushedFilters|PartitionFilters): \[([^\]]*)\]")
_SOURCE_PREDICATE = re.compile(
    r"\b(EqualTo|EqualNullSafe|GreaterThan|GreaterThanOrEqual|LessThan|LessThanOrEqual|In|StringStartsWith|StringEndsWith|StringContains)\(([A-Za-z_][\w.`]*)"
)
_FILTER_OPERATOR = re.compile(r"^\s*[+\-:*\s]*(?:\(\d+\)\s*)?Filter\b(.*)$", re.MULTILINE)
_ATTRIBUTE = re.compile(r"([A-Za-z_][\w]*)#\d+L?")
_NOT_NULL_ONLY = re.compile(r"^\s*isnotnull\(", re.IGNORECASE)


class FilterColumn(BaseModel):
    name: str
    occurrences: int  # predicates over this column in the application's plans
    sql_execution_ids: list[int]


def filter_columns(profile: AppProfile, table_columns: list[str], table_path: str | None = None) -> list[FilterColumn]:
    """Table columns used in filter predicates, most frequent first (IS NOT NULL alone does not count)."""
    by_lower = {name.lower(): name for name in table_columns}
    counts: Counter[str] = Counter()
    executions: dict[str, set[int]] = {}
    plans = [(execution.execution_id, _plan_text(execution)) for execution in profile.sql_executions]
    location = _location_hint(table_path)
    if location and any(location.search(text) for _, text in plans):
        plans = [(execution_id, text) for execution_id, text in plans if location.search(text)]
    for execution_id, text in plans:
        for name in _predicate_columns(text):
            column = by_lower.get(name.lower())
            if column is not None:
                counts[column] += 1
                executions.setdefault(column, set()).add(execution_id)
    return [
        FilterColumn(name=name, occurrences=count, sql_execution_ids=sorted(executions[name]))
        for name, count in counts.most_common()
    ]


def _plan_text(execution) -> str:
    parts = [execution.physical_plan]
    parts.extend(f"{node.name} {node.description}" for node in execution.nodes)
    return "\n".join(part for part in parts if part)


def _predicate_columns(text: str) -> list[str]:
    names: list[str] = []
    for match in _PUSHED.finditer(text):
        for predicate in _SOURCE_PREDICATE.finditer(match.group(1)):
            names.append(predicate.group(2).strip("`"))
        names.extend(_ATTRIBUTE.findall(match.group(1)))  # PartitionFilters use col#id
    for match in _FILTER_OPERATOR.finditer(text):
        conditions = [c for c in re.split(r"\bAND\b", match.group(1)) if not _NOT_NULL_ONLY.match(c.strip(" ()"))]
        for condition in conditions:
            names.extend(_ATTRIBUTE.findall(condition))
    return names


def _location_hint(table_path: str | None) -> re.Pattern[str] | None:
    """The table path as it would appear in a scan's `Location: ...[file:/...]`, not as a prefix of another path."""
    if not table_path:
        return None
    trimmed = table_path.rstrip("/")
    if "://" in trimmed:
        trimmed = trimmed.split("://", 1)[1]
    return re.compile(re.escape(trimmed) + r"(?![\w.\-])") if len(trimmed) > 3 else None
