"""Run the chosen suites, then write, store, compare and gate the scorecard: the one call behind `copilot eval`."""

from __future__ import annotations

import subprocess
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field

from copilot.settings import Settings
from evals.harness.errors import EvalInputError
from evals.harness.gate import DEFAULT_THRESHOLDS, check_gate, load_thresholds
from evals.harness.history import previous_comparison, store_run
from evals.harness.registry import (
    DEFAULT_CASES_DIR,
    DEFAULT_QUESTIONS_PATH,
    PartNotAvailable,
    Suite,
    SuiteContext,
    resolve_suites,
)
from evals.harness.scorecard import Scorecard, SuiteResult
from evals.harness.writers import write_outputs


class EvalOptions(BaseModel):
    suites: list[str] = Field(default_factory=lambda: ["all"])
    cases_dir: Path = DEFAULT_CASES_DIR
    questions_path: Path = DEFAULT_QUESTIONS_PATH
    llm: bool = False
    compare: bool = False
    gate: bool = False
    thresholds_path: Path = DEFAULT_THRESHOLDS
    out_dir: Path | None = None  # default: $COPILOT_HOME/evals
    store: bool = True
    progress: bool = True


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def run_suite(suite: Suite, context: SuiteContext) -> SuiteResult:
    """One suite, timed; a missing part becomes 'not available', any other failure an 'error' result."""
    started = time.perf_counter()
    try:
        result = suite.run(context)
    except PartNotAvailable as exc:
        result = SuiteResult(suite=suite.name, status="not_available", reason=str(exc))
    except EvalInputError:
        raise
    except Exception as exc:  # a broken part must not hide the other suites' scores
        first_line = (str(exc).strip().splitlines() or [""])[0]
        result = SuiteResult(suite=suite.name, status="error", reason=f"{type(exc).__name__}: {first_line}")
    result.duration_s = round(time.perf_counter() - started, 3)
    return result


def _check_inputs(options: EvalOptions, suites: list[Suite]) -> None:
    names = {s.name for s in suites}
    if names & {"detection", "report"} and options.cases_dir != DEFAULT_CASES_DIR and not options.cases_dir.is_dir():
        raise EvalInputError(f"cases directory not found: {options.cases_dir}")
    if "retrieval" in names and options.questions_path != DEFAULT_QUESTIONS_PATH and not options.questions_path.exists():
        raise EvalInputError(f"question set not found: {options.questions_path}")


def run_eval(options: EvalOptions, settings: Settings) -> Scorecard:
    """Run the suites with progress bars, then write JSON + Markdown, store the run, compare and gate."""
    suites = resolve_suites(options.suites)
    _check_inputs(options, suites)
    thresholds = load_thresholds(options.thresholds_path) if options.gate else None
    scorecard = Scorecard(
        run_id=datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6],
        started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        git_commit=_git_commit(),
        suites_requested=[s.name for s in suites],
        cases_dir=str(options.cases_dir.resolve()),
        questions_path=str(options.questions_path.resolve()),
    )
    started = time.perf_counter()
    from evals.harness.progress import suite_progress

    with suite_progress(enabled=options.progress) as progress:
        for suite in suites:
            context = SuiteContext(
                cases_dir=options.cases_dir,
                questions_path=options.questions_path,
                settings=settings,
                llm=options.llm,
                advance=progress.start(suite.name),
            )
            result = run_suite(suite, context)
            progress.finish(suite.name, result.status)
            scorecard.results.append(result)
            scorecard.llm_model = scorecard.llm_model or context.llm_model
    scorecard.duration_s = round(time.perf_counter() - started, 2)
    if thresholds is not None:
        scorecard.gate = check_gate(scorecard.results, thresholds, options.thresholds_path)
    store_path = Path(settings.store_path or settings.home / "copilot.duckdb")
    if options.compare:
        scorecard.comparison = previous_comparison(store_path, scorecard)
    write_outputs(scorecard, options.out_dir or settings.home / "evals")
    if options.store:
        store_run(store_path, scorecard)
    return scorecard
