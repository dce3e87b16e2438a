"""Spark History Server REST client: list applications and fetch an event log as a local path.

`shs://host:port/app-id[/attempt-id]` (plain HTTP) or `shs+https://...` names one
application on a History Server; `resolve()` downloads its log through
`/api/v1/applications/{id}[/{attempt}]/logs` (a zip), unpacks it into a cache
directory and returns the path the event-log reader takes (a file or an
`eventlog_v2_*` directory). Finished applications are served from the cache.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, Field

from tools.errors import ConfigurationError, EventLogError
from tools.eventlog.storage import LogRef
from tools.redact import redact_text

SCHEMES = {"shs": "http", "shs+http": "http", "shs+https": "https"}
TIMEOUT_S = 30.0
COMPLETE_MARKER = ".complete"


class ShsAttempt(BaseModel):
    attempt_id: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    duration_ms: int | None = None
    spark_user: str | None = None
    completed: bool = False
    app_spark_version: str | None = None


class ShsApplication(BaseModel):
    id: str
    name: str = ""
    attempts: list[ShsAttempt] = Field(default_factory=list)

    @property
    def completed(self) -> bool:
        return bool(self.attempts) and all(a.completed for a in self.attempts)


class ShsTarget(BaseModel):
    """Where an `shs://` URL points: the server's base URL and, optionally, one application attempt."""

    base_url: str
    app_id: str | None = None
    attempt_id: str | None = None
    username: str | None = None
    password: str | None = None


def is_shs_url(text: str) -> bool:
    return str(text).split("://", 1)[0].lower() in SCHEMES


