"""Offline knowledge base: Spark, Delta and Databricks docs plus our own cards, searched hybrid (dense + BM25).

`search(query)` is all the graph needs: it opens (and on first use builds) the default
index under `Settings.chroma_dir` and caches it for the process.
"""

from knowledge.api import (
    CARDS_DIR,
    ensure_default_index,
    ingest_reports,
    open_index,
    reset_default_index,
    search,
)
from knowledge.models import IndexStats, IngestReport, Passage, SourceDocument

__all__ = [
    "CARDS_DIR",
    "IndexStats",
    "IngestReport",
    "Passage",
    "SourceDocument",
    "ensure_default_index",
    "ingest_reports",
    "open_index",
    "reset_default_index",
    "search",
]
