"""Calling another part's pure scoring function, passing only the arguments it declares."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from evals.harness.registry import PartNotAvailable, import_part


def scoring_function(module: str, name: str, owner: str) -> Callable[..., Any]:
    """`module.name`, or 'not available' when the part (or that function) has not landed."""
    part = import_part(module, owner)
    function = getattr(part, name, None)
    if function is None:
        raise PartNotAvailable(f"{module}.{name} ({owner}) is not in this checkout yet")
    return function


def call_with_supported(function: Callable[..., Any], *args: Any, **optional: Any) -> Any:
    """Call with the positional arguments, plus those keyword arguments the function accepts."""
    parameters = inspect.signature(function).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    accepted = {k: v for k, v in optional.items() if takes_any or k in parameters}
    return function(*args, **accepted)
