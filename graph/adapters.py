"""Adapters from the lower packages' plain functions to the graph's typed results.

Each function imports its package lazily and turns a missing or failing component
into `ToolUnavailable` (the report then carries a caveat instead of crashing).
"""

from __future__ import annotations

from typing import Any

from graph.config import GraphConfig
from graph.report import Citation, Cost, PredictedEffect, WhatIfPoint
from tools.eventlog.model import AppProfile
from tools.errors import CopilotError, ModelError
from tools.findings import Finding


class ToolUnavailable(Exception):
    """A lower component is missing or cannot answer; the caller records a caveat and moves on."""


def _section(config: GraphConfig, name: str) -> Any:
    """A settings section (e.g. `rules`, `cost`) from the caller's settings object, or None."""
    return getattr(config.settings, name, None) if config.settings is not None else None


def load_profiles(path: str, config: GraphConfig) -> list[AppProfile]:
    """Every application found at `path` (a log file, a rolling-log dir or a dir of logs)."""
    try:
        from tools.eventlog.profile import load_profile
        from tools.sources.shs import application_refs
    except ImportError as exc:
        raise ToolUnavailable("the event-log engine is not installed") from exc
    return [load_profile(ref.path) for ref in application_refs(path, config.home / "cache")]


def diagnose(profile: AppProfile, config: GraphConfig) -> list[Finding]:
    try:
        from tools.rules import diagnose as run_rules
    except ImportError as exc:
        raise ToolUnavailable("the diagnostic rules are not installed") from exc
    return run_rules(profile, _section(config, "rules"))


def what_if(profile: AppProfile, config: GraphConfig) -> tuple[list[WhatIfPoint], list[str]]:
    """The simulator's executor-count curve; the interval is its error replaying the observed run."""
    try:
        from tools.simulate import what_if_curve
    except ImportError as exc:
        raise ToolUnavailable("the executor simulator is not installed") from exc
    try:
        curve = what_if_curve(profile)
    except ModelError as exc:  # e.g. no completed stage with task timings
        raise ToolUnavailable(f"executor what-if: {exc}") from exc
    error = abs(curve.error_pct or 0.0) / 100
    observed = next((p for p in curve.points if abs(p.factor - 1.0) < 1e-9), None)
    points = []
    for p, cost in zip(curve.points, _what_if_costs(profile, config, curve.points, observed)):
        points.append(WhatIfPoint(
            executors=p.executors, cores_per_executor=p.cores, runtime_ms=p.estimated_duration_ms,
            runtime_low_ms=p.estimated_duration_ms * (1 - error) if curve.error_pct is not None else None,
            runtime_high_ms=p.estimated_duration_ms * (1 + error) if curve.error_pct is not None else None,
            cost=cost, current=p is observed,
        ))
    return points, list(curve.caveats)


def predictable(changes: dict[str, str]) -> dict[str, str]:
    """The part of `changes` the runtime model and simulator cover (all of it when the model is not installed,
    so that `predict` says so)."""
    try:
        from models.predict import SUPPORTED_KEYS
    except ImportError:
        return dict(changes)
    return {key: value for key, value in changes.items() if key in SUPPORTED_KEYS}


def predict(profile: AppProfile, changes: dict[str, str], config: GraphConfig) -> PredictedEffect | None:
    """The runtime model's estimate with `changes` applied (None when the model does not cover the change)."""
    try:
        from models import predict_runtime
    except ImportError as exc:
        raise ToolUnavailable("the runtime model is not installed") from exc
    try:
        prices = pricing(config)
    except CopilotError:
        prices = None  # a broken pricing file costs the prices, not the prediction
    try:
        prediction = predict_runtime(profile, changes, getattr(config.settings, "model_path", None), prices)
    except CopilotError as exc:
        raise ToolUnavailable(str(exc)) from exc
    except Exception as exc:  # a broken artifact must cost a prediction, not the report
        raise ToolUnavailable(f"the runtime model failed ({type(exc).__name__}: {_first_line(exc)})") from exc
    if prediction.component == "none":
        return None
    method = {"model": "runtime model", "simulator": "task-scheduling simulation",
              "simulator+model": "simulation + runtime model"}.get(prediction.component, prediction.component)
    return PredictedEffect(runtime_before_ms=prediction.observed_duration_ms, runtime_after_ms=prediction.estimated_duration_ms,
                           runtime_low_ms=prediction.low_ms, runtime_high_ms=prediction.high_ms, method=method,
                           caveats=list(prediction.caveats), cost_before=prediction.observed_cost,
                           cost_after=prediction.estimated_cost, currency=prediction.currency)


