"""The retrieval suite: the knowledge engineer's `score_retrieval` on an evaluation index over corpus + cards.

The index lives in `$COPILOT_HOME/eval-retrieval/chroma` and is refreshed incrementally
(the first run embeds the corpus; later runs reuse it).
"""

from __future__ import annotations

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
    index_dir = context.settings.home / "eval-retrieval" / "chroma"
    index = score_module.build_eval_index(index_dir, corpus, with_catalog=True, home=context.settings.home)
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
        notes=[f"index: {index_dir}; corpus: {corpus}"],
    )
