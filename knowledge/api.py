"""The functions the rest of the project calls: search, ensure_default_index, ingest_reports, reset."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.models import IngestReport, Passage, SearchMode, SourceDocument
from knowledge.settings import KnowledgeSettings

if TYPE_CHECKING:
    from copilot.settings import Settings
    from knowledge.index import KnowledgeIndex

log = logging.getLogger(__name__)

CARDS_DIR = Path(__file__).parent / "cards"
REPORT_KEY_PREFIX = "report:"

_lock = threading.RLock()
_open: dict[tuple[str, str], KnowledgeIndex] = {}
_default_ready: set[tuple[str, str]] = set()


def open_index(path: Path | str, collection: str = "knowledge", *, create: bool = True) -> KnowledgeIndex:
    """The index at `path`, opened once per process (opening Chroma and BM25 costs ~0.1-1 s)."""
    from knowledge.index import KnowledgeIndex

    key = (str(Path(path).expanduser().resolve()), collection)
    with _lock:
        if key not in _open:
            _open[key] = KnowledgeIndex.open(path, collection, create=create)
        return _open[key]


def forget_open_indexes() -> None:
    """Drop the in-process cache (after the files were deleted or rebuilt)."""
    with _lock:
        _open.clear()
        _default_ready.clear()


def _settings(settings: Settings | None) -> Settings:
    if settings is None:
        from copilot.settings import get_settings

        settings = get_settings()
    return settings


def _knowledge_settings(settings: Settings) -> KnowledgeSettings:
    return getattr(settings, "knowledge", None) or KnowledgeSettings()


def _add_config_catalog(index: KnowledgeIndex, home: Path) -> None:
    from knowledge.catalog import CATALOG_KEY_PREFIX, catalog_cache_path, catalog_documents, load_config_catalog
    from tools.errors import KnowledgeIndexError

    try:
        if catalog_cache_path(home).is_file() or not index.has_documents(CATALOG_KEY_PREFIX):
            catalog = load_config_catalog(home)
            index.ingest_documents(catalog_documents(catalog), scopes=[CATALOG_KEY_PREFIX])
    except KnowledgeIndexError as exc:
        log.warning("the default knowledge index has no Spark config catalog: %s", exc)


def _add_api_reference(index: KnowledgeIndex) -> None:
    from knowledge.api_reference import API_KEY_PREFIX, api_documents
    from tools.errors import KnowledgeIndexError

    try:
        documents = api_documents()
    except (ImportError, KnowledgeIndexError) as exc:
        log.warning("the default knowledge index has no PySpark API reference: %s", exc)
        return
    index.ingest_documents(documents, scopes=[API_KEY_PREFIX])


def ensure_default_index(settings: Settings | None = None) -> KnowledgeIndex:
    """The default index (cards + config catalog + PySpark API reference), built on first use and refreshed cheaply
    per process."""
    settings = _settings(settings)
    options = _knowledge_settings(settings)
    index = open_index(settings.chroma_dir, options.collection)
    key = (str(Path(settings.chroma_dir).resolve()), options.collection)
    with _lock:
        if key in _default_ready:
            return index
        cards_dir = options.cards_dir or CARDS_DIR
        index.ingest([cards_dir], kind="card", exclusive=True)
        if options.config_catalog:
            _add_config_catalog(index, settings.home)
        if options.api_reference:
            _add_api_reference(index)
        _default_ready.add(key)
    return index


def search(query: str, k: int = 5, filters: dict | None = None, *, mode: SearchMode = "hybrid",
           index: KnowledgeIndex | None = None) -> list[Passage]:
    """Top-k passages for a question. Filters: product, kind, category, source, spark_version (value or list)."""
    index = index or ensure_default_index()
    return index.search(query, k, filters, mode=mode)


def ingest_reports(reports: list[tuple[str, str]], index: KnowledgeIndex | None = None) -> IngestReport:
    """Index past analysis reports (id, Markdown) as internal knowledge; re-sending one replaces it."""
    index = index or ensure_default_index()
    documents = [SourceDocument(key=f"{REPORT_KEY_PREFIX}{report_id}", source=f"reports/{report_id}",
                                title=f"Analysis report {report_id}", text=markdown,
                                metadata={"product": "internal", "kind": "report"})
                 for report_id, markdown in reports if markdown and markdown.strip()]
    return index.ingest_documents(documents)


def reset_default_index(settings: Settings | None = None) -> KnowledgeIndex:
    """Delete the index files (even damaged ones) and rebuild the default index."""
    from knowledge.index import destroy_index_files

    settings = _settings(settings)
    with _lock:
        forget_open_indexes()
        destroy_index_files(settings.chroma_dir)
    return ensure_default_index(settings)
