"""Errors as RFC 7807 problem details (`application/problem+json`): one clear line, no traceback, no secrets."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tools.errors import ConfigurationError, CopilotError, EventLogError
from tools.redact import redact_text

log = logging.getLogger("copilot.api")

PROBLEM_JSON = "application/problem+json"
TITLES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
    409: "Conflict", 413: "Payload too large", 415: "Unsupported media type", 422: "Unprocessable content",
    429: "Too many requests", 500: "Internal server error", 503: "Service unavailable",
}


class Problem(Exception):
    """An error the API reports as a problem detail with this status."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def one_line(text: object, limit: int = 500) -> str:
    """First line of a message, whitespace collapsed, secrets scrubbed, bounded length."""
    first = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return redact_text(" ".join(first.split()))[:limit]


def problem_response(status: int, detail: str, request: Request | None = None, headers: dict[str, str] | None = None,
                     **extra: object) -> JSONResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status, "detail": one_line(detail)}
    if request is not None:
        body["instance"] = request.url.path
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_of(exc: CopilotError) -> int:
    """Our library errors by what the caller can do: a bad log is 422, a bad setting or source 400."""
    if isinstance(exc, EventLogError):
        return 422
    if isinstance(exc, ConfigurationError):
        return 400
    return 503  # knowledge index, model or LLM unavailable


def _validation_errors(exc: RequestValidationError) -> list[dict]:
    """Where and what, never the offending input (it may be a secret or a file's content)."""
    return [{"loc": [str(p) for p in e.get("loc", ())], "msg": one_line(e.get("msg", ""), 200)} for e in exc.errors()]


def install(app: FastAPI) -> None:
    """Route every error the app can raise through a problem detail."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.detail, request, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, str(exc.detail), request, dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        summary = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:3])
        return problem_response(422, f"invalid request: {summary}", request, errors=errors)

    @app.exception_handler(CopilotError)
    async def _copilot(request: Request, exc: CopilotError) -> JSONResponse:
        return problem_response(status_of(exc), str(exc), request)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s: %s: %s", request.method, request.url.path, type(exc).__name__,
                  one_line(exc))
        return problem_response(500, f"internal error ({type(exc).__name__}); see the server log", request)
