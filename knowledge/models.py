"""Typed values the knowledge package hands to its callers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SearchMode = Literal["hybrid", "dense", "lexical"]
Product = Literal["spark", "delta", "databricks", "internal"]
Kind = Literal["docs", "card", "config", "api", "report"]


class Passage(BaseModel):
    """One retrieved chunk: what to quote and where it came from."""

    text: str
    source: str  # file path relative to the ingested folder's parent, or a virtual source
    heading_path: str  # "Tuning Spark > Memory Tuning > Garbage Collection Tuning"
    score: float  # hybrid: fused reciprocal-rank score; dense: cosine; lexical: BM25
    product: str
    chunk_id: str
    kind: str = "docs"
    category: str | None = None  # knowledge cards: the rule category they explain
    title: str | None = None


class Chunk(BaseModel):
    """A piece of a document ready to index: text with its heading path prefixed, plus metadata."""

    chunk_id: str
    text: str
    heading_path: str
    metadata: dict[str, str] = Field(default_factory=dict)


class SourceDocument(BaseModel):
    """A document before chunking: a file, a config entry group or a past report."""

    key: str  # identity for incremental ingest (absolute path or "catalog:..." / "report:...")
    source: str
    text: str  # Markdown-like: `#` headings, markup already stripped
    title: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class SkippedFile(BaseModel):
    path: str
    reason: str


class IngestReport(BaseModel):
    """What one ingest changed; re-ingesting unchanged inputs reports only `unchanged_files`."""

    added_files: int = 0
    updated_files: int = 0
    unchanged_files: int = 0
    removed_files: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    skipped: list[SkippedFile] = Field(default_factory=list)
    duration_s: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added_files or self.updated_files or self.removed_files)


class IndexStats(BaseModel):
    path: str
    collection: str
    chunks: int
    documents: int
    by_product: dict[str, int]
    by_kind: dict[str, int]
    embedding_model: str
