"""The analysis of one log for the fleet: the library's offline analysis, copied into a store record.

This module only calls the analysis code (event-log engine, rules, cost: the same
functions the graph's specialists call, with the same settings sections) and
copies the results into an `AppRecord`; it computes no diagnosis of its own.
"""

from __future__ import annotations

from copilot.store.records import AppRecord, LogIdentity, app_record

_pricing_cache: dict[str, object] = {}


def _pricing(settings):
    """Prices from the settings' `pricing` section, resolved once per process (the graph's own helper)."""
    key = settings.pricing.model_dump_json() if getattr(settings, "pricing", None) is not None else ""
    if key not in _pricing_cache:
        from graph.adapters import pricing
        from graph.config import GraphConfig

        _pricing_cache[key] = pricing(GraphConfig.from_settings(settings))
    return _pricing_cache[key]


def analyze_to_record(identity: LogIdentity, settings=None) -> AppRecord:
    """Profile the log, diagnose it and price it (offline, no LLM); the result as a store record."""
    from copilot.settings import get_settings
    from tools.cost import app_cost, price_findings
    from tools.eventlog import load_profile
    from tools.rules import diagnose

    settings = settings or get_settings()
    pricing = _pricing(settings)
    profile = load_profile(identity.log_path)
    findings = price_findings(diagnose(profile, getattr(settings, "rules", None)), profile, pricing)
    cost = app_cost(profile, pricing)
    return app_record(identity, profile, findings, cost=cost.total_cost, currency=cost.currency, analyzer="rules")
