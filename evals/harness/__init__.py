"""The evaluation harness behind `copilot eval`: suites, scorecard, gate, history of runs."""

from evals.harness.runner import EvalOptions, run_eval
from evals.harness.scorecard import Scorecard, SuiteResult

__all__ = ["EvalOptions", "Scorecard", "SuiteResult", "run_eval"]
