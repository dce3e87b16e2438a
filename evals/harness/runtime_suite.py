"""The runtime suite: the runtime engineer's `evaluate_runtime` on held-out runs."""

from __future__ import annotations

from evals.harness.adapt import flatten_score
from evals.harness.parts import call_with_supported, scoring_function
from evals.harness.registry import SuiteContext
from evals.harness.scorecard import SuiteResult


def run_runtime(context: SuiteContext) -> SuiteResult:
    evaluate_runtime = scoring_function("evals.runtime_eval", "evaluate_runtime", "runtime engineer")
    score = call_with_supported(evaluate_runtime, progress=context.advance)
    metrics, tables, misses = flatten_score(score)
    return SuiteResult(suite="runtime", status="ok", metrics=metrics, tables=tables, misses=misses)
