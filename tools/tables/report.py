"""`analyze_table`: a table's layout and the findings about it, in one call."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tools.findings import Finding
from tools.tables.diagnose import diagnose_table
from tools.tables.inspect import inspect_table
from tools.tables.model import TableProfile, TableThresholds


class TableReport(BaseModel):
    """A table's layout and the findings about it."""

    table: TableProfile
    findings: list[Finding] = Field(default_factory=list)


def analyze_table(path: str, profile=None, thresholds: TableThresholds | None = None) -> TableReport:
    """Inspect `path` and diagnose its layout (with Z-order candidates from `profile`'s SQL filters when given)."""
    table = inspect_table(path, profile, thresholds)
    return TableReport(table=table, findings=diagnose_table(table, profile, thresholds))
