"""`copilot analyze shs://...` goes through the History Server client, with one clear line when it is down."""

import socket
import subprocess
import sys


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_analyze_of_an_unreachable_history_server_is_one_error_line():
    url = f"shs://127.0.0.1:{_closed_port()}/app-20240101000000-0001"
    result = subprocess.run(
        [sys.executable, "-m", "copilot.cli", "analyze", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("copilot: error:")]
    assert len(errors) == 1 and "History Server" in errors[0]
    assert "Traceback" not in result.stderr