def parse_shs_url(url: str) -> ShsTarget:
    """`shs://host:port/app-id[/attempt]` or `http(s)://host:port[/app-id[/attempt]]` -> ShsTarget."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    http_scheme = SCHEMES.get(scheme) or (scheme if scheme in ("http", "https") else None)
    if http_scheme is None or not parts.hostname:
        raise ConfigurationError(f"not a History Server URL: {redact_text(url)} (expected shs://host:port/app-id)")
    port = f":{parts.port}" if parts.port else ""
    path = [segment for segment in parts.path.split("/") if segment]
    if path[:3] == ["api", "v1", "applications"]:
        path = path[3:]
    return ShsTarget(
        base_url=f"{http_scheme}://{parts.hostname}{port}",
        app_id=path[0] if path else None,
        attempt_id=path[1] if len(path) > 1 else None,
        username=parts.username,
        password=parts.password,
    )


def _client(target: ShsTarget):
    import httpx

    auth = (target.username, target.password or "") if target.username else None
    return httpx.Client(base_url=target.base_url, timeout=TIMEOUT_S, auth=auth, follow_redirects=True)


def _get(target: ShsTarget, path: str, params: dict | None = None):
    import httpx

    try:
        with _client(target) as client:
            response = client.get(path, params=params)
    except httpx.HTTPError as exc:
        raise ConfigurationError(f"cannot reach the History Server at {target.base_url}: {type(exc).__name__}: {redact_text(str(exc))}") from exc
    if response.status_code == 404:
        raise ConfigurationError(f"the History Server at {target.base_url} does not know {path} (see `copilot shs list`)")
    if response.status_code >= 400:
        raise ConfigurationError(f"the History Server at {target.base_url} answered {response.status_code} for {path}")
    return response


def list_applications(url: str, status: str | None = None, limit: int | None = None) -> list[ShsApplication]:
    """Applications the History Server knows, newest first (`status`: completed | running)."""
    target = parse_shs_url(url)
    params = {key: value for key, value in (("status", status), ("limit", limit)) if value is not None}
    try:
        payload = _get(target, "/api/v1/applications", params).json()
    except ValueError as exc:
        raise ConfigurationError(f"the History Server at {target.base_url} did not answer with JSON") from exc
    return [
        ShsApplication(
            id=str(item.get("id")),
            name=str(item.get("name") or ""),
            attempts=[
                ShsAttempt(
                    attempt_id=attempt.get("attemptId"),
                    start_time=attempt.get("startTime"),
                    end_time=attempt.get("endTime"),
                    duration_ms=attempt.get("duration"),
                    spark_user=attempt.get("sparkUser"),
                    completed=bool(attempt.get("completed")),
                    app_spark_version=attempt.get("appSparkVersion"),
                )
                for attempt in item.get("attempts") or []
            ],
        )
        for item in payload
    ]


def fetch_event_log(url: str, app_id: str, cache_dir: Path, attempt_id: str | None = None) -> Path:
    """Download (or reuse from the cache) the event log of one application attempt; return its local path."""
    target = parse_shs_url(url)
    if not re.fullmatch(r"[\w.\-]+", app_id) or (attempt_id is not None and not re.fullmatch(r"[\w.\-]+", attempt_id)):
        raise ConfigurationError(f"not an application id: {app_id!r}")
    host_dir = re.sub(r"[^\w.\-]", "_", target.base_url.split("://", 1)[1])
    destination = Path(cache_dir) / "shs" / host_dir / (app_id + (f"_{attempt_id}" if attempt_id else ""))
    if (destination / COMPLETE_MARKER).exists():
        return _log_path(destination, app_id)
    path = f"/api/v1/applications/{quote(app_id)}" + (f"/{quote(attempt_id)}" if attempt_id else "") + "/logs"
    archive = _get(target, path).content
    completed = _is_completed(target, app_id, attempt_id)
    staging = destination.with_name(destination.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    _unzip(archive, staging, f"{target.base_url}{path}")
    shutil.rmtree(destination, ignore_errors=True)
    staging.rename(destination)
    if completed:
        (destination / COMPLETE_MARKER).touch()
    return _log_path(destination, app_id)


def resolve(url: str, cache_dir: Path) -> Path:
    """The local event-log path for `shs://host:port/app-id[/attempt]`, downloading it when needed."""
    target = parse_shs_url(url)
    if not target.app_id:
        raise ConfigurationError(f"{redact_text(url)} names no application: use shs://host:port/APP_ID (see `copilot shs list`)")
    return fetch_event_log(url, target.app_id, cache_dir, target.attempt_id)


def application_refs(log_path: str, cache_dir: Path) -> list[LogRef]:
    """Every application at `log_path` (a file, a rolling-log dir, a dir of logs, or an shs:// URL fetched into
    `cache_dir`); a path that holds no recognisable log stays one ref so that reading it gives the reason."""
    from tools.eventlog import discover_applications
    from tools.eventlog.storage import resolve as resolve_log

    if is_shs_url(log_path):
        log_path = str(resolve(log_path, cache_dir))
    return discover_applications(log_path) or [resolve_log(log_path)]


def _is_completed(target: ShsTarget, app_id: str, attempt_id: str | None) -> bool:
    try:
        item = _get(target, f"/api/v1/applications/{quote(app_id)}").json()
    except (ConfigurationError, ValueError):
        return False
    attempts = item.get("attempts") or []
    if attempt_id is not None:
        attempts = [a for a in attempts if str(a.get("attemptId")) == attempt_id]
    return bool(attempts) and all(a.get("completed") for a in attempts)


def _unzip(archive: bytes, destination: Path, source: str) -> None:
    """Extract the zip into `destination`, refusing members that would land outside it."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
            members = [m for m in bundle.infolist() if not m.is_dir()]
            if not members:
                raise EventLogError(f"the History Server returned an empty log archive for {source}")
            for member in members:
                relative = PurePosixPath(member.filename)
                if relative.is_absolute() or ".." in relative.parts:
                    raise EventLogError(f"refusing unsafe path {member.filename!r} in the log archive from {source}")
                target = destination.joinpath(*relative.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as reader, target.open("wb") as writer:
                    shutil.copyfileobj(reader, writer)
    except zipfile.BadZipFile as exc:
        raise EventLogError(f"the History Server did not return a zip archive for {source}") from exc


def _log_path(directory: Path, app_id: str) -> Path:
    """The one log in an extracted archive: a rolling `eventlog_v2_*` dir or a file; the last attempt when several."""
    entries = sorted(p for p in directory.iterdir() if not p.name.startswith("."))
    rolling = [p for p in entries if p.is_dir() and p.name.startswith("eventlog_v2_")]
    if rolling:
        return rolling[-1]
    files = [p for p in entries if p.is_file()]
    if not files:
        nested = [p for p in entries if p.is_dir()]
        if len(nested) == 1:
            return _log_path(nested[0], app_id)
        raise EventLogError(f"no event log of {app_id} in the archive")
    return sorted(files, key=lambda p: (app_id in p.name, p.name))[-1] if len(files) > 1 else files[0]


def fetch_applications(url: str, cache_dir: Path, status: str | None = "completed", limit: int | None = None) -> list[Path]:
    """Local event-log paths of the server's applications (newest first; the last attempt of each)."""
    target = parse_shs_url(url)
    server = f"{url.split('://', 1)[0]}://{url.split('://', 1)[1].split('/', 1)[0]}"
    apps = list_applications(server, status=status, limit=limit)
    if target.app_id:
        apps = [a for a in apps if a.id == target.app_id]
    return [fetch_event_log(server, app.id, cache_dir) for app in apps]
