"""The public Python API: the same analysis as the CLI, returning typed objects for notebooks and programs.

`from copilot import analyze, profile, predict, what_if, compare`. Each function checks its
input, calls the one library function the matching CLI command calls, and raises
a `tools.errors.CopilotError` subclass (one clear line) on bad input.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Union

from tools.errors import ConfigurationError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from copilot.settings import Settings
    from graph.report import Report
    from models.predict import Prediction
    from tools.compare import RunComparison
    from tools.eventlog.model import AppProfile
    from tools.simulate import WhatIf

LogPath = Union[str, "os.PathLike[str]"]


def _path(value: object, what: str = "log") -> str:
    """A str or path-like as a non-empty string; anything else is a ConfigurationError."""
    if isinstance(value, (str, os.PathLike)):
        text = os.fspath(value)
        if isinstance(text, str) and text.strip():
            return text
        if isinstance(text, str):
            raise ConfigurationError(f"the {what} path is empty")
    raise ConfigurationError(f"expected the {what} as a path (str or pathlib.Path), got {type(value).__name__}")


def _paths(logs: LogPath | Iterable[LogPath]) -> list[str]:
    if isinstance(logs, (str, os.PathLike)):
        return [_path(logs)]
    if isinstance(logs, Iterable) and not isinstance(logs, (bytes, Mapping)):
        paths = [_path(item) for item in logs]
        if paths:
            return paths
        raise ConfigurationError("no event logs given: pass a path or a list of paths")
    raise ConfigurationError(f"expected an event log path or a list of them, got {type(logs).__name__}")


def _settings(settings: Settings | None) -> Settings:
    from copilot.settings import Settings, get_settings

    if settings is None:
        return get_settings()
    if not isinstance(settings, Settings):
        raise ConfigurationError(f"settings must be a copilot.settings.Settings, got {type(settings).__name__}")
    return settings


def analyze(
    logs: LogPath | Iterable[LogPath],
    question: str | None = None,
    table: LogPath | None = None,
    llm: BaseChatModel | None = None,
    settings: Settings | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Analyze event logs (files, rolling-log dirs, dirs of logs, fsspec or shs:// URLs) and return the `Report`.

    `question` is asked of the analysis (e.g. "why is stage 3 slow?"); `table` is a
    Parquet/ORC/CSV/Delta directory the job reads or writes; `llm` is any LangChain
    chat model (default: the configured endpoint, offline without one).
    """
    if question is not None and not isinstance(question, str):
        raise ConfigurationError(f"question must be text, got {type(question).__name__}")
    import graph

    return graph.analyze(_paths(logs), question=question or None,
                         table=_path(table, "table") if table is not None else None,
                         settings=_settings(settings), llm=llm, progress=progress)


def profiles(path: LogPath, settings: Settings | None = None) -> list[AppProfile]:
    """The `AppProfile` of every application found at `path` (a log, a rolling-log dir, a dir of logs, a URL)."""
    from graph.adapters import load_profiles
    from graph.config import GraphConfig

    return load_profiles(_path(path), GraphConfig.from_settings(_settings(settings)))


def profile(log: LogPath, settings: Settings | None = None) -> AppProfile:
    """The `AppProfile` of one application; a directory holding several is an error (use `profiles`)."""
    found = profiles(log, settings)
    if len(found) > 1:
        names = ", ".join(p.app_id for p in found[:3]) + (", ..." if len(found) > 3 else "")
        raise ConfigurationError(f"{_path(log)} holds {len(found)} applications ({names}); "
                                 "pass one of them, or use copilot.profiles() for all")
    return found[0]


def predict(log: LogPath, changes: Mapping[str, object] | None = None, *, settings: Settings | None = None,
            **more_changes: object) -> Prediction:
    """Predicted runtime (and cost, at the settings' prices) of the logged application with Spark settings changed.

    `predict(log, {"spark.sql.shuffle.partitions": 400})` or
    `predict(log, **{"spark.executor.instances": 8})`; unsupported keys raise `ModelError`.
    """
    if changes is not None and not isinstance(changes, Mapping):
        raise ConfigurationError(f"changes must be a mapping of Spark property -> value, got {type(changes).__name__}")
    merged = {str(key): str(value) for key, value in {**(changes or {}), **more_changes}.items()}
    from models.predict import predict_runtime
    from tools.cost import pricing_from_settings

    resolved = _settings(settings)
    return predict_runtime(profile(log, settings), merged, resolved.model_path, pricing_from_settings(resolved.pricing))


def compare(baseline: LogPath, log: LogPath, settings: Settings | None = None) -> RunComparison:
    """`log`'s application against `baseline`'s: runtime, executors, data volumes, the settings that differ, the
    stages that changed and why, and the rules that fire on one run only (with the settings' thresholds)."""
    from tools.compare import compare_profiles
    from tools.rules import diagnose

    rules = _settings(settings).rules
    before, after = profile(baseline, settings), profile(log, settings)
    return compare_profiles(before, after, diagnose(before, rules), diagnose(after, rules))


def what_if(log: LogPath, settings: Settings | None = None) -> WhatIf:
    """Simulated runtime for 0.25x..4x the observed executors (cores in local mode)."""
    from tools.simulate import what_if_curve

    return what_if_curve(profile(log, settings))


def render(report: Report, fmt: str = "md") -> str:
    """The report as text: "md", "json", "html" (a whole page) or "terminal"."""
    formats = ("md", "json", "html", "terminal")
    if fmt not in formats:
        raise ConfigurationError(f"unknown report format {fmt!r}; use one of {', '.join(formats)}")
    from copilot.report import render as render_report

    return render_report(report, fmt)  # type: ignore[arg-type]


__all__ = ["analyze", "predict", "profile", "profiles", "render", "what_if"]
