"""Table and file layout: `inspect_table(path) -> TableProfile`, `diagnose_table(table) -> [Finding]`.

Names are imported on first use, so `tools.tables.model` (the settings' thresholds) stays cheap to import.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "TableProfile": "tools.tables.model",
    "TableThresholds": "tools.tables.model",
    "TableReport": "tools.tables.report",
    "analyze_table": "tools.tables.report",
    "diagnose_table": "tools.tables.diagnose",
    "inspect_table": "tools.tables.inspect",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tools.tables' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
