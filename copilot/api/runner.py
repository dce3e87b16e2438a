"""Background analysis jobs: a bounded worker pool in front of `graph.analyze`, results into the history store.

At most `max_concurrent_jobs` analyses run at once and at most `max_queued` more wait;
beyond that a submission is refused with 429 and a Retry-After, so a burst of requests
slows the API down instead of exhausting memory. Every state change is written to the
store, so a job is never lost silently: it ends succeeded or failed (with a one-line error).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from copilot.api.problems import Problem, one_line
from copilot.store.from_report import report_outcomes
from copilot.store.jobs import JobRecord, JobStore
from copilot.store.records import LogOutcome
from tools.errors import CopilotError
from tools.eventlog.model import AppProfile
from tools.sources.shs import application_refs

log = logging.getLogger("copilot.api")

RETRY_AFTER_S = 5
STOPPED = "cancelled: the server stopped before the job ran"

# Event logs are read one at a time in this process: concurrent reads from several threads crashed the
# server (a segfault inside the event-log decoder, seen under 50 concurrent uploads). The GIL allows
# little parallel decoding anyway, so the lock costs almost nothing.
_read_lock = threading.Lock()


def read_profile(path: str) -> AppProfile:
    """`load_profile`, serialized across the server's threads."""
    from tools.eventlog import load_profile

    with _read_lock:
        return load_profile(path)


def new_job_id() -> str:
    return uuid.uuid4().hex


def history_server_log_url(base_url: str, app_id: str) -> str:
    """`shs://host:port/app-id[/attempt]` for an app of the configured History Server (http(s) URLs accepted)."""
    base = base_url.rstrip("/")
    for plain, scheme in (("http://", "shs+http://"), ("https://", "shs+https://")):
        if base.lower().startswith(plain):
            base = scheme + base[len(plain):]
    return f"{base}/{app_id}"


def analyze_job(job: JobRecord, settings, profile: AppProfile | None = None) -> tuple[list[LogOutcome], object]:
    """Run the analysis of one job and build the store records of every application it covered.

    Each log is read once: the profiles (the upload's from its validation) go to the graph and into the store.
    """
    import graph
    from copilot.batch.identity import log_identity

    refs = application_refs(job.log_path, Path(settings.home) / "cache")
    profiles = [profile] if profile is not None and len(refs) == 1 else [read_profile(ref.path) for ref in refs]
    report = graph.analyze([ref.path for ref in refs], question=job.question, table=job.table_path, settings=settings,
                           notice=lambda message: log.info("%s", message), depth=job.depth, profiles=profiles)

    def identify(ref):
        identity = log_identity(ref)
        if job.source_kind == "upload":  # the uploaded file is deleted after the job: name it, do not fingerprint it
            identity = identity.model_copy(update={"log_path": f"upload:{job.job_id}/{job.source}", "log_mtime_ns": None})
        return identity

    return report_outcomes(refs, profiles, report, analyzer=f"api/{report.path}", identify=identify), report


class JobRunner:
    """Runs submitted jobs on a thread pool and records every state change in the store."""

    def __init__(self, jobs: JobStore, settings, max_concurrent_jobs: int, max_queued: int) -> None:
        self.jobs = jobs
        self.settings = settings
        self.capacity = max_concurrent_jobs + max_queued
        self._pool = ThreadPoolExecutor(max_concurrent_jobs, thread_name_prefix="copilot-job")
        self._futures: dict[str, Future] = {}
        self._lock = threading.Lock()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def active(self) -> int:
        with self._lock:
            return len(self._futures)

    def submit(self, job_source: dict, upload_dir: Path | None = None, profile: AppProfile | None = None) -> JobRecord:
        """Record a queued job and hand it to the pool; 429 when the queue is full, 503 when stopping."""
        with self._lock:
            self._refuse_when_full()
            job = JobRecord(job_id=new_job_id(), status="queued",
                            created_at=datetime.now(timezone.utc).replace(tzinfo=None), **job_source)
            self.jobs.add(job)
            future = self._pool.submit(self._run, job, upload_dir, profile)
            self._futures[job.job_id] = future
        future.add_done_callback(lambda _f, job_id=job.job_id: self._forget(job_id))
        return job

    def check_capacity(self) -> None:
        """503 while stopping, 429 (with Retry-After) while the pool and its queue are full."""
        with self._lock:
            self._refuse_when_full()

    def _refuse_when_full(self) -> None:
        if self._closed:
            raise Problem(503, "the server is shutting down", {"Retry-After": str(RETRY_AFTER_S)})
        if len(self._futures) >= self.capacity:
            raise Problem(429, f"{len(self._futures)} jobs are queued or running (the limit); retry later",
                          {"Retry-After": str(RETRY_AFTER_S)})

    async def wait(self, job_id: str, timeout_s: float) -> None:
        """Until the job is finished or `timeout_s` passed (holds no thread while waiting)."""
        with self._lock:
            future = self._futures.get(job_id)
        if future is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout_s)
        except (TimeoutError, asyncio.TimeoutError):
            return
        except Exception:  # noqa: BLE001 - _run records its own failures; the caller reads the job row
            return

    def shutdown(self) -> None:
        """Stop taking jobs, let running ones finish, mark queued ones failed."""
        with self._lock:
            self._closed = True
            pending = dict(self._futures)
        self._pool.shutdown(wait=True, cancel_futures=True)
        for job_id, future in pending.items():
            if future.cancelled():
                self.jobs.mark_failed(job_id, STOPPED)

    def _forget(self, job_id: str) -> None:
        with self._lock:
            self._futures.pop(job_id, None)

    def _run(self, job: JobRecord, upload_dir: Path | None, profile: AppProfile | None) -> None:
        try:
            self.jobs.mark_running(job.job_id)
            outcomes, report = analyze_job(job, self.settings, profile)
            self.jobs.mark_succeeded(job.job_id, outcomes, report.model_dump_json(), len(report.findings))
        except CopilotError as exc:
            self._fail(job.job_id, one_line(exc))
        except Exception as exc:  # noqa: BLE001 - a job must end failed, never vanish
            log.error("job %s failed: %s: %s", job.job_id, type(exc).__name__, one_line(exc))
            self._fail(job.job_id, f"internal error ({type(exc).__name__}): {one_line(exc)}")
        finally:
            if upload_dir is not None:
                shutil.rmtree(upload_dir, ignore_errors=True)

    def _fail(self, job_id: str, error: str) -> None:
        try:
            self.jobs.mark_failed(job_id, error)
        except Exception:  # noqa: BLE001 - the store itself failed; the next start marks the job interrupted
            log.exception("cannot record the failure of job %s", job_id)
