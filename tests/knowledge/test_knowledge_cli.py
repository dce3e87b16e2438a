"""`copilot knowledge ...` through the real entry point (subprocess), as users and programs run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _copilot(*args: str, env_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "copilot.cli", "knowledge", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def test_search_json_carries_source_file_and_heading_path(cli_env: Path) -> None:
    result = _copilot("search", "one task of the join is much slower than the others", "-k", "3", "--json",
                      env_dir=cli_env)
    assert result.returncode == 0, result.stderr
    passages = json.loads(result.stdout)
    assert len(passages) == 3
    for passage in passages:
        assert passage["source"] and passage["heading_path"] and passage["text"]
        assert isinstance(passage["score"], float)


def test_search_filters_by_product(cli_env: Path) -> None:
    result = _copilot("search", "compaction of small files", "--product", "delta", "--json", env_dir=cli_env)
    assert result.returncode == 0, result.stderr
    assert {p["product"] for p in json.loads(result.stdout)} == {"delta"}


def test_stats_json_counts_cards(cli_env: Path) -> None:
    result = _copilot("stats", "--json", env_dir=cli_env)
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["by_kind"]["card"] > 30 and stats["chunks"] == sum(stats["by_kind"].values())


def test_ingest_reports_counts_and_skips(cli_env: Path, tmp_path: Path) -> None:
    (tmp_path / "note.md").write_text("# Team note\n\nOur nightly job uses 400 shuffle partitions.\n")
    (tmp_path / "broken.md").write_bytes(b"\xff\xfe\x00\x00")
    result = _copilot("ingest", str(tmp_path), "--json", env_dir=cli_env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["added_files"] == 1 and [Path(s["path"]).name for s in report["skipped"]] == ["broken.md"]


def test_damaged_index_is_one_line_error_then_reset_rebuilds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "skew.md").write_text("---\ncategory: skew\nproduct: spark\n---\n# Skew\n\nOne hot key.\n")
    chroma = tmp_path / "chroma"
    monkeypatch.setenv("COPILOT_CHROMA_DIR", str(chroma))
    monkeypatch.setenv("COPILOT_KNOWLEDGE__CONFIG_CATALOG", "false")
    monkeypatch.setenv("COPILOT_KNOWLEDGE__CARDS_DIR", str(cards))
    assert _copilot("stats", "--json", env_dir=chroma).returncode == 0
    (chroma / "chroma.sqlite3").write_bytes(b"garbage" * 1000)
    broken = _copilot("search", "hot key", env_dir=chroma)
    assert broken.returncode == 2
    assert broken.stderr.startswith("copilot: error:") and "copilot knowledge reset" in broken.stderr
    assert "Traceback" not in broken.stderr and len(broken.stderr.strip().splitlines()) == 1
    reset = _copilot("reset", "--json", env_dir=chroma)
    assert reset.returncode == 0, reset.stderr
    assert json.loads(reset.stdout)["chunks"] == 1
    assert json.loads(_copilot("search", "hot key", "--json", env_dir=chroma).stdout)[0]["category"] == "skew"
