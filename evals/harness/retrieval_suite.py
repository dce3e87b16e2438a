"""The retrieval suite: the knowledge engineer's `score_retrieval` on an evaluation index over corpus + cards.

The index lives in `$COPILOT_HOME/eval-retrieval/chroma`. The first run builds it; later
runs reuse it as is while the corpus, the cards and the config catalog are unchanged
(a fingerprint of their files), and refresh it incrementally when they change.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from evals.harness.errors import EvalInputError
from evals.harness.registry import PartNotAvailable, SuiteContext, import_part
from evals.harness.scorecard import Metric, ResultTable, SuiteResult


def questions_file(path: Path) -> Path:
    """A question file, or the `questions.yaml` of a directory."""
    candidate = path / "questions.yaml" if path.is_dir() else path
    if not candidate.is_file():
        raise EvalInputError(f"question set not found: {candidate}")
    return candidate


def run_retrieval(context: SuiteContext) -> SuiteResult:
    score_module = import_part("evals.retrieval.score", "knowledge engineer")
    questions = questions_file(Path(context.questions_path))
    corpus = Path(score_module.DEFAULT_CORPUS)
    if not corpus.is_dir():
        raise PartNotAvailable(f"the retrieval corpus {corpus} is not beside this checkout")
    try:
        score_module.load_questions(questions)
    except Exception as exc:
        raise EvalInputError(f"question set {questions}: {' '.join(str(exc).split())[:200]}") from None
    context.advance(0, 2)
    home = context.settings.home
    index_dir = home / "eval-retrieval" / "chroma"
    index, rebuilt = _eval_index(score_module, index_dir, corpus, home)
    context.advance(1, 2)
    score = score_module.score_retrieval(questions, index)
    context.advance(2, 2)
    metrics: list[Metric] = []
    for mode in ("hybrid", "dense", "lexical"):
        s = score.modes[mode]
        metrics += [Metric(name=f"{mode}.recall@5", value=s.recall_at_5), Metric(name=f"{mode}.recall@1", value=s.recall_at_1),
                    Metric(name=f"{mode}.mrr", value=s.mrr)]
    table = ResultTable(
        title="per retriever",
        columns=["mode", "questions", "recall@1", "recall@5", "MRR@10", "missed (top 5)"],
        rows=[[m, s.questions, s.recall_at_1, s.recall_at_5, s.mrr, len(s.missed)] for m, s in score.modes.items()],
    )
    return SuiteResult(
        suite="retrieval", status="ok", items=score.questions, metrics=metrics, tables=[table],
        misses=[f"hybrid missed: {q}" for q in score.modes["hybrid"].missed],
        notes=[f"index: {index_dir} ({'refreshed' if rebuilt else 'reused, inputs unchanged'}); corpus: {corpus}"],
    )


def _inputs_fingerprint(corpus: Path, home: Path) -> str:
    """Paths, sizes and modification times of the corpus, the knowledge package (code and cards) and the catalog."""
    import knowledge.api
    from knowledge.catalog import catalog_cache_path

    digest = hashlib.sha256()
    for root in (corpus, Path(knowledge.api.__file__).parent):
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            stat = path.stat()
            digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    catalog = catalog_cache_path(home)
    digest.update(f"{catalog}|{catalog.stat().st_mtime_ns if catalog.is_file() else None}".encode())
    return digest.hexdigest()


def _eval_index(score_module, index_dir: Path, corpus: Path, home: Path):
    """The evaluation index and whether it had to be (re)built; an unchanged one is only opened."""
    from knowledge.api import open_index

    stamp = index_dir.parent / "inputs.sha256"
    fingerprint = _inputs_fingerprint(corpus, home)
    if stamp.is_file() and stamp.read_text().strip() == fingerprint and index_dir.is_dir():
        return open_index(index_dir, "eval"), False
    # Changed inputs (or another checkout of the project: the fingerprint holds absolute paths) get a clean
    # build: an incremental refresh would keep the other checkout's documents and score duplicates.
    from knowledge.api import forget_open_indexes
    from knowledge.index import destroy_index_files

    forget_open_indexes()
    destroy_index_files(index_dir)
    index = score_module.build_eval_index(index_dir, corpus, with_catalog=True, home=home)
    stamp.write_text(_inputs_fingerprint(corpus, home))  # the catalog cache may have just been written
    return index, True
