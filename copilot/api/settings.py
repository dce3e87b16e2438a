"""The `api` settings section (`COPILOT_API__*`): what `copilot serve` accepts and how much work it takes on."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr


class ApiSettings(BaseModel):
    """Limits and access rules of the HTTP API.

    `allowed_dirs` are the only directories a request may name by path (logs and tables);
    `token` is required on every /api/v1 call when set, and `copilot serve` refuses to bind
    to anything but loopback without one.
    """

    allowed_dirs: list[Path] = Field(default_factory=list)
    token: SecretStr | None = None
    max_upload_mb: float = 512.0
    max_concurrent_jobs: int = Field(default=2, ge=1)
    max_queued: int = Field(default=100, ge=0)  # jobs waiting for a worker beyond the running ones
    wait_timeout_s: float = 600.0  # longest `?wait=true` holds a request open
    history_server_url: str | None = None  # shs://host:18080 or http(s)://host:18080, for `app_id` requests

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
