"""Retrieval quality: recall@1, recall@5 and MRR of dense, lexical and hybrid search on a question set.

`score_retrieval(questions_file, index)` is the pure scoring function (the eval harness calls it);
`python -m evals.retrieval.score` builds or refreshes an evaluation index over ../shared/corpus,
the knowledge cards and the Spark config catalog, then prints the table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel

from knowledge.models import Passage

if TYPE_CHECKING:
    from knowledge.index import KnowledgeIndex

MODES = ("dense", "lexical", "hybrid")
MRR_DEPTH = 10
QUESTIONS_FILE = Path(__file__).parent / "questions.yaml"
DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


class RelevantSection(BaseModel):
    source: str  # suffix of the passage source ("spark-docs/tuning.md", "cards/skew.md")
    heading: str | None = None  # one element of the heading path; None = any section of the source


class Question(BaseModel):
    q: str
    relevant: list[RelevantSection]


class ModeScore(BaseModel):
    mode: str
    questions: int
    recall_at_1: float
    recall_at_5: float
    mrr: float
    missed: list[str]  # questions with no relevant passage in the top 5


class RetrievalScore(BaseModel):
    questions: int
    modes: dict[str, ModeScore]

    def table(self) -> str:
        lines = [f"{'mode':<8} {'recall@1':>9} {'recall@5':>9} {'MRR@10':>7}   ({self.questions} questions)"]
        for mode in MODES:
            s = self.modes[mode]
            lines.append(f"{mode:<8} {s.recall_at_1:>9.3f} {s.recall_at_5:>9.3f} {s.mrr:>7.3f}")
        return "\n".join(lines)


def load_questions(questions_file: Path) -> list[Question]:
    data = yaml.safe_load(Path(questions_file).read_text(encoding="utf-8")) or []
    return [Question.model_validate(item) for item in data]


def is_relevant(passage: Passage, question: Question) -> bool:
    """A passage answers the question when it comes from one of the listed sections."""
    headings = [h.strip().casefold() for h in passage.heading_path.split(" > ")]
    for section in question.relevant:
        source_matches = passage.source.endswith(section.source) or passage.source.startswith(section.source + "/")
        if source_matches and (section.heading is None or section.heading.casefold() in headings):
            return True
    return False


def first_relevant_rank(passages: list[Passage], question: Question) -> int | None:
    for rank, passage in enumerate(passages, 1):
        if is_relevant(passage, question):
            return rank
    return None


def score_retrieval(questions_file: Path | str, index: KnowledgeIndex) -> RetrievalScore:
    """Score every mode of `index.search` on the questions; no side effects."""
    questions = load_questions(Path(questions_file))
    modes: dict[str, ModeScore] = {}
    for mode in MODES:
        ranks = [first_relevant_rank(index.search(q.q, MRR_DEPTH, mode=mode), q) for q in questions]
        n = max(len(questions), 1)
        modes[mode] = ModeScore(
            mode=mode, questions=len(questions),
            recall_at_1=sum(1 for r in ranks if r == 1) / n,
            recall_at_5=sum(1 for r in ranks if r is not None and r <= 5) / n,
            mrr=sum(1.0 / r for r in ranks if r is not None) / n,
            missed=[q.q for q, r in zip(questions, ranks) if r is None or r > 5])
    return RetrievalScore(questions=len(questions), modes=modes)


def build_eval_index(index_dir: Path, corpus: Path, *, with_catalog: bool, home: Path) -> KnowledgeIndex:
    """The evaluation index: corpus + cards (+ config catalog), refreshed incrementally."""
    from knowledge.api import CARDS_DIR, open_index

    index = open_index(index_dir, "eval")
    if not corpus.is_dir():
        raise SystemExit(f"corpus folder not found: {corpus} (pass --corpus)")
    index.ingest([corpus])
    index.ingest([CARDS_DIR], kind="card", exclusive=True)
    if with_catalog:
        from knowledge.catalog import CATALOG_KEY_PREFIX, catalog_documents, load_config_catalog

        index.ingest_documents(catalog_documents(load_config_catalog(home)), scopes=[CATALOG_KEY_PREFIX])
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS_FILE)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--index-dir", type=Path, default=None, help="default: $COPILOT_HOME/eval-retrieval/chroma")
    parser.add_argument("--no-catalog", action="store_true", help="leave the Spark config catalog out")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--show-missed", action="store_true")
    args = parser.parse_args(argv)

    from copilot.settings import get_settings

    settings = get_settings()
    index_dir = args.index_dir or settings.home / "eval-retrieval" / "chroma"
    index = build_eval_index(index_dir, args.corpus, with_catalog=not args.no_catalog, home=settings.home)
    score = score_retrieval(args.questions, index)
    if args.json:
        print(score.model_dump_json(indent=2))
        return 0
    stats = index.stats()
    print(f"index: {stats.chunks} chunks from {stats.documents} documents ({index_dir})")
    print(score.table())
    if args.show_missed:
        for mode in MODES:
            for question in score.modes[mode].missed:
                print(f"  missed by {mode}: {question}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
