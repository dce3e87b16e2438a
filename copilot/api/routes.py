"""The API's routes: each parses its input, calls one library function, returns a typed model."""

from __future__ import annotations

import shutil
import uuid
from enum import Enum
from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from copilot.api.health import health
from copilot.api.partition import analyze_partitions
from copilot.api.paths import allowed_path
from copilot.api.problems import PROBLEM_JSON, Problem, one_line
from copilot.api.runner import history_server_log_url, read_profile
from copilot.api.schemas import (
    AnalyzeJobRequest,
    Health,
    JobView,
    Metrics,
    PartitionAnalysis,
    PartitionRequest,
    Recommendations,
)
from copilot.api.security import require_token
from copilot.api.uploads import JobInput, read_job_input
from copilot.store.jobs import JobRecord, JobStatus
from tools.errors import EventLogError
from tools.redact import redact_text

PREFIX = "/api/v1"
PROBLEM = {"content": {PROBLEM_JSON: {"schema": {"type": "object"}}}}
ERRORS = {code: {"description": text, **PROBLEM} for code, text in (
    (400, "bad request"), (401, "missing or wrong bearer token"), (403, "path refused"), (404, "not found"),
    (409, "job not finished"), (413, "upload too large"), (415, "unsupported body"), (422, "invalid input"),
    (429, "queue full (Retry-After)"), (503, "unavailable"),
)}
ANALYZE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary", "description": "the event log (any Spark codec)"},
                    "question": {"type": "string", "maxLength": 4000},
                    "table": {"type": "string", "maxLength": 4000},
                    "depth": {"type": "string", "enum": ["full", "findings"]},
                },
            }},
            "application/json": {"schema": AnalyzeJobRequest.model_json_schema()},
        },
    },
}

api = APIRouter(prefix=PREFIX, dependencies=[Depends(require_token)], responses=ERRORS)
public = APIRouter()


class ReportFormat(str, Enum):
    json = "json"
    md = "md"
    html = "html"


