"""Running a real `copilot serve` (uvicorn on 127.0.0.1, a free port) and talking to it with httpx."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from copilot.store import Store

WORKLOADS = Path(__file__).parent.parent / "fixtures" / "workloads"
TOKEN = "api-test-token-4f9a"
STARTUP_TIMEOUT_S = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One `copilot serve` process with its own COPILOT_HOME (restartable on the same home)."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.env = env
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = home / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def store(self) -> Store:
        return Store(self.home / "copilot.duckdb")

    def start(self) -> Server:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "copilot.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.home,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"copilot serve exited {self.process.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code in (200, 503):
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("copilot serve did not start")

    def stop(self) -> None:
        """Graceful stop (SIGTERM, what a container runtime sends)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """A crash: SIGKILL, no shutdown hooks."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def client(self, token: str | None = TOKEN, timeout_s: float = 300.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout_s)

    def job_rows(self) -> list[tuple]:
        with self.store.connect() as con:
            return con.execute("SELECT job_id, status, source_kind, error FROM api_jobs ORDER BY created_at").fetchall()

    def application_count(self) -> int:
        with self.store.connect() as con:
            return con.execute("SELECT count(*) FROM applications").fetchone()[0]

    def uploads(self) -> list[Path]:
        root = self.home / "uploads"
        return sorted(root.rglob("*")) if root.exists() else []


def server_env(home: Path, index_dir: Path, **api: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("COPILOT_") and k not in ("OPENAI_API_KEY",)}
    env.update({
        "COPILOT_HOME": str(home),
        "COPILOT_CHROMA_DIR": str(index_dir),
        "COPILOT_KNOWLEDGE__CONFIG_CATALOG": "false",
        "PYTHONUNBUFFERED": "1",
        "PYTHONFAULTHANDLER": "1",  # a crash of the server leaves its thread stacks in server.log
    })
    env.update({f"COPILOT_API__{key.upper()}": value for key, value in api.items()})
    return env



def upload(client: httpx.Client, path: Path, wait: bool = True, **fields: str) -> httpx.Response:
    with open(path, "rb") as handle:
        return client.post("/api/v1/analyze/job", params={"wait": str(wait).lower()},
                           files={"file": (path.name, handle)}, data=fields)
