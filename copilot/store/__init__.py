"""The history store: a DuckDB file of analyzed applications, their stages, findings and reports."""

from copilot.store.db import Store
from copilot.store.records import AppRecord, LogIdentity, LogOutcome, StageSummary
from copilot.store.schema import LATEST_VERSION, MIGRATIONS

__all__ = ["AppRecord", "LATEST_VERSION", "LogIdentity", "LogOutcome", "MIGRATIONS", "StageSummary", "Store"]