def pricing(config: GraphConfig):
    """Prices from the caller's settings (`pricing` section: file, instance type, overrides), else the defaults."""
    from tools.cost import pricing_from_settings

    return pricing_from_settings(_section(config, "pricing"))


def _what_if_costs(profile: AppProfile, config: GraphConfig, points: list, observed) -> list[float | None]:
    """Each what-if point's cost: the run's cost (the report's figure) scaled by the point's runtime, executors and
    cores, so the observed row costs exactly what the run cost. None without the cost tool or an observed point."""
    try:
        from tools.cost import app_cost as observed_cost, changed_cost
    except ImportError:
        return [None] * len(points)
    if observed is None or observed.estimated_duration_ms <= 0:
        return [None] * len(points)
    prices = pricing(config)
    run_cost = observed_cost(profile, prices)
    return [changed_cost(run_cost, prices, p.estimated_duration_ms / observed.estimated_duration_ms,
                         p.executors / max(observed.executors, 1), p.cores / max(observed.cores, 1)) for p in points]


def app_cost(profile: AppProfile, config: GraphConfig) -> Cost:
    try:
        from tools import cost
    except ImportError as exc:
        raise ToolUnavailable("the cost model is not installed") from exc
    result = cost.app_cost(profile, pricing(config))
    return Cost(amount=result.total_cost, currency=result.currency,
                core_hours=result.allocated_core_hours + result.driver_core_hours,
                idle_amount=result.idle_cost, method=result.pricing, assumptions=result.assumptions)


def price_findings(findings: list[Finding], profile: AppProfile, config: GraphConfig) -> list[Finding]:
    try:
        from tools.cost import price_findings as price
    except ImportError:
        return findings
    return price(findings, profile, pricing(config))


def inspect_table(path: str, profile: AppProfile | None, config: GraphConfig):
    """The layout profile of a table directory (Parquet/ORC/CSV/JSON/Delta)."""
    try:
        from tools.tables import inspect_table as inspect
    except ImportError as exc:
        raise ToolUnavailable("the table inspector is not installed") from exc
    return inspect(path, profile, _section(config, "tables"))


def diagnose_table(table, profile: AppProfile | None, config: GraphConfig) -> list[Finding]:
    from tools.tables import diagnose_table as run

    return run(table, profile, _section(config, "tables"))


def search(query: str, k: int, filters: dict[str, Any] | None, config: GraphConfig) -> list[Citation]:
    """Documentation passages for a query from the default knowledge index (built on first use)."""
    try:
        # knowledge.api, not the package: under pytest the tests/knowledge package shadows the name `knowledge`
        from knowledge.api import ensure_default_index, search as search_index
    except ImportError as exc:
        raise ToolUnavailable("the knowledge base is not installed") from exc
    try:
        index = ensure_default_index(config.settings)
        passages = search_index(query, k, filters, index=index)
    except CopilotError as exc:
        raise ToolUnavailable(str(exc)) from exc
    except Exception as exc:  # a damaged index must cost the citations, not the report
        raise ToolUnavailable(f"the knowledge index failed ({type(exc).__name__}: {_first_line(exc)})") from exc
    return [
        Citation(source=getattr(p, "title", None) or p.source, heading=p.heading_path, url=getattr(p, "url", None),
                 excerpt=_excerpt(p.text, p.heading_path), score=p.score, kind=p.kind)
        for p in passages
    ]


def _excerpt(text: str, heading: str, limit: int = 280) -> str:
    """The passage body without its heading-path prefix (chunks start with it), cut at a word boundary."""
    if heading and text.startswith(heading):
        text = text[len(heading):]
    body = " ".join(text.split())
    return body if len(body) <= limit else body[:limit].rsplit(" ", 1)[0] + " ..."


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else ""
