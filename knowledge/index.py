"""KnowledgeIndex: one Chroma collection (dense) plus its BM25 twin (lexical), searched together.

Layout: `<chroma_dir>/` is a Chroma PersistentClient folder; `<chroma_dir>-lexical/<collection>/`
holds the chunk table and BM25 matrix. Ingest is incremental by content hash per document;
a folder ingest also removes the chunks of files that disappeared from that folder.
Dense search uses Chroma's HNSW index; with metadata filters it scores the filtered rows
exactly from the vector matrix kept beside BM25 (cheaper than Chroma's filtered query).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np

from knowledge.chunking import chunk_document
from knowledge.embedding import MAX_TOKENS, MiniLMEmbeddingFunction, get_encoder
from knowledge.lexical import ChunkTable, LexicalIndex
from knowledge.loaders import discover_files, load_file
from knowledge.models import IndexStats, IngestReport, Passage, SearchMode, SkippedFile, SourceDocument
from tools.errors import ConfigurationError, KnowledgeIndexError

log = logging.getLogger(__name__)

DEFAULT_COLLECTION = "knowledge"
MARKER_FILE = ".spark-copilot-knowledge"
DIRTY_FILE = "DIRTY"
CHUNKING_VERSION = "2"  # bump when chunking changes so every document is re-chunked
RRF_K = 60
_CONFIG_KEY = re.compile(r"\b(?:spark|fs|hive|parquet|hadoop|yarn|mapreduce|dfs)\.[A-Za-z0-9_.-]+[A-Za-z0-9_]")
FILTER_KEYS = ("source", "product", "kind", "category", "spark_version", "title", "config_key", "api_name")
PRODUCT_ALIASES = {"project-cards": ("kind", "card"), "cards": ("kind", "card")}
RESET_HINT = "run `copilot knowledge reset` to rebuild it"


def _normalise_filters(filters: dict | None) -> dict[str, list[str]]:
    """Filter dict -> {key: [allowed values]}; unknown keys are a user error."""
    result: dict[str, list[str]] = {}
    for key, value in (filters or {}).items():
        values = [str(v) for v in (value if isinstance(value, (list, tuple, set)) else [value])]
        if key == "product":
            for alias, (real_key, real_value) in PRODUCT_ALIASES.items():
                if alias in values:
                    values.remove(alias)
                    result.setdefault(real_key, []).append(real_value)
            if not values:
                continue
        if key not in FILTER_KEYS:
            raise ConfigurationError(f"unknown knowledge filter {key!r}; use one of: {', '.join(FILTER_KEYS)}")
        result.setdefault(key, []).extend(values)
    return result


def _chroma_where(filters: dict[str, list[str]]) -> dict | None:
    clauses = [{key: values[0]} if len(values) == 1 else {key: {"$in": values}} for key, values in filters.items()]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


@lru_cache(maxsize=1024)
def _query_vector(query: str) -> np.ndarray:
    """Query embeddings are cached: the graph asks the same doc queries for many findings and runs."""
    vector = get_encoder().encode([query])
    vector.setflags(write=False)
    return vector


def _infer_product(path: Path) -> str:
    parts = {part.lower() for part in path.parts}
    text = " ".join(parts)
    if "delta" in text:
        return "delta"
    if "databricks" in text:
        return "databricks"
    return "spark"


def _document_hash(document: SourceDocument) -> str:
    digest = hashlib.sha256(f"{CHUNKING_VERSION}/{MAX_TOKENS}".encode())  # re-embed when either changes
    digest.update(document.text.encode())
    digest.update(json.dumps([document.title, document.source, sorted(document.metadata.items())]).encode())
    return digest.hexdigest()[:24]


class KnowledgeIndex:
    """A searchable, incrementally updated set of chunks. Open it with `KnowledgeIndex.open(path)`."""

    def __init__(self, path: Path, collection_name: str, client, collection, lexical: LexicalIndex) -> None:  # noqa: ANN001
        self.path = path
        self.collection_name = collection_name
        self._client = client
        self._collection = collection
        self._lexical = lexical
        self._rows = lexical.table.row_of()

    # ---- opening -------------------------------------------------------------------------------
    @staticmethod
    def lexical_dir(path: Path, collection_name: str = DEFAULT_COLLECTION) -> Path:
        return path.parent / f"{path.name}-lexical" / collection_name

    @classmethod
    def open(cls, path: Path | str, collection_name: str = DEFAULT_COLLECTION, *, create: bool = True) -> KnowledgeIndex:
        """Open (or create) the index at `path`; a damaged or missing one raises KnowledgeIndexError."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        path = Path(path).expanduser()
        if path.exists() and not path.is_dir():
            raise KnowledgeIndexError(f"knowledge index path {path} is not a directory")
        if not create and not (path / MARKER_FILE).is_file():
            raise KnowledgeIndexError(f"no knowledge index at {path}: run `copilot knowledge ingest PATH` or "
                                      "`copilot knowledge reset` to build the default one")
        if path.is_dir() and any(path.iterdir()) and not (path / MARKER_FILE).is_file():
            raise KnowledgeIndexError(f"{path} exists but is not a Spark Copilot knowledge index; "
                                      "choose another COPILOT_CHROMA_DIR")
        path.mkdir(parents=True, exist_ok=True)
        (path / MARKER_FILE).touch()
        try:
            client = chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
            if create:
                collection = client.get_or_create_collection(
                    collection_name, embedding_function=MiniLMEmbeddingFunction(),
                    configuration={"hnsw": {"space": "cosine"}})
            else:
                collection = client.get_collection(collection_name, embedding_function=MiniLMEmbeddingFunction())
            count = collection.count()
        except KnowledgeIndexError:
            raise
        except Exception as exc:  # chromadb raises many types for a damaged sqlite file or missing collection
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if not create and "does not exist" in first:
                raise KnowledgeIndexError(f"no collection {collection_name!r} in the knowledge index at {path}: "
                                          f"{RESET_HINT}") from exc
            raise KnowledgeIndexError(f"the knowledge index at {path} is damaged ({first}): {RESET_HINT}") from exc
        lexical_dir = cls.lexical_dir(path, collection_name)
        lexical = cls._load_lexical(lexical_dir, count)
        index = cls(path, collection_name, client, collection, lexical or LexicalIndex(lexical_dir))
        if lexical is None:
            index._rebuild_lexical_from_chroma()
        return index

    @staticmethod
    def _load_lexical(folder: Path, chroma_count: int) -> LexicalIndex | None:
        """The saved lexical index when it is complete and agrees with Chroma, else None (rebuild)."""
        if (folder / DIRTY_FILE).exists():
            return None
        try:
            lexical = LexicalIndex.load(folder)
        except (OSError, ValueError, KeyError):
            return None if chroma_count else LexicalIndex(folder)
        return lexical if len(lexical.table.ids) == chroma_count else None

    def _rebuild_lexical_from_chroma(self) -> None:
        """Derived data lost or stale: read every chunk back from Chroma and re-index BM25."""
        log.warning("rebuilding the lexical index of %s from Chroma", self.path)
        try:
            data = self._collection.get(include=["documents", "metadatas", "embeddings"])
        except Exception as exc:
            raise KnowledgeIndexError(f"the knowledge index at {self.path} is damaged ({exc}): {RESET_HINT}") from exc
        vectors = data.get("embeddings")
        table = ChunkTable(ids=list(data["ids"]), texts=list(data["documents"] or []),
                           metadatas=[dict(m or {}) for m in data["metadatas"] or []],
                           vectors=np.asarray(vectors, dtype=np.float32).reshape(len(data["ids"]), -1)
                           if vectors is not None and len(data["ids"]) else None)
        lexical = LexicalIndex(self.lexical_dir(self.path, self.collection_name))
        lexical.rebuild(table)
        (lexical.folder / DIRTY_FILE).unlink(missing_ok=True)
        self._lexical = lexical
        self._rows = table.row_of()

    # ---- ingest --------------------------------------------------------------------------------
    def ingest(self, paths: list[Path | str], *, product: str | None = None, kind: str | None = None,
               spark_version: str | None = None, exclusive: bool = False) -> IngestReport:
        """Add or refresh files and folders; unchanged files cost a hash, deleted files lose their chunks.

        `exclusive` (with `kind`): these folders are the only source of that kind, so documents of the kind
        indexed from anywhere else (e.g. the built-in cards of an older checkout or install) are removed.
        """
        started = time.perf_counter()
        documents: list[SourceDocument] = []
        skipped: list[SkippedFile] = []
        scopes: list[str] = []
        for raw in paths:
            path = Path(raw).expanduser()
            if not path.exists():
                raise ConfigurationError(f"no such file or folder: {path}")
            root = path.resolve()
            files = discover_files(root) if root.is_dir() else [root]
            if root.is_dir():
                scopes.append(str(root) + os.sep)
            base = root.parent
            for file in files:
                document, skip = load_file(file, str(file.relative_to(base)))
                if skip is not None:
                    log.warning("skipped %s: %s", skip.path, skip.reason)
                    skipped.append(skip)
                    continue
                assert document is not None
                metadata = {"product": product or _infer_product(file.relative_to(base)), "kind": kind or "docs"}
                if spark_version:
                    metadata["spark_version"] = spark_version
                metadata.update(document.metadata)  # front matter wins
                documents.append(document.model_copy(update={"metadata": metadata}))
        if exclusive and kind:
            scopes += sorted({m.get("doc_key", "") for m in self._lexical.table.metadatas
                              if m.get("kind") == kind and not any(m.get("doc_key", "").startswith(s) for s in scopes)})
        report = self.ingest_documents(documents, scopes=scopes)
        report.skipped = skipped
        report.duration_s = time.perf_counter() - started
        return report

    def ingest_documents(self, documents: list[SourceDocument], *, scopes: list[str] = ()) -> IngestReport:
        """Incremental upsert of documents by key; documents under a scope prefix that are absent are removed."""
        started = time.perf_counter()
        table = self._lexical.table
        indexed: dict[str, tuple[str, list[int]]] = {}
        for row, metadata in enumerate(table.metadatas):
            key = metadata.get("doc_key", "")
            entry = indexed.setdefault(key, (metadata.get("doc_hash", ""), []))
            entry[1].append(row)
        report = IngestReport()
        drop_rows: list[int] = []
        new_chunks = []
        seen: set[str] = set()
        for document in documents:
            if document.key in seen:
                continue
            seen.add(document.key)
            doc_hash = _document_hash(document)
            previous = indexed.get(document.key)
            if previous and previous[0] == doc_hash:
                report.unchanged_files += 1
                continue
            if previous:
                drop_rows.extend(previous[1])
                report.updated_files += 1
            else:
                report.added_files += 1
            for chunk in chunk_document(document):
                chunk.metadata["doc_hash"] = doc_hash
                new_chunks.append(chunk)
        for key, (_, rows) in indexed.items():
            if key not in seen and any(key.startswith(scope) for scope in scopes):
                drop_rows.extend(rows)
                report.removed_files += 1
        if drop_rows or new_chunks:
            self._apply(drop_rows, new_chunks)
        report.chunks_added = len(new_chunks)
        report.chunks_removed = len(drop_rows)
        report.duration_s = time.perf_counter() - started
        return report

    def _apply(self, drop_rows: list[int], new_chunks: list, embeddings: np.ndarray | None = None) -> None:  # noqa: ANN001
        """Write changes to Chroma, then rebuild BM25; a DIRTY flag covers a crash in between.

        `embeddings` (one row per new chunk) is only passed by the benchmark, which synthesizes chunks.
        """
        table = self._lexical.table
        drop_ids = [table.ids[row] for row in drop_rows]
        if embeddings is None and new_chunks:
            embeddings = get_encoder().encode([chunk.text for chunk in new_chunks])
        folder = self._lexical.folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / DIRTY_FILE).touch()
        batch = max(1, min(self._client.get_max_batch_size(), 2000))
        for start in range(0, len(drop_ids), batch):
            self._collection.delete(ids=drop_ids[start:start + batch])
        for start in range(0, len(new_chunks), batch):
            part = new_chunks[start:start + batch]
            self._collection.add(ids=[c.chunk_id for c in part], documents=[c.text for c in part],
                                 metadatas=[c.metadata for c in part], embeddings=embeddings[start:start + batch])
        dropped = set(drop_rows)
        keep = [row for row in range(len(table.ids)) if row not in dropped]
        kept_vectors = table.vectors[keep] if table.vectors is not None else np.zeros((len(keep), 384), np.float32)
        new_vectors = np.asarray(embeddings, dtype=np.float32) if new_chunks else np.zeros((0, kept_vectors.shape[1]),
                                                                                           np.float32)
        updated = ChunkTable(ids=[table.ids[r] for r in keep] + [c.chunk_id for c in new_chunks],
                             texts=[table.texts[r] for r in keep] + [c.text for c in new_chunks],
                             metadatas=[table.metadatas[r] for r in keep] + [dict(c.metadata) for c in new_chunks],
                             vectors=np.concatenate([kept_vectors, new_vectors]))
        self._lexical.rebuild(updated)
        (folder / DIRTY_FILE).unlink(missing_ok=True)
        self._rows = updated.row_of()

    def remove_path(self, path: Path | str) -> IngestReport:
        """Drop what was ingested from `path` (a file, or every file under a folder), on disk or long gone.

        For a folder that was moved or deleted: its documents stay (and are cited) until removed here.
        """
        started = time.perf_counter()
        root = str(Path(path).expanduser().resolve())
        rows_by_key: dict[str, list[int]] = {}
        for row, metadata in enumerate(self._lexical.table.metadatas):
            key = metadata.get("doc_key", "")
            if key == root or key.startswith(root.rstrip(os.sep) + os.sep):
                rows_by_key.setdefault(key, []).append(row)
        rows = [row for key_rows in rows_by_key.values() for row in key_rows]
        if rows:
            self._apply(rows, [])
        return IngestReport(removed_files=len(rows_by_key), chunks_removed=len(rows),
                            duration_s=time.perf_counter() - started)

    # ---- search --------------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, filters: dict | None = None, *, mode: SearchMode = "hybrid") -> list[Passage]:
        """Top-k passages for `query`; hybrid fuses dense and BM25 rankings by reciprocal rank."""
        if mode not in ("hybrid", "dense", "lexical"):
            raise ConfigurationError(f"unknown search mode {mode!r}; use hybrid, dense or lexical")
        if k < 1:
            raise ConfigurationError("k must be at least 1")
        normalised = _normalise_filters(filters)
        if not query.strip() or not self._lexical.table.ids:
            return []
        depth = max(k * 4, 30)
        dense = self._dense_ranking(query, depth, normalised) if mode != "lexical" else []
        lexical = self._lexical_ranking(query, depth, normalised) if mode != "dense" else []
        if mode == "dense":
            ranked = dense[:k]
        elif mode == "lexical":
            ranked = lexical[:k]
        else:
            fused: dict[int, float] = {}
            for ranking in (dense, lexical):
                for rank, (row, _) in enumerate(ranking):
                    fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
            exact = self._named_config_rows(query, normalised)
            top = max(fused.values(), default=0.0)
            for row in exact:  # first, and scored above the rest: the score order stays the rank order
                fused[row] = top + fused.get(row, 0.0) + 1.0 / (RRF_K + 1)
            ranked = sorted(fused.items(), key=lambda item: -item[1])[:k]
        return [self._passage(row, score) for row, score in ranked]

    def _named_config_rows(self, query: str, filters: dict[str, list[str]]) -> set[int]:
        """Rows of the config entries whose exact key the query names (`spark.task.maxFailures`), within the filters.

        Fusion alone can rank a near-namesake first (`...barrier.maxConcurrentTasksCheck.maxFailures`);
        a key spelled out in full is the strongest evidence of what the query is about.
        """
        keys = [key.rstrip(".").lower() for key in _CONFIG_KEY.findall(query)]
        if not keys:
            return set()
        table = self._lexical.table
        keep = np.isin(table.column("config_key", lower=True), np.array(keys, dtype=str))  # a chat question may be lower-cased
        if filters:
            keep &= table.mask(filters)
        return set(np.flatnonzero(keep).tolist())

    def _dense_ranking(self, query: str, depth: int, filters: dict[str, list[str]]) -> list[tuple[int, float]]:
        vector = _query_vector(query)
        table = self._lexical.table
        count = len(table.ids)
        if filters and table.vectors is not None:
            # Exact search over the filtered rows: ~10x cheaper than Chroma's filtered HNSW query at 10k chunks.
            rows = np.flatnonzero(table.mask(filters))
            if not len(rows):
                return []
            # einsum's own loop, not BLAS: no thread-pool switching for a ~1 ms product
            similarities = np.einsum("ij,j->i", table.vectors[rows], vector[0])
            top = np.argsort(-similarities, kind="stable")[:depth]
            return [(int(rows[i]), float(similarities[i])) for i in top]
        try:
            result = self._collection.query(query_embeddings=vector, n_results=min(depth, count),
                                            where=_chroma_where(filters), include=["distances"])
        except Exception as exc:
            raise KnowledgeIndexError(f"dense search failed on the knowledge index at {self.path} ({exc}): "
                                      f"{RESET_HINT}") from exc
        ranking = []
        for chunk_id, distance in zip(result["ids"][0], result["distances"][0]):
            row = self._rows.get(chunk_id)
            if row is not None:
                ranking.append((row, 1.0 - float(distance)))
        return ranking

    def _lexical_ranking(self, query: str, depth: int, filters: dict[str, list[str]]) -> list[tuple[int, float]]:
        scores = self._lexical.scores(query)
        if filters:
            scores = np.where(self._lexical.table.mask(filters), scores, 0.0)
        depth = min(depth, len(scores))
        top = np.argpartition(-scores, depth - 1)[:depth]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(row), float(scores[row])) for row in top if scores[row] > 0]

    def _passage(self, row: int, score: float) -> Passage:
        table = self._lexical.table
        metadata = table.metadatas[row]
        return Passage(text=table.texts[row], source=metadata.get("source", ""),
                       heading_path=metadata.get("heading_path", ""), score=round(score, 6),
                       product=metadata.get("product", ""), chunk_id=table.ids[row], kind=metadata.get("kind", "docs"),
                       category=metadata.get("category"), title=metadata.get("title"))

    # ---- housekeeping --------------------------------------------------------------------------
    def stats(self) -> IndexStats:
        metadatas = self._lexical.table.metadatas
        return IndexStats(path=str(self.path), collection=self.collection_name, chunks=len(metadatas),
                          documents=len({m.get("doc_key") for m in metadatas}),
                          by_product=dict(Counter(m.get("product", "") for m in metadatas)),
                          by_kind=dict(Counter(m.get("kind", "") for m in metadatas)),
                          embedding_model="all-MiniLM-L6-v2 (numpy, offline)")

    def has_documents(self, key_prefix: str = "", kind: str | None = None) -> bool:
        return any(m.get("doc_key", "").startswith(key_prefix) and (kind is None or m.get("kind") == kind)
                   for m in self._lexical.table.metadatas)

    def reset(self) -> None:
        """Empty this collection (Chroma and BM25); the index stays usable."""
        self._client.delete_collection(self.collection_name)
        self._collection = self._client.get_or_create_collection(
            self.collection_name, embedding_function=MiniLMEmbeddingFunction(), configuration={"hnsw": {"space": "cosine"}})
        self._lexical = LexicalIndex(self.lexical_dir(self.path, self.collection_name))
        self._lexical.rebuild(ChunkTable())
        self._rows = {}


def destroy_index_files(path: Path) -> None:
    """Delete an index folder and its lexical twin, even when damaged; refuses folders that are not ours."""
    path = Path(path).expanduser()
    if path.is_dir() and any(path.iterdir()) and not (path / MARKER_FILE).is_file() \
            and not (path / "chroma.sqlite3").is_file():
        raise KnowledgeIndexError(f"refusing to delete {path}: it is not a Spark Copilot knowledge index")
    try:
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except Exception:  # noqa: BLE001 - best effort: the cache only matters inside this process
        pass
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    shutil.rmtree(path.parent / f"{path.name}-lexical", ignore_errors=True)
