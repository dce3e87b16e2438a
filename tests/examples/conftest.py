"""Fixtures for the notebook tests: the shared knowledge index (built once per session) for the kernel to use."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "graph"))

from shared_index import use_shared_index  # noqa: E402

EXAMPLES_DIR = Path(__file__).parents[2] / "examples"
KERNEL_NAME = "spark-copilot-tests"


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES_DIR


@pytest.fixture(scope="session")
def jupyter_kernel(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A kernel spec for this interpreter, written by ipykernel into a temp dir (no network, no user-level state).

    Returns (JUPYTER_PATH entry, kernel name). JUPYTER_PATH is searched before the user's and the
    system's kernel dirs, so another kernel installed on the machine cannot take its place.
    """
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("jupyter")
    install(kernel_name=KERNEL_NAME, display_name="Spark Copilot tests", prefix=str(prefix))
    return str(prefix / "share" / "jupyter"), KERNEL_NAME


@pytest.fixture(autouse=True)
def shared_knowledge_index(copilot_home: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The kernel inherits this environment: COPILOT_HOME in a temp dir, the session's shared index."""
    return use_shared_index(tmp_path_factory, monkeypatch)
