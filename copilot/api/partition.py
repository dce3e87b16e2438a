"""`POST /api/v1/analyze/partition`: a table's layout and an application's shuffle-stage partitioning findings."""

from __future__ import annotations

from copilot.api.paths import allowed_path
from copilot.api.problems import Problem
from copilot.api.schemas import PartitionAnalysis, PartitionRequest
from copilot.store.jobs import JobStore
from copilot.store.records import StageSummary, stage_summary
from tools.findings import Finding


def partition_categories() -> frozenset[str]:
    """What the graph's partition specialist owns (too few/many partitions, oversized, spill, heavy shuffle) + skew."""
    from graph.specialists import SPECIALISTS

    owned = next(spec.categories for spec in SPECIALISTS if spec.name == "partition")
    return frozenset(owned) | {"skew"}


def _shuffle_stages(stages: list[StageSummary]) -> list[StageSummary]:
    return [s for s in stages if (s.shuffle_read_bytes or 0) > 0 or (s.shuffle_write_bytes or 0) > 0]


def _job_findings(jobs: JobStore, job_id: str) -> tuple[list[Finding], list[StageSummary]]:
    from graph.report import Report

    job = jobs.get(job_id)
    if job is None:
        raise Problem(404, "no such job")
    if job.status != "succeeded":
        raise Problem(409, f"job is {job.status}; partition findings need a succeeded job")
    report = Report.model_validate_json(jobs.report_json(job_id) or "{}")
    stages = [stage for app in jobs.app_metrics(job.log_hashes) for stage in app.stages]
    return [item.finding for item in report.findings], stages


def analyze_partitions(request: PartitionRequest, settings, jobs: JobStore) -> PartitionAnalysis:
    """Layout findings of `table` and partitioning findings of the job's or log's shuffle stages."""
    if not (request.table or request.job_id or request.path):
        raise Problem(422, "give a table path, a job_id or an event log path")
    if request.job_id and request.path:
        raise Problem(422, "give either a job_id or an event log path, not both")
    allowed_dirs = settings.api.allowed_dirs
    result = PartitionAnalysis()
    profile = None
    findings: list[Finding] = []
    stages: list[StageSummary] = []
    if request.job_id:
        findings, stages = _job_findings(jobs, request.job_id)
    elif request.path:
        from copilot.api.runner import read_profile
        from tools.rules import diagnose

        profile = read_profile(str(allowed_path(request.path, allowed_dirs, "path")))
        findings = diagnose(profile, settings.rules)
        stages = [stage_summary(s) for s in profile.stages]
    categories = partition_categories()
    result.findings = [f for f in findings if f.category in categories]
    result.shuffle_stages = _shuffle_stages(stages)
    if request.table:
        from tools.tables import analyze_table

        table_report = analyze_table(str(allowed_path(request.table, allowed_dirs, "table")), profile, settings.tables)
        result.table, result.table_findings = table_report.table, table_report.findings
    return result
