"""BM25 over the chunk texts (bm25s), with the chunk table it scores, persisted beside the Chroma dir.

The BM25 matrix is derived data: it is rebuilt from the chunk table in about a second
for 10k chunks whenever the chunk set changes, so there is no incremental bookkeeping
to get wrong. Scores are computed for every chunk, then metadata filters mask them.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
CHUNKS_FILE = "chunks.json"
VECTORS_FILE = "vectors.npy"
BM25_DIR = "bm25"


def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


class Tokenizer:
    """Lower-case words, English stop words removed, Snowball-stemmed (`partitions` ~ `partition`)."""

    def __init__(self) -> None:
        import Stemmer

        self._stemmer = Stemmer.Stemmer("english")
        self._stopwords = _stopwords()

    def __call__(self, text: str) -> list[str]:
        words = [w for w in _TOKEN.findall(text.lower()) if w not in self._stopwords]
        return self._stemmer.stemWords(words)


@dataclass
class ChunkTable:
    """Ids, texts and metadata of every chunk, in the row order of the BM25 matrix."""

    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    metadatas: list[dict[str, str]] = field(default_factory=list)
    generation: str = ""
    vectors: np.ndarray | None = None  # unit embeddings, one row per chunk (exact search under filters)

    _columns: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def row_of(self) -> dict[str, int]:
        return {chunk_id: row for row, chunk_id in enumerate(self.ids)}

    def mask(self, filters: dict[str, list[str]]) -> np.ndarray:
        """Rows whose metadata matches every filter (value in the allowed list); vectorised per key."""
        keep = np.ones(len(self.ids), dtype=bool)
        for key, allowed in filters.items():
            keep &= np.isin(self.column(key), np.array(allowed, dtype=str))
        return keep

    def column(self, key: str, lower: bool = False) -> np.ndarray:
        """One metadata field of every row ('' where absent), optionally lower-cased; computed once per table."""
        name = f"{key}\0lower" if lower else key
        if name not in self._columns:
            values = [m.get(key, "") for m in self.metadatas]
            self._columns[name] = np.array([v.lower() for v in values] if lower else values, dtype=str)
        return self._columns[name]


class LexicalIndex:
    """The chunk table plus its BM25 matrix, saved under one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.table = ChunkTable()
        self._bm25 = None
        self._tokenize = Tokenizer()

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Load a saved index; raises ValueError/OSError when files are missing or damaged."""
        index = cls(folder)
        data = json.loads((folder / CHUNKS_FILE).read_text(encoding="utf-8"))
        index.table = ChunkTable(ids=data["ids"], texts=data["texts"], metadatas=data["metadatas"],
                                 generation=data["generation"])
        if index.table.ids:
            import bm25s

            index._bm25 = bm25s.BM25.load(str(folder / BM25_DIR))
            if index._bm25.scores["num_docs"] != len(index.table.ids):
                raise ValueError("BM25 matrix and chunk table disagree")
            vectors = np.load(folder / VECTORS_FILE)
            if vectors.shape[0] != len(index.table.ids):
                raise ValueError("vector matrix and chunk table disagree")
            index.table.vectors = vectors
        return index

    def rebuild(self, table: ChunkTable) -> None:
        """Index `table` and save it (chunk table written last, so a half-written save fails to load)."""
        import bm25s

        self.table = table
        self._bm25 = None
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / CHUNKS_FILE).unlink(missing_ok=True)
        shutil.rmtree(self.folder / BM25_DIR, ignore_errors=True)
        if table.vectors is not None:
            np.save(self.folder / VECTORS_FILE, np.asarray(table.vectors, dtype=np.float32))
        if table.ids:
            bm25 = bm25s.BM25()
            bm25.index([self._tokenize(text) or ["_empty_"] for text in table.texts], show_progress=False)
            bm25.save(str(self.folder / BM25_DIR), show_progress=False)
            self._bm25 = bm25
        tmp = self.folder / (CHUNKS_FILE + ".tmp")
        tmp.write_text(json.dumps({"ids": table.ids, "texts": table.texts, "metadatas": table.metadatas,
                                   "generation": table.generation}), encoding="utf-8")
        tmp.replace(self.folder / CHUNKS_FILE)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (0 where no query term occurs)."""
        n = len(self.table.ids)
        tokens = self._tokenize(query)
        if not n or self._bm25 is None or not tokens:
            return np.zeros(n, dtype=np.float32)
        ids = self._bm25.get_tokens_ids(tokens)
        if not ids:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)
