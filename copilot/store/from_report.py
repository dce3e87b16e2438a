"""The store record of one application from the analysis graph's Report: one builder for batch, API and CLI.

The graph computes everything (findings, cost, what-if curve, predicted effects); this only
copies the parts that belong to one application into an `AppRecord`.
"""

from __future__ import annotations

from collections.abc import Callable

from copilot.store.records import AppRecord, LogIdentity, LogOutcome, PredictionRecord, app_record
from tools.eventlog.model import AppProfile
from tools.eventlog.storage import LogRef


def report_predictions(report, app_id: str) -> list[PredictionRecord]:
    """The what-if points and the predicted effects of the application's findings."""
    predictions = [
        PredictionRecord(kind="what_if", subject=f"executors={p.executors}", executors=p.executors,
                         runtime_ms=p.runtime_ms, runtime_low_ms=p.runtime_low_ms, runtime_high_ms=p.runtime_high_ms,
                         cost=p.cost, method="what-if simulation")
        for app in report.apps if app.app_id == app_id for p in app.what_if
    ]
    predictions += [
        PredictionRecord(kind="effect", subject=item.finding.rule_id, runtime_ms=item.predicted_effect.runtime_after_ms,
                         runtime_low_ms=item.predicted_effect.runtime_low_ms,
                         runtime_high_ms=item.predicted_effect.runtime_high_ms, method=item.predicted_effect.method)
        for item in report.findings if item.app_id == app_id and item.predicted_effect is not None
    ]
    return predictions


def report_record(identity: LogIdentity, profile: AppProfile, report, analyzer: str,
                  keep_report: bool = False) -> AppRecord:
    """What the store keeps of `profile`'s application in `report` (the Report JSON itself when `keep_report`)."""
    summary = next((app for app in report.apps if app.app_id == profile.app_id), None)
    cost = summary.cost if summary is not None else None
    return app_record(
        identity, profile, [item.finding for item in report.findings if item.app_id == profile.app_id],
        cost=cost.amount if cost else None, currency=cost.currency if cost else None,
        predictions=report_predictions(report, profile.app_id),
        report_json=report.model_dump_json() if keep_report else None,
        analyzer=analyzer,
    )


def report_outcomes(refs: list[LogRef], profiles: list[AppProfile], report, analyzer: str, keep_report: bool = False,
                    identify: Callable[[LogRef], LogIdentity] | None = None) -> list[LogOutcome]:
    """One analyzed outcome per application of `report`, identified by `identify` (default: its log's content hash)."""
    if identify is None:
        from copilot.batch.identity import log_identity as identify
    outcomes = []
    for ref, profile in zip(refs, profiles, strict=True):
        identity = identify(ref)
        record = report_record(identity, profile, report, analyzer=analyzer, keep_report=keep_report)
        outcomes.append(LogOutcome(status="analyzed", log=identity, record=record))
    return outcomes


def save_report(store, refs: list[LogRef], profiles: list[AppProfile], report, analyzer: str,
                identify: Callable[[LogRef], LogIdentity] | None = None) -> int:
    """Store each application of `report` with the Report JSON, identified by its log's content hash."""
    from copilot.store.writer import write_outcomes

    return write_outcomes(store, report_outcomes(refs, profiles, report, analyzer, keep_report=True, identify=identify))
