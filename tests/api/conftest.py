"""Fixtures of the HTTP API tests: the session's knowledge index, an allowed directory, a running server per module."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "graph"))  # planted_secrets: the graph tests' secret planting

from api_server import TOKEN, WORKLOADS, Server, server_env  # noqa: E402


@pytest.fixture(scope="session")
def knowledge_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's knowledge index (the graph tests' location), built once here before any server uses it."""
    from copilot.settings import Settings
    from knowledge.api import ensure_default_index

    path = tmp_path_factory.getbasetemp() / "copilot-knowledge-index"
    home = tmp_path_factory.mktemp("index_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COPILOT_HOME", str(home))
        mp.setenv("COPILOT_CHROMA_DIR", str(path))
        mp.setenv("COPILOT_KNOWLEDGE__CONFIG_CATALOG", "false")
        ensure_default_index(Settings())
    return path


@pytest.fixture(scope="module")
def allowed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one directory requests may name: a log, a small Parquet table, and a symlink that escapes it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path_factory.mktemp("allowed")
    shutil.copy(WORKLOADS / "healthy.zstd", root / "healthy.zstd")
    table = root / "tables" / "events"
    table.mkdir(parents=True)
    for index in range(4):
        pq.write_table(pa.table({"id": list(range(index * 10, index * 10 + 10))}), table / f"part-{index:05d}.parquet")
    outside = tmp_path_factory.mktemp("outside")
    shutil.copy(WORKLOADS / "healthy.zstd", outside / "secret.zstd")
    (root / "escape").symlink_to(outside)
    (root / "escape.zstd").symlink_to(outside / "secret.zstd")
    return root


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, knowledge_index_dir: Path, allowed_dir: Path) -> Iterator[Server]:
    """A server with a token, one allowed directory and a 1 MiB upload limit."""
    home = tmp_path_factory.mktemp("api_home")
    env = server_env(home, knowledge_index_dir, token=TOKEN, allowed_dirs=f'["{allowed_dir}"]', max_upload_mb="1")
    running = Server(home, env).start()
    yield running
    running.stop()


