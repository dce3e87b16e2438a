"""Hybrid retrieval is at least as good as dense or lexical alone on a small question set."""

from __future__ import annotations

from pathlib import Path

from evals.retrieval.score import load_questions, score_retrieval
from knowledge.index import KnowledgeIndex

SMALL_QUESTIONS = Path(__file__).parent / "questions_small.yaml"


def test_hybrid_recall_and_mrr_are_at_least_those_of_each_mode(shared_index: KnowledgeIndex) -> None:
    score = score_retrieval(SMALL_QUESTIONS, shared_index)
    hybrid, dense, lexical = score.modes["hybrid"], score.modes["dense"], score.modes["lexical"]
    assert score.questions == len(load_questions(SMALL_QUESTIONS)) == 12
    assert hybrid.recall_at_5 >= 0.9
    assert hybrid.recall_at_5 >= max(dense.recall_at_5, lexical.recall_at_5)
    assert hybrid.mrr >= max(dense.mrr, lexical.mrr)


def test_the_shipped_question_set_is_large_and_well_formed() -> None:
    from evals.retrieval.score import QUESTIONS_FILE

    questions = load_questions(QUESTIONS_FILE)
    assert len(questions) >= 60
    assert len({q.q for q in questions}) == len(questions)
    assert all(q.relevant for q in questions)
