"""A whole Spark History Server as a batch source: list its applications, download their logs into a cache.

Each application's log goes to `<cache>/shs/<host_port>/<app id>/` through the History
Server client (`tools.sources.shs`); finished applications are downloaded once and
served from the cache afterwards, so a re-run (or a resumed run) downloads only what is
new, and the batch then skips what it stored by content hash as it does for files.
"""

from __future__ import annotations

from pathlib import Path

from copilot.batch.worker import RejectedRef
from tools.errors import CopilotError
from tools.eventlog import LogRef


def server_logs(url: str, cache_dir: Path, include_incomplete: bool = False) -> list[LogRef]:
    """The logs of every application the History Server at `url` lists, downloaded into `cache_dir` when new.

    Without `include_incomplete` only completed applications are fetched. An application
    whose log cannot be downloaded comes back as a `RejectedRef` (no parts) with the reason:
    the batch reports it as failed and it never stops the others.
    """
    from tools.eventlog.storage import discover
    from tools.sources.shs import fetch_event_log, list_applications, parse_shs_url

    target = parse_shs_url(url)
    scheme, rest = url.split("://", 1)
    server = f"{scheme}://{rest.split('/', 1)[0]}"
    shown = f"{scheme}://{target.base_url.split('://', 1)[1]}"  # without any user:password
    apps = list_applications(server, status=None if include_incomplete else "completed")
    if target.app_id:
        apps = [app for app in apps if app.id == target.app_id]
    refs: list[LogRef] = []
    for app in apps:
        try:
            path = fetch_event_log(server, app.id, cache_dir)
            refs += discover(path, include_incomplete=include_incomplete).apps
        except CopilotError as exc:
            reason = " ".join(str(exc).split())[:500] or type(exc).__name__
            refs.append(RejectedRef(path=f"{shown}/{app.id}", app_key=app.id, reason=f"download failed: {reason}"))
    return refs
