"""A suite whose part is missing says so ('not available'), a crashing suite says why ('error'); never a score."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.settings import Settings
from evals.harness.registry import SUITES, PartNotAvailable, Suite, SuiteContext, import_part, resolve_suites
from evals.harness.runner import run_suite


def _context() -> SuiteContext:
    return SuiteContext(cases_dir=Path("."), questions_path=Path("."), settings=Settings())


def test_missing_part_is_not_available_with_owner_named() -> None:
    def score(context: SuiteContext):
        import_part("evals.part_that_was_never_built", "some engineer")

    result = run_suite(Suite("future", "not built", score), _context())
    assert result.status == "not_available"
    assert result.reason == "evals.part_that_was_never_built (some engineer) is not in this checkout yet"
    assert result.metrics == []


def test_present_part_with_a_broken_import_is_an_error_not_unavailable(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "half_built_part.py").write_text("import dependency_nobody_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    def score(context: SuiteContext):
        import_part("half_built_part", "someone")

    result = run_suite(Suite("half", "broken import", score), _context())
    assert result.status == "error"
    assert "dependency_nobody_installed" in result.reason


def test_crashing_suite_is_an_error_with_its_cause() -> None:
    def score(context: SuiteContext):
        raise KeyError("hybrid")

    result = run_suite(Suite("broken", "raises", score), _context())
    assert result.status == "error" and result.reason == "KeyError: 'hybrid'"


def test_all_means_every_default_suite_in_order() -> None:
    assert [s.name for s in resolve_suites(["all"])] == ["detection", "retrieval", "runtime", "report"]
    assert [s.name for s in resolve_suites(["report", "all"])] == ["report", "detection", "retrieval", "runtime"]
    assert set(SUITES) == {"detection", "retrieval", "runtime", "report"}


def test_missing_part_raises_part_not_available() -> None:
    with pytest.raises(PartNotAvailable):
        import_part("evals.no_such_part", "nobody")
