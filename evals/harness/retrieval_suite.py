"""The retrieval suite: the knowledge engineer's `score_retrieval` over the question set."""

from __future__ import annotations

from evals.harness.adapt import flatten_score
from evals.harness.parts import call_with_supported, scoring_function
from evals.harness.registry import SuiteContext
from evals.harness.scorecard import SuiteResult


def run_retrieval(context: SuiteContext) -> SuiteResult:
    score_retrieval = scoring_function("evals.retrieval.score", "score_retrieval", "knowledge engineer")
    score = call_with_supported(score_retrieval, context.questions_path, None, progress=context.advance)
    metrics, tables, misses = flatten_score(score)
    return SuiteResult(suite="retrieval", status="ok", metrics=metrics, tables=tables, misses=misses)
