"""Spark Copilot: CLI, settings, rendering, history store and the public Python API.

    from copilot import analyze, profile
    report = analyze("path/to/eventlog", question="why is stage 3 slow?")
    report  # in Jupyter: the findings, what-if and charts

The API functions are imported on first use, so `import copilot` (and `copilot --help`) stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from copilot.python_api import analyze, compare, predict, profile, profiles, render, what_if

_API = ("analyze", "compare", "predict", "profile", "profiles", "render", "what_if")


def __getattr__(name: str) -> Any:
    if name in _API:
        from copilot import python_api

        return getattr(python_api, name)
    raise AttributeError(f"module 'copilot' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])


__all__ = list(_API)
