"""Plain-data helpers for reading other parts' typed results (pydantic models, dataclasses)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any


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
