"""Labeled cases for the report suite, read with the detection suite's own loader (one format, one parser)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.harness.errors import EvalInputError
from evals.harness.parts import scoring_function


def load_cases(cases_dir: Path) -> list[dict[str, Any]]:
    """Each case as {case_id, logs, expected, forbidden}; a malformed case file is one clear error."""
    loader = scoring_function("evals.detection", "load_cases", "rules engineer")
    if not Path(cases_dir).is_dir():
        raise EvalInputError(f"cases directory not found: {cases_dir}")
    cases = loader(Path(cases_dir))
    return [_as_report_case(case) for case in cases]


def _as_report_case(case: Any) -> dict[str, Any]:
    raise NotImplementedError  # filled in when the rules engineer's case type is known
