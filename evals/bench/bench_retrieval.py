"""Benchmark: knowledge ingest throughput and query latency at 10k chunks.

1. Ingest throughput: a real folder (default tests/fixtures/corpus, or --corpus ../shared/corpus)
   plus the cards into a fresh index, end to end (load, chunk, embed with numpy MiniLM, Chroma, BM25).
2. Latency: the index is grown to --chunks (default 10,000) by replicating the real chunks with
   variations (sentences rotated, a replica tag added; each replica's vector is its original's
   vector plus small noise, renormalised, so no re-encoding is needed), then the eval questions
   are searched in each mode. Query time includes encoding the query.
Run: `python -m evals.bench.bench_retrieval [--corpus DIR] [--chunks N]`.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from evals.retrieval.score import QUESTIONS_FILE, load_questions
from knowledge.api import CARDS_DIR
from knowledge.index import KnowledgeIndex, _query_vector
from knowledge.models import Chunk

TARGET_P95_MS = 50.0
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "corpus"


def _variant(text: str, replica: int) -> str:
    """The same chunk with its sentences rotated and a replica tag, so BM25 rows differ."""
    head, _, body = text.partition("\n\n")
    sentences = re.split(r"(?<=[.!?])\s+", body)
    shift = replica % max(len(sentences), 1)
    return f"{head}\n\n{' '.join(sentences[shift:] + sentences[:shift])} (variant {replica})"


def grow_index(index: KnowledgeIndex, target_chunks: int, seed: int = 0) -> int:
    """Add synthetic replicas of the existing chunks until the index holds `target_chunks`."""
    data = index._collection.get(include=["documents", "metadatas", "embeddings"])
    rng = np.random.default_rng(seed)
    base = len(data["ids"])
    need = target_chunks - base
    chunks, vectors = [], []
    for n in range(need):
        i = n % base
        replica = n // base + 1
        metadata = dict(data["metadatas"][i])
        metadata["doc_key"] = f"bench:{replica}:{metadata.get('doc_key', '')}"
        chunks.append(Chunk(chunk_id=f"bench-{n:06d}", text=_variant(data["documents"][i], replica),
                            heading_path=metadata.get("heading_path", ""), metadata=metadata))
        vector = np.asarray(data["embeddings"][i], dtype=np.float32) + rng.normal(0, 0.02, 384).astype(np.float32)
        vectors.append(vector / np.linalg.norm(vector))
    for start in range(0, need, 2000):
        index._apply([], chunks[start:start + 2000], np.asarray(vectors[start:start + 2000]))
    return need


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description="knowledge ingest throughput and query latency")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--chunks", type=int, default=10_000)
    args = parser.parse_args()
    questions = [q.q for q in load_questions(QUESTIONS_FILE)]
    with tempfile.TemporaryDirectory() as tmp:
        index = KnowledgeIndex.open(Path(tmp) / "chroma")
        started = time.perf_counter()
        report = index.ingest([args.corpus])
        report_cards = index.ingest([CARDS_DIR], kind="card")
        ingest_s = time.perf_counter() - started
        real_chunks = report.chunks_added + report_cards.chunks_added
        started = time.perf_counter()
        again = index.ingest([args.corpus, CARDS_DIR])  # cards declare kind: card in front matter
        reingest_s = time.perf_counter() - started
        started = time.perf_counter()
        added = grow_index(index, args.chunks)
        grow_s = time.perf_counter() - started
        reopened_started = time.perf_counter()
        index = KnowledgeIndex.open(Path(tmp) / "chroma")
        open_s = time.perf_counter() - reopened_started
        index.search("warm up the encoder and HNSW", 5)
        print(f"machine             : {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
              "(shared with other work: figures scale with it)")
        print(f"ingest (real docs)  : {real_chunks} chunks in {ingest_s:.1f} s = {real_chunks / ingest_s:.1f} chunks/s "
              f"(end to end, numpy MiniLM on this machine)")
        print(f"re-ingest unchanged : {again.unchanged_files} files, {again.chunks_added} chunks re-embedded, "
              f"{reingest_s * 1000:.0f} ms")
        print(f"synthetic replicas  : +{added} chunks (precomputed vectors) in {grow_s:.1f} s = "
              f"{added / grow_s:.0f} chunks/s for Chroma + BM25 rebuild")
        print(f"open index          : {open_s * 1000:.0f} ms at {index.stats().chunks} chunks (once per process)")
        print(f"query latency at {index.stats().chunks} chunks, {len(questions)} questions, k=5, query encoding "
              f"included (target p95 < {TARGET_P95_MS:.0f} ms):")
        print(f"  {'mode':<22} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'CPU ms/query':>13}")
        cases = [("lexical", None, True), ("dense", None, True), ("hybrid", None, True),
                 ("hybrid, product filter", {"product": "delta"}, True), ("hybrid, repeated query", None, False)]
        for label, filters, cold in cases:
            mode = label.split(",")[0]
            if cold:
                _query_vector.cache_clear()
            timings = []
            cpu_started = time.process_time()
            for question in questions:
                started = time.perf_counter()
                index.search(question, 5, filters, mode=mode)
                timings.append((time.perf_counter() - started) * 1000)
            cpu_ms = (time.process_time() - cpu_started) * 1000 / len(questions)
            p95 = percentile(timings, 0.95)
            verdict = "ok" if p95 < TARGET_P95_MS else "over target"
            print(f"  {label:<22} {statistics.median(timings):>7.1f} {p95:>7.1f} {max(timings):>7.1f} "
                  f"{cpu_ms:>13.1f}   {verdict}")

if __name__ == "__main__":
    main()
