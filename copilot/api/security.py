"""Who may call the API: a bearer token (compared in constant time), required off loopback."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import Request

from copilot.api.problems import Problem
from tools.errors import ConfigurationError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost; False for 0.0.0.0, :: and every other address."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token."""
    if not is_loopback(host) and not token:
        raise ConfigurationError(
            f"refusing to listen on {host} without an API token: set COPILOT_API__TOKEN (or bind to 127.0.0.1)")


def token_matches(header: str | None, token: str) -> bool:
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


def require_token(request: Request) -> None:
    """FastAPI dependency: 401 unless the request carries the configured bearer token (no-op without one)."""
    token = request.app.state.token
    if token and not token_matches(request.headers.get("authorization"), token):
        raise Problem(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
