"""KnowledgeIndex on a real Chroma dir: incremental ingest, deletion, filters, modes, damage handling."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from copilot.settings import Settings
from knowledge.api import ensure_default_index, forget_open_indexes, ingest_reports, reset_default_index, search
from knowledge.index import KnowledgeIndex
from knowledge.settings import KnowledgeSettings
from tools.errors import ConfigurationError, KnowledgeIndexError

def _doc(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    _doc(folder, "memory.md", "# Memory\n\n## Spill\n\nSpill happens when execution memory is too small.\n")
    _doc(folder, "delta/vacuum.md", "# Vacuum\n\nVACUUM deletes unreferenced files older than the retention.\n")
    return folder


def test_reingesting_unchanged_files_does_nothing(tmp_path: Path, docs: Path) -> None:
    index = KnowledgeIndex.open(tmp_path / "chroma")
    first = index.ingest([docs])
    assert first.added_files == 2 and first.chunks_added == 2
    again = index.ingest([docs])
    assert (again.added_files, again.updated_files, again.removed_files, again.chunks_added) == (0, 0, 0, 0)
    assert again.unchanged_files == 2
    assert index.stats().chunks == 2


def test_changed_file_replaces_its_chunks_and_deleted_file_loses_them(tmp_path: Path, docs: Path) -> None:
    index = KnowledgeIndex.open(tmp_path / "chroma")
    index.ingest([docs])
    _doc(docs, "memory.md", "# Memory\n\n## Garbage collection\n\nLong GC pauses slow executors down.\n")
    (docs / "delta" / "vacuum.md").unlink()
    report = index.ingest([docs])
    assert (report.updated_files, report.removed_files) == (1, 1)
    texts = [p.text for p in index.search("memory garbage collection spill vacuum", 10, mode="lexical")]
    assert any("Long GC pauses" in t for t in texts)
    assert not any("Spill happens" in t or "VACUUM" in t for t in texts)
    assert index.stats().documents == 1
    reopened = KnowledgeIndex.open(tmp_path / "chroma")  # the change is persisted, dense side too
    assert [p.heading_path for p in reopened.search("GC pauses", 5, mode="dense")] == ["Memory > Garbage collection"]


def test_exclusive_kind_drops_the_same_documents_indexed_from_another_checkout(tmp_path: Path, docs: Path) -> None:
    """Two checkouts (or installs) sharing one COPILOT_HOME must not leave the built-in cards twice in the index."""
    index = KnowledgeIndex.open(tmp_path / "chroma")
    other_checkout = tmp_path / "old-checkout" / "cards"
    user_docs = tmp_path / "user" / "docs"
    shutil.copytree(docs, other_checkout)
    shutil.copytree(docs, user_docs)
    index.ingest([other_checkout], kind="card", exclusive=True)
    index.ingest([user_docs])  # another kind: never touched by the cards' refresh
    report = index.ingest([docs], kind="card", exclusive=True)
    assert (report.added_files, report.removed_files) == (2, 2)
    card_keys = _keys(index, "card")
    assert len(card_keys) == 2 and all(key.startswith(str(docs.resolve())) for key in card_keys)
    assert len(_keys(index, "docs")) == 2
    lexical = index.search("memory spill vacuum", 10, mode="lexical")
    assert sorted(p.kind for p in lexical) == ["card", "card", "docs", "docs"]


def _keys(index: KnowledgeIndex, kind: str) -> set[str]:
    return {m["doc_key"] for m in index._lexical.table.metadatas if m.get("kind") == kind}


def test_bad_files_in_a_folder_are_skipped_not_fatal(tmp_path: Path, docs: Path) -> None:
    (docs / "empty.md").write_bytes(b"")
    (docs / "binary.html").write_bytes(b"\x00\x01\x02")
    (docs / "latin.txt").write_bytes("d\u00e9j\u00e0 vu".encode("latin-1"))
    report = KnowledgeIndex.open(tmp_path / "chroma").ingest([docs])
    assert report.added_files == 2
    assert sorted(Path(s.path).name for s in report.skipped) == ["binary.html", "empty.md", "latin.txt"]


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no such file or folder"):
        KnowledgeIndex.open(tmp_path / "chroma").ingest([tmp_path / "nope"])


def test_product_is_inferred_from_the_path_and_filters_apply_to_every_mode(shared_index: KnowledgeIndex) -> None:
    for mode in ("dense", "lexical", "hybrid"):
        delta = shared_index.search("small files compaction", 8, {"product": "delta"}, mode=mode)
        assert delta and all(p.product == "delta" for p in delta)
        cards = shared_index.search("small files compaction", 8, {"product": "project-cards"}, mode=mode)
        assert cards and all(p.kind == "card" and p.source.startswith("cards/") for p in cards)
    skew = shared_index.search("what should I do", 3, {"category": "skew"})
    assert skew and {p.category for p in skew} == {"skew"}


def test_passages_carry_source_and_heading_path(shared_index: KnowledgeIndex) -> None:
    top = shared_index.search("AQE splits skewed partitions of a sort merge join", 3)[0]
    assert top.source and top.heading_path and top.chunk_id
    assert top.text.startswith(top.heading_path)


def test_unknown_filter_and_mode_are_user_errors(shared_index: KnowledgeIndex) -> None:
    with pytest.raises(ConfigurationError, match="unknown knowledge filter"):
        shared_index.search("x", 3, {"colour": "red"})
    with pytest.raises(ConfigurationError, match="unknown search mode"):
        shared_index.search("x", 3, mode="fuzzy")  # type: ignore[arg-type]


def test_lost_lexical_files_are_rebuilt_from_chroma(tmp_path: Path, docs: Path) -> None:
    path = tmp_path / "chroma"
    KnowledgeIndex.open(path).ingest([docs])
    shutil.rmtree(KnowledgeIndex.lexical_dir(path))
    reopened = KnowledgeIndex.open(path)
    assert reopened.stats().chunks == 2
    assert reopened.search("retention of unreferenced files", 1, mode="lexical")[0].heading_path == "Vacuum"


def test_damaged_index_says_how_to_fix_and_reset_rebuilds(tmp_path: Path, docs: Path) -> None:
    settings = Settings(home=tmp_path / "home", knowledge=KnowledgeSettings(config_catalog=False, api_reference=False, cards_dir=docs))
    ensure_default_index(settings)
    forget_open_indexes()
    sqlite = settings.chroma_dir / "chroma.sqlite3"
    sqlite.write_bytes(b"this is not a sqlite database" * 100)
    with pytest.raises(KnowledgeIndexError, match="copilot knowledge reset"):
        KnowledgeIndex.open(settings.chroma_dir)
    rebuilt = reset_default_index(settings)
    assert rebuilt.stats().chunks == 2
    assert search("vacuum retention", 1, index=rebuilt)[0].source.endswith("vacuum.md")


def test_opening_a_missing_index_without_create_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeIndexError, match="no knowledge index"):
        KnowledgeIndex.open(tmp_path / "absent", create=False)


def test_foreign_folder_is_never_used_or_deleted(tmp_path: Path) -> None:
    foreign = tmp_path / "photos"
    _doc(foreign, "holiday.txt", "not an index")
    with pytest.raises(KnowledgeIndexError, match="not a Spark Copilot knowledge index"):
        KnowledgeIndex.open(foreign)
    settings = Settings(home=tmp_path / "home", chroma_dir=foreign)
    with pytest.raises(KnowledgeIndexError, match="refusing to delete"):
        reset_default_index(settings)
    assert (foreign / "holiday.txt").is_file()


def test_default_index_holds_cards_and_reports_are_internal(tmp_path: Path, docs: Path) -> None:
    settings = Settings(home=tmp_path / "home", knowledge=KnowledgeSettings(config_catalog=False, api_reference=False, cards_dir=docs))
    index = ensure_default_index(settings)
    assert index.stats().by_kind == {"card": 2}
    report = ingest_reports([("app-1", "# Report app-1\n\n## Findings\n\nStage 3 spilled 40 GB because of skew.\n")],
                            index=index)
    assert report.added_files == 1
    found = index.search("stage spilled because of skew", 2, {"product": "internal"})
    assert [p.source for p in found] == ["reports/app-1"] and found[0].kind == "report"
    again = ingest_reports([("app-1", "# Report app-1\n\n## Findings\n\nNo problem found.\n")], index=index)
    assert again.updated_files == 1
    assert "No problem found" in index.search("report app-1", 1, {"product": "internal"})[0].text


def test_a_config_key_named_in_full_ranks_its_own_entry_first(tmp_path: Path) -> None:
    from knowledge.catalog import ConfigCatalog, ConfigEntry, catalog_documents
    from tests.catalog_entries import BARRIER_CHECK_MAX_FAILURES, TASK_MAX_FAILURES

    entries = [
        TASK_MAX_FAILURES,
        BARRIER_CHECK_MAX_FAILURES,
        ConfigEntry(key="spark.stage.maxConsecutiveAttempts", default="4", version="2.2.0", scope="core",
                    meaning="Number of consecutive stage attempts allowed before a stage is aborted."),
    ]
    index = KnowledgeIndex.open(tmp_path / "chroma")
    index.ingest_documents(catalog_documents(ConfigCatalog(spark_version="4.0.0", entries=entries)))
    # the query's words fit the near-namesake better (fusion alone ranks it first); the key named in full decides
    query = "max concurrent tasks check failures retries spark.task.maxFailures"
    found = index.search(query, 3)
    keys = [p.heading_path.rsplit("> ", 1)[-1] for p in found]
    assert keys[0] == "spark.task.maxFailures"
    scores = [p.score for p in found]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0  # the promoted entry is scored first too
    assert set(keys[1:]) == {"spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures",
                             "spark.stage.maxConsecutiveAttempts"}  # the others still follow
    assert index.search(query, 3, {"kind": "card"}) == []  # filters still apply to the named key
    lower = index.search(query.lower(), 1)[0].heading_path  # a lower-cased chat question names the same key
    assert lower.endswith("> spark.task.maxFailures")
