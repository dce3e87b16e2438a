"""Which binds need a token, and how the bearer token is checked."""

from __future__ import annotations

import pytest

from copilot.api.app import create_app
from copilot.api.security import is_loopback, token_matches
from copilot.settings import Settings
from tools.errors import ConfigurationError


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_addresses(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "example.com", "localhost.evil.com"])
def test_everything_else_is_public(host):
    assert not is_loopback(host)


def test_public_bind_needs_a_token_and_loopback_does_not():
    with pytest.raises(ConfigurationError, match="refusing to listen on 0.0.0.0 without an API token"):
        create_app(Settings(), host="0.0.0.0")
    assert create_app(Settings(), host="127.0.0.1").state.token is None
    assert create_app(Settings(api={"token": "t0ken-value"}), host="0.0.0.0").state.token == "t0ken-value"


@pytest.mark.parametrize("header, ok", [
    ("Bearer s3cr3t-token", True),
    ("bearer s3cr3t-token", True),
    ("Bearer s3cr3t-token ", True),
    ("Bearer s3cr3t-tokem", False),
    ("Bearer s3cr3t-token-and-more", False),
    ("Basic s3cr3t-token", False),
    ("s3cr3t-token", False),
    ("", False),
    (None, False),
])
def test_bearer_token_check(header, ok):
    assert token_matches(header, "s3cr3t-token") is ok