MEDIA_TYPES = {"json": "application/json", "md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}


def job_view(job: JobRecord) -> JobView:
    queued_ms = run_ms = None
    if job.started_at is not None:
        queued_ms = (job.started_at - job.created_at).total_seconds() * 1000
        if job.finished_at is not None:
            run_ms = (job.finished_at - job.started_at).total_seconds() * 1000
    links = {"self": f"{PREFIX}/jobs/{job.job_id}"}
    if job.status == "succeeded":
        links |= {"recommendations": f"{PREFIX}/recommendations/{job.job_id}", "metrics": f"{PREFIX}/metrics/{job.job_id}",
                  "report": f"{PREFIX}/reports/{job.job_id}?format=json"}
    shown = job.model_dump(exclude={"log_path", "log_hashes", "table_path"})
    return JobView(**shown, table=job.table_path, queued_ms=queued_ms, run_ms=run_ms, links=links)


def _job(request: Request, job_id: str) -> JobRecord:
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise Problem(404, "no such job")
    return job


def _report(request: Request, job_id: str):
    from graph.report import Report

    job = _job(request, job_id)
    if job.status != "succeeded":
        detail = f"job failed: {job.error}" if job.status == "failed" else f"job is {job.status}; poll {PREFIX}/jobs/{job_id}"
        raise Problem(409, detail)
    return job, Report.model_validate_json(request.app.state.jobs.report_json(job_id))


def _validate_upload(path: Path):
    """The engine's own reading of the upload: anything but a readable event log is a 422."""
    try:
        return read_profile(str(path))
    except EventLogError as exc:
        raise Problem(422, f"not a readable Spark event log: {one_line(exc).replace(str(path.parent) + '/', '')}") from None


def _job_source(request: Request, given: JobInput) -> tuple[dict, object]:
    """Check what the request names (exactly one log source; paths in the allowed dirs) -> job fields, profile."""
    settings = request.app.state.settings
    fields = given.request
    sources = [given.upload_path is not None, bool(fields.path), bool(fields.app_id)]
    if sum(sources) != 1:
        raise Problem(422, "give exactly one of: an uploaded `file`, a `path`, an `app_id`")
    table = str(allowed_path(fields.table, settings.api.allowed_dirs, "table")) if fields.table else None
    common = {"question": redact_text(fields.question) if fields.question else None, "table_path": table,
              "depth": fields.depth}
    if given.upload_path is not None:
        return {"source_kind": "upload", "source": given.upload_name or "", "log_path": str(given.upload_path),
                **common}, _validate_upload(given.upload_path)
    if fields.path:
        from tools.eventlog import discover_applications

        real = allowed_path(fields.path, settings.api.allowed_dirs, "path")
        if not discover_applications(str(real)):
            raise Problem(422, "no Spark event log found at that path")
        return {"source_kind": "path", "source": str(real), "log_path": str(real), **common}, None
    if not settings.api.history_server_url:
        raise Problem(400, "no History Server configured (set COPILOT_API__HISTORY_SERVER_URL)")
    return {"source_kind": "history_server", "source": fields.app_id,
            "log_path": history_server_log_url(settings.api.history_server_url, fields.app_id), **common}, None


@api.post("/analyze/job", status_code=202, response_model=JobView, openapi_extra=ANALYZE_BODY,
          responses={200: {"model": JobView, "description": "finished job (`wait=true`)"}})
async def analyze_job(request: Request, wait: bool = Query(False, description="wait for the job to finish")):
    """Analyze an event log (uploaded, a path in the allowed dirs, or a History Server app id) as a background job."""
    state = request.app.state
    settings = state.settings
    state.runner.check_capacity()  # before reading a body the queue could not take anyway
    upload_dir = Path(settings.home) / "uploads" / uuid.uuid4().hex
    given = await read_job_input(request, upload_dir, settings.api.max_upload_bytes)
    try:
        source, profile = await run_in_threadpool(_job_source, request, given)
        job = await run_in_threadpool(state.runner.submit, source,
                                      upload_dir if given.upload_path is not None else None, profile)
    except BaseException:
        if given.upload_path is not None:
            shutil.rmtree(upload_dir, ignore_errors=True)
        raise
    if wait:
        await state.runner.wait(job.job_id, settings.api.wait_timeout_s)
        job = await run_in_threadpool(state.jobs.get, job.job_id) or job
    view = job_view(job)
    status = 200 if job.finished else 202
    return JSONResponse(view.model_dump(mode="json"), status_code=status, headers={"Location": view.links["self"]})


@api.get("/jobs", response_model=list[JobView])
def list_jobs(request: Request, limit: int = Query(50, ge=1, le=1000),
              status: JobStatus | None = Query(None, description="only jobs in this status")) -> list[JobView]:
    """The newest jobs first."""
    return [job_view(job) for job in request.app.state.jobs.recent(limit, status)]


@api.get("/jobs/{job_id}", response_model=JobView)
def get_job(request: Request, job_id: str) -> JobView:
    """A job's status, timings and error."""
    return job_view(_job(request, job_id))


@api.get("/recommendations/{job_id}", response_model=Recommendations)
def get_recommendations(request: Request, job_id: str) -> Recommendations:
    """The ranked findings with evidence, config changes, predicted effect and citations."""
    _, report = _report(request, job_id)
    return Recommendations(job_id=job_id, headline=report.headline, total_savings_core_ms=report.total_savings_core_ms,
                           findings=report.findings)


@api.get("/metrics/{job_id}", response_model=Metrics)
def get_metrics(request: Request, job_id: str) -> Metrics:
    """The analyzed applications' profile metrics: totals and per-stage figures."""
    job, _ = _report(request, job_id)
    return Metrics(job_id=job_id, apps=request.app.state.jobs.app_metrics(job.log_hashes))


@api.get("/reports/{job_id}", response_class=Response,
         responses={200: {"content": {"application/json": {}, "text/markdown": {}, "text/html": {}}}})
def get_report(request: Request, job_id: str, format: ReportFormat = Query(ReportFormat.json)) -> Response:  # noqa: A002
    """The full report as JSON (docs/report-schema.md), Markdown or self-contained HTML."""
    from copilot.report import render

    _, report = _report(request, job_id)
    return Response(render(report, format.value), media_type=MEDIA_TYPES[format.value])


@api.post("/analyze/partition", response_model=PartitionAnalysis)
def analyze_partition(request: Request, body: PartitionRequest) -> PartitionAnalysis:
    """Table layout findings of a table path and/or shuffle-stage partitioning findings of a job or log path."""
    return analyze_partitions(body, request.app.state.settings, request.app.state.jobs)


@public.get("/health/live")
def get_liveness() -> dict[str, str]:
    """The process serves requests (for liveness probes: checks nothing that another process could hold)."""
    return {"status": "alive"}


@public.get("/health", response_model=Health, responses={503: {"model": Health, "description": "not usable"}})
def get_health(request: Request):
    """Store, job runner, knowledge index, runtime model and LLM reachability, with an overall status."""
    state = request.app.state
    result = health(state.settings, state.jobs, state.runner)
    return JSONResponse(result.model_dump(mode="json"), status_code=503 if result.status == "unavailable" else 200)

