"""The analysis of one log for the fleet: the analysis graph's own results, copied into a store record.

This module only calls the analysis graph (`graph.analyze`, offline, no LLM) on a profile
the worker read once, and copies the graph's findings, cost, what-if curve and predicted effects
into an `AppRecord`; it computes no diagnosis of its own. Two depths:

- default (`depth="findings"`): intake, routing, the specialists and ranking, without
  documentation retrieval or narrative; tens of milliseconds per log.
- `full_report`: the whole offline analysis, citations included; the Report is stored as
  JSON. Seconds per log, so opt-in for fleets.
"""

from __future__ import annotations

from copilot.store.from_report import report_record
from copilot.store.records import AppRecord, LogIdentity
from tools.eventlog.model import AppProfile


def analyze_to_record(identity: LogIdentity, profile: AppProfile, settings=None, full_report: bool = False) -> AppRecord:
    """Analyze one log's profile with the analysis graph (offline) and return what the store keeps of it.

    The caller reads the profile (the batch worker, from a downloaded copy when the log is remote).
    """
    import graph
    from copilot.settings import get_settings
    from graph.llm import LLMSession

    settings = settings or get_settings()
    depth = "full" if full_report else "findings"
    # Batch analysis is offline by design (docs/batch.md): no "offline mode" notice, which would repeat once
    # per worker process and tell the user to configure an LLM that batch does not use.
    session = LLMSession(None, notice=_silent)
    report = graph.analyze([identity.log_path], settings=settings, session=session, depth=depth,
                           profiles=[profile])
    return report_record(identity, profile, report, analyzer=f"graph/{report.path}" if full_report else "graph/findings",
                         keep_report=full_report)


def _silent(message: str) -> None:
    """A notice that says nothing (see `analyze_to_record`)."""
