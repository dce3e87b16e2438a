"""The suites `copilot eval` knows: name -> function scoring one part of the copilot.

A suite function takes a `SuiteContext` and returns a `SuiteResult`. When the part
it scores has not been built (its module is absent) it returns status
"not_available" with the reason, never a score.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from copilot.settings import Settings
from evals.harness.scorecard import SuiteResult

EVALS_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CASES_DIR = EVALS_DIR / "cases"
DEFAULT_QUESTIONS_PATH = EVALS_DIR / "retrieval"

Advance = Callable[[int, int | None], None]  # (completed, total or None when unknown)


@dataclass
class SuiteContext:
    """What a suite needs: the case set, the question set, settings, and a way to report progress."""

    cases_dir: Path
    questions_path: Path
    settings: Settings
    llm: bool = False
    advance: Advance = field(default=lambda done, total: None)
    llm_model: str | None = None  # set by a suite that used an LLM judge


class PartNotAvailable(Exception):
    """The module a suite scores is not in this checkout (its part has not landed)."""


def import_part(module: str, owner: str) -> ModuleType:
    """Import the scoring module of another part; a missing module means 'not available', a broken one is an error."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module == missing or module.startswith(missing + "."):
            raise PartNotAvailable(f"{module} ({owner}) is not in this checkout yet") from None
        raise


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    run: Callable[[SuiteContext], SuiteResult]
    default: bool = True  # part of `--suite all` and the gate


def _detection(context: SuiteContext) -> SuiteResult:
    from evals.harness.detection_suite import run_detection

    return run_detection(context)


def _retrieval(context: SuiteContext) -> SuiteResult:
    from evals.harness.retrieval_suite import run_retrieval

    return run_retrieval(context)


def _runtime(context: SuiteContext) -> SuiteResult:
    from evals.harness.runtime_suite import run_runtime

    return run_runtime(context)


def _report(context: SuiteContext) -> SuiteResult:
    from evals.harness.report_suite import run_report

    return run_report(context)


SUITES: dict[str, Suite] = {
    suite.name: suite
    for suite in (
        Suite("detection", "rules: precision, recall, F1 per category on labeled cases", _detection),
        Suite("retrieval", "knowledge: recall@1/@5 and MRR for dense, lexical, hybrid", _retrieval),
        Suite("runtime", "runtime model: median/mean APE and interval coverage vs baselines", _runtime),
        Suite("report", "reports: faithfulness, coverage, actionability (+ LLM judge with --llm)", _report),
    )
}


def resolve_suites(names: list[str]) -> list[Suite]:
    """`all` means every default suite; unknown names are a clear error."""
    from evals.harness.errors import EvalInputError

    chosen: list[Suite] = []
    for name in names or ["all"]:
        if name == "all":
            chosen += [s for s in SUITES.values() if s.default]
        elif name in SUITES:
            chosen.append(SUITES[name])
        else:
            raise EvalInputError(f"unknown suite {name!r}; choose from {', '.join([*SUITES, 'all'])}")
    return list(dict.fromkeys(chosen))
