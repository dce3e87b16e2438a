"""The image's start-up path without Docker: the Dockerfile's own index-build line, its entrypoint and CMD,
and its HEALTHCHECK command, run here against a real `copilot serve` (uvicorn on loopback)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def instruction(stage: list, cmd: str, containing: str = ""):
    return next(c for c in reversed(stage) if c.cmd == cmd and containing in " ".join(c.value))


@pytest.mark.slow
def test_a_fresh_volume_is_seeded_and_the_server_reports_healthy(final_stage: list, repo: Path, tmp_path: Path) -> None:
    seed, home = tmp_path / "seed", tmp_path / "data"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "COPILOT_SEED_HOME": str(seed),
           "COPILOT_KNOWLEDGE__CONFIG_CATALOG": "false",  # the image also extracts Spark's config catalog (a JVM)
           "COPILOT_API__TOKEN": "startup-test-token"}
    for name in ("COPILOT_CHROMA_DIR", "COPILOT_CONFIG"):
        env.pop(name, None)
    build_index = instruction(final_stage, "RUN", "copilot knowledge reset").value[0]
    built = subprocess.run(["sh", "-c", build_index], env=env, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    assert any((seed / "chroma").iterdir())

    port = free_port()
    cmd = list(instruction(final_stage, "CMD").value)
    cmd[cmd.index("--host") + 1], cmd[cmd.index("--port") + 1] = "127.0.0.1", str(port)
    entrypoint = repo / "deploy" / "entrypoint.sh"
    server = subprocess.Popen(["sh", str(entrypoint), *cmd], env={**env, "COPILOT_HOME": str(home)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        check = list(instruction(final_stage, "HEALTHCHECK").value[1:])
        check[-1] = check[-1].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        deadline = time.monotonic() + 120
        result = None
        while time.monotonic() < deadline and server.poll() is None:
            result = subprocess.run(check, env=env, capture_output=True, text=True, timeout=30)
            if result.returncode == 0:
                break
            time.sleep(1)
        assert server.poll() is None, server.stderr.read() if server.stderr else "server exited"
        assert result is not None and result.returncode == 0, result.stderr if result else "no health check ran"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as response:
            body = json.loads(response.read())
        assert body["components"]["knowledge_index"]["status"] == "ok"  # seeded, not rebuilt
        assert body["components"]["llm"]["status"] == "not configured"
        assert (home / "chroma").is_dir() and (home / "copilot.duckdb").exists()
    finally:
        server.terminate()
        server.wait(timeout=60)
