"""`create_app(settings, host)`: the FastAPI app behind `copilot serve`."""

from __future__ import annotations

import logging
import shutil
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from copilot.api import problems
from copilot.api.routes import api, public
from copilot.api.runner import JobRunner
from copilot.api.security import check_bind
from copilot.store.db import Store
from copilot.store.jobs import JobStore

log = logging.getLogger("copilot.api")


def create_app(settings=None, host: str = "127.0.0.1") -> FastAPI:
    """The app; refuses (ConfigurationError) a non-loopback `host` without an API token."""
    if settings is None:
        from copilot.settings import get_settings

        settings = get_settings()
    token = settings.api.token.get_secret_value() if settings.api.token else None
    check_bind(host, token)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        settings.ensure_home()
        jobs = JobStore(Store(settings.store_path))
        interrupted = jobs.fail_interrupted()
        if interrupted:
            log.warning("%d jobs were interrupted by the last shutdown and are marked failed", len(interrupted))
        shutil.rmtree(Path(settings.home) / "uploads", ignore_errors=True)  # uploads of jobs that cannot resume
        runner = JobRunner(jobs, settings, settings.api.max_concurrent_jobs, settings.api.max_queued)
        app.state.jobs, app.state.runner = jobs, runner
        try:
            yield
        finally:
            runner.shutdown()

    from importlib.metadata import version

    app = FastAPI(
        title="Spark Copilot API",
        version=version("spark-copilot"),
        description="Why a Spark job is slow or expensive and exactly what to change, as JSON. "
                    "Errors are RFC 7807 problem details; /api/v1 needs `Authorization: Bearer <token>` "
                    "when the server has a token.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.token = token
    problems.install(app)
    app.include_router(api)
    app.include_router(public)
    return app
