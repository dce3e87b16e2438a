"""The analysis of one log for the fleet: the analysis graph's own results, copied into a store record.

This module only calls the analysis graph (`graph.analyze`, offline, no LLM) on a profile
it loads once, and copies the graph's findings, cost, what-if curve and predicted effects
into an `AppRecord`; it computes no diagnosis of its own. Two depths:

- default (`depth="findings"`): intake, routing, the specialists and ranking, without
  documentation retrieval or narrative; tens of milliseconds per log.
- `full_report`: the whole offline analysis, citations included; the Report is stored as
  JSON. Seconds per log, so opt-in for fleets.
"""

from __future__ import annotations

from copilot.store.records import AppRecord, LogIdentity, PredictionRecord, app_record


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
    """Analyze one log with the analysis graph (offline) and return what the store keeps of it."""
    import graph
    from copilot.settings import get_settings
    from graph.llm import LLMSession
    from tools.eventlog import load_profile

    settings = settings or get_settings()
    profile = load_profile(identity.log_path, workers=1)  # the batch already runs one log per core
    depth = "full" if full_report else "findings"
    report = graph.analyze([identity.log_path], settings=settings, session=LLMSession(None), depth=depth,
                           profiles=[profile])
    summary = report.apps[0] if report.apps else None
    cost = summary.cost if summary is not None else None
    return app_record(
        identity, profile, [item.finding for item in report.findings],
        cost=cost.amount if cost else None, currency=cost.currency if cost else None,
        predictions=_report_predictions(report), report_json=report.model_dump_json() if full_report else None,
        analyzer=f"graph/{report.path}" if full_report else "graph/findings",
    )
