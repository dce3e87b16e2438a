"""Config-catalog entries shared by the retrieval and citation tests: a key next to its word-sharing namesake."""

from __future__ import annotations

from knowledge.catalog import ConfigEntry

TASK_MAX_FAILURES = ConfigEntry(
    key="spark.task.maxFailures", default="4", version="0.8.0", scope="core",
    meaning="Number of continuous failures of any particular task before giving up on the job.")
BARRIER_CHECK_MAX_FAILURES = ConfigEntry(  # shares "max", "failures", "tasks", "job" with task-failure queries
    key="spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures", default="40", version="2.4.0", scope="core",
    meaning="Number of max concurrent tasks check failures allowed before a job submission fails; task failures "
            "and retries of the check.")
