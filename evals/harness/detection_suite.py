"""The detection suite: the rules engineer's `score_detection` over the labeled cases."""

from __future__ import annotations

from evals.harness.adapt import flatten_score
from evals.harness.parts import call_with_supported, scoring_function
from evals.harness.registry import SuiteContext
from evals.harness.scorecard import SuiteResult


def run_detection(context: SuiteContext) -> SuiteResult:
    score_detection = scoring_function("evals.detection", "score_detection", "rules engineer")
    score = call_with_supported(score_detection, context.cases_dir, progress=context.advance)
    metrics, tables, misses = flatten_score(score)
    return SuiteResult(suite="detection", status="ok", metrics=metrics, tables=tables, misses=misses)
