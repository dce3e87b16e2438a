"""The analysis of one log for the fleet: the library's offline analysis, copied into a store record.

This module only calls the analysis code and copies its results into an
`AppRecord`; it computes no diagnosis of its own. Two depths:

- default: event-log engine -> rules -> cost (the functions the graph's specialists
  call, with the same settings sections); tens of milliseconds per log.
- `full_report`: the graph's whole offline analysis (`graph.analyze` with no LLM),
  adding the what-if curve, predicted effects and citations; the Report is stored
  as JSON. Seconds per log, so opt-in for fleets.
"""

from __future__ import annotations

from copilot.store.records import AppRecord, LogIdentity, PredictionRecord, app_record

_pricing_cache: dict[str, object] = {}


def _pricing(settings):
    """Prices from the settings' `pricing` section, resolved once per process (the graph's own helper)."""
    key = settings.pricing.model_dump_json() if getattr(settings, "pricing", None) is not None else ""
    if key not in _pricing_cache:
        from graph.adapters import pricing
        from graph.config import GraphConfig

        _pricing_cache[key] = pricing(GraphConfig.from_settings(settings))
    return _pricing_cache[key]


def _report_predictions(report) -> list[PredictionRecord]:
    predictions = [
        PredictionRecord(kind="what_if", subject=f"executors={p.executors}", executors=p.executors,
                         runtime_ms=p.runtime_ms, runtime_low_ms=p.runtime_low_ms, runtime_high_ms=p.runtime_high_ms,
                         cost=p.cost, method="what-if simulation")
        for app in report.apps for p in app.what_if
    ]
    predictions += [
        PredictionRecord(kind="effect", subject=item.finding.rule_id, runtime_ms=item.predicted_effect.runtime_after_ms,
                         runtime_low_ms=item.predicted_effect.runtime_low_ms,
                         runtime_high_ms=item.predicted_effect.runtime_high_ms, method=item.predicted_effect.method)
        for item in report.findings if item.predicted_effect is not None
    ]
    return predictions


def analyze_to_record(identity: LogIdentity, settings=None, full_report: bool = False) -> AppRecord:
    """Analyze one log offline (no LLM) and return what the store keeps of it."""
    from copilot.settings import get_settings
    from tools.eventlog import load_profile

    settings = settings or get_settings()
    profile = load_profile(identity.log_path)
    if full_report:
        import graph
        from graph.llm import LLMSession

        report = graph.analyze([identity.log_path], settings=settings, session=LLMSession(None))
        summary = report.apps[0] if report.apps else None
        cost = summary.cost if summary is not None else None
        return app_record(
            identity, profile, [item.finding for item in report.findings],
            cost=cost.amount if cost else None, currency=cost.currency if cost else None,
            predictions=_report_predictions(report), report_json=report.model_dump_json(),
            analyzer=f"graph/{report.path}",
        )

    from tools.cost import app_cost, price_findings
    from tools.rules import diagnose

    pricing = _pricing(settings)
    findings = price_findings(diagnose(profile, getattr(settings, "rules", None)), profile, pricing)
    cost = app_cost(profile, pricing)
    return app_record(identity, profile, findings, cost=cost.total_cost, currency=cost.currency, analyzer="rules")
