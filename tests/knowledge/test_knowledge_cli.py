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
    monkeypatch.setenv("COPILOT_KNOWLEDGE__API_REFERENCE", "false")
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


def test_remove_drops_a_deleted_folders_documents(cli_env: Path, tmp_path: Path) -> None:
    folder = tmp_path / "team-notes"
    (folder / "jobs").mkdir(parents=True)
    (folder / "jobs" / "nightly.md").write_text("# Nightly quokka job\n\nThe quokka job reads the zanzibar table.\n")
    (folder / "runbook.md").write_text("# Quokka runbook\n\nRestart the quokka job after a zanzibar outage.\n")
    keep = tmp_path / "team-notes-2" / "other.md"  # a sibling whose name starts like the folder: must stay
    keep.parent.mkdir()
    keep.write_text("# Other quokka note\n\nThe zanzibar table is partitioned by day.\n")
    assert _copilot("ingest", str(folder), str(keep), "--json", env_dir=cli_env).returncode == 0

    def sources() -> set[str]:
        found = _copilot("search", "quokka zanzibar", "-k", "20", "--mode", "lexical", "--json", env_dir=cli_env)
        return {p["source"] for p in json.loads(found.stdout) if "quokka" in p["text"].lower()}

    assert len(sources()) == 3
    for file in (folder / "jobs" / "nightly.md", folder / "runbook.md"):
        file.unlink()
    (folder / "jobs").rmdir()
    folder.rmdir()
    assert len(sources()) == 3, "a deleted folder's documents stay until removed"

    removed = _copilot("remove", str(folder), "--json", env_dir=cli_env)
    assert removed.returncode == 0, removed.stderr
    report = json.loads(removed.stdout)
    assert report["removed_files"] == 2 and report["chunks_removed"] >= 2
    assert sources() == {"other.md"}

    again = _copilot("remove", str(folder), env_dir=cli_env)
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert again.stderr.strip().splitlines() == [f"copilot: error: nothing was ingested from {folder} (see `copilot knowledge stats`)"]
    assert _copilot("remove", str(keep), env_dir=cli_env).returncode == 0
    assert sources() == set()
