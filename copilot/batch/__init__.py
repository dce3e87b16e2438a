"""Batch analysis of a fleet of event logs into the history store."""

from copilot.batch.runner import BatchSummary, FailedLog, Progress, default_workers, run_batch
from copilot.batch.worker import analyze_log

__all__ = ["BatchSummary", "FailedLog", "Progress", "analyze_log", "default_workers", "run_batch"]
