"""The report suite: on each labeled case, produce the report with `graph.analyze` and check it.

- faithfulness: share of numbers and config values in the prose that trace to evidence
  (findings, report data, parsed profile); `faithful_reports` = share with none untraced.
- coverage: share of expected categories whose finding is in the report with a
  concrete recommendation and at least one citation.
- actionability: share of reported findings with a concrete change (config key=value or code change).
- forbidden_absent: share of cases whose must-not categories stay out of the report.
- with `--llm` and a configured endpoint: reports are written with the LLM and judged
  by it against a rubric (`llm_judge.*`, 0..1), the model name recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from evals.harness.faithfulness import check_faithfulness
from evals.harness.registry import PartNotAvailable, SuiteContext
from evals.harness.report_checks import check_coverage, forbidden_present, is_actionable
from evals.harness.scorecard import Metric, ResultTable, SuiteResult

if TYPE_CHECKING:
    from graph.report import Report


class ReportCase(BaseModel):
    """What the report suite needs from a labeled case."""

    case_id: str
    logs: list[Path]
    expected: list[str]
    forbidden: list[str] = []
    thresholds: dict[str, Any] = {}  # the case's rule thresholds, over the settings' (see DetectionCase)


class CaseOutcome(BaseModel):
    case_id: str
    path: str = ""
    findings: int = 0
    claims: int = 0
    unsupported: list[str] = []
    expected: int = 0
    covered: int = 0
    uncovered: list[str] = []
    actionable: int = 0
    forbidden_reported: list[str] = []
    judge_score: float | None = None
    judge_marks: dict[str, int] = {}
    verify_violations: list[str] = []  # what the graph's own verify still rejects in the final report
    error: str | None = None


def load_report_cases(cases_dir: Path) -> list[ReportCase]:
    """The detection cases (one format, one loader for both suites)."""
    from evals.harness.cases import load_cases, log_path

    return [
        ReportCase(case_id=case.name, logs=[log_path(case)], expected=list(case.must_find), forbidden=list(case.must_not_find),
                   thresholds=case.thresholds)
        for case in load_cases(cases_dir)
    ]


def _analyze_function():
    try:
        import graph
    except ModuleNotFoundError:
        raise PartNotAvailable("graph (graph engineer) is not in this checkout yet") from None
    analyze = getattr(graph, "analyze", None)
    if analyze is None:
        raise PartNotAvailable("graph.analyze (graph engineer) is not in this checkout yet")
    return analyze


def _load_profiles(logs: list[Path]) -> list:
    """Parsed profiles as faithfulness evidence (empty when the event-log engine is absent)."""
    try:
        from tools.eventlog import load_profile
    except ImportError:
        return []
    return [load_profile(str(log)) for log in logs]


def evaluate_case(case: ReportCase, write_report: Callable[[list[str], dict[str, Any]], Report], judge=None) -> CaseOutcome:
    """Produce one report and score it; a crash of the analysis is recorded, not raised."""
    from evals.harness.judge import judge_report
    from graph.verify import verify_report

    outcome = CaseOutcome(case_id=case.case_id, expected=len(case.expected))
    try:
        report = write_report([str(log) for log in case.logs], case.thresholds)
    except Exception as exc:  # one broken analysis must not stop the suite
        outcome.error = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
        return outcome
    claims = check_faithfulness(report, _load_profiles(case.logs))
    coverage = check_coverage(report, case.expected)
    outcome.path = report.path
    outcome.findings = len(report.findings)
    outcome.claims = len(claims)
    outcome.unsupported = [f"{c.field}: {c.text!r}" for c in claims if not c.supported]
    outcome.covered = sum(c.covered for c in coverage)
    outcome.uncovered = [
        f"{c.category} ("
        + ", ".join(w for w, ok in (("not found", c.found), ("no recommendation", c.recommended), ("no citation", c.cited)) if not ok)
        + ")"
        for c in coverage
        if not c.covered
    ]
    outcome.actionable = sum(is_actionable(f) for f in report.findings)
    outcome.forbidden_reported = forbidden_present(report, case.forbidden)
    outcome.verify_violations = verify_report(report)
    if judge is not None:
        try:
            verdict = judge_report(judge, report)
            outcome.judge_score = verdict.score
            outcome.judge_marks = {k: getattr(verdict, k) for k in ("correctness", "evidence", "actionability", "clarity")}
        except Exception as exc:  # an unreachable or unparseable judge leaves the score out, never guesses it
            outcome.judge_marks = {}
            outcome.error = f"judge: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
    return outcome


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def summarize(outcomes: list[CaseOutcome], judge_model: str | None) -> SuiteResult:
    """Micro-averaged metrics over all cases, a per-case table, and every miss in one line."""
    analysed = [o for o in outcomes if o.path]
    claims = sum(o.claims for o in analysed)
    unsupported = sum(len(o.unsupported) for o in analysed)
    expected = sum(o.expected for o in analysed)
    findings = sum(o.findings for o in analysed)
    values = {
        "faithfulness": _ratio(claims - unsupported, claims) if claims else (1.0 if analysed else None),
        "faithful_reports": _ratio(sum(not o.unsupported for o in analysed), len(analysed)),
        "coverage": _ratio(sum(o.covered for o in analysed), expected),
        "actionability": _ratio(sum(o.actionable for o in analysed), findings),
        "forbidden_absent": _ratio(sum(not o.forbidden_reported for o in analysed), len(analysed)),
        "verify_clean": _ratio(sum(not o.verify_violations for o in analysed), len(analysed)),
        "analysis_success": _ratio(len(analysed), len(outcomes)),
    }
    metrics = [Metric(name=name, value=value) for name, value in values.items() if value is not None]
    judged = [o for o in analysed if o.judge_score is not None]
    if judged:
        metrics.append(Metric(name="llm_judge.score", value=sum(o.judge_score for o in judged) / len(judged)))
        for criterion in ("correctness", "evidence", "actionability", "clarity"):
            marks = [o.judge_marks[criterion] for o in judged]
            metrics.append(Metric(name=f"llm_judge.{criterion}", value=(sum(marks) / len(marks) - 1) / 4))
    metrics += [
        Metric(name="claims_untraced", value=unsupported, better="lower", unit="count"),
    ]
    table = ResultTable(
        title="per case",
        columns=["case", "path", "findings", "claims", "untraced", "covered", "actionable", "judge", "error"],
        rows=[
            [o.case_id, o.path, o.findings, o.claims, len(o.unsupported), f"{o.covered}/{o.expected}",
             f"{o.actionable}/{o.findings}", o.judge_score, o.error]
            for o in outcomes
        ],
    )
    misses = []
    for o in outcomes:
        if o.error:
            misses.append(f"{o.case_id}: {o.error}")
        misses += [f"{o.case_id}: not covered: {u}" for u in o.uncovered]
        misses += [f"{o.case_id}: untraced {u}" for u in o.unsupported]
        misses += [f"{o.case_id}: reported a must-not category: {c}" for c in o.forbidden_reported]
        misses += [f"{o.case_id}: graph verify: {v}" for v in o.verify_violations]
    paths = sorted({o.path for o in analysed})
    notes = [f"reports written by: {', '.join(paths) or 'none'}; {claims} claims checked, {unsupported} untraced"]
    if judge_model:
        notes.append(f"LLM judge: {judge_model} ({len(judged)}/{len(analysed)} reports judged)")
    return SuiteResult(
        suite="report", status="ok", items=len(outcomes), metrics=metrics, tables=[table], misses=misses, notes=notes
    )


def run_report(context: SuiteContext) -> SuiteResult:
    analyze = _analyze_function()
    cases = load_report_cases(context.cases_dir)
    judge, judge_model, notes = None, None, []
    settings = context.settings
    if context.llm:
        if settings.llm.configured:
            from evals.harness.judge import make_judge

            judge, judge_model = make_judge(settings.llm), settings.llm.model
            context.llm_model = judge_model
        else:
            notes.append("--llm given but no LLM endpoint is configured (COPILOT_LLM__BASE_URL / OPENAI_API_KEY): no judge score")
    notices: list[str] = []
    write_report = _report_writer(analyze, settings, judge, notices.append)
    outcomes = []
    context.advance(0, len(cases))
    for done, case in enumerate(cases, start=1):
        outcomes.append(evaluate_case(case, write_report, judge))
        context.advance(done, len(cases))
    result = summarize(outcomes, judge_model)
    result.notes += notes + [f"analysis said: {n}" for n in dict.fromkeys(notices)]
    return result


def _report_writer(analyze, settings, judge, notice: Callable[[str], None]) -> Callable[[list[str], dict[str, Any]], Report]:
    """Offline analysis (an LLM session with no model, whatever the environment says), or the judge's model with --llm;
    a case's rule thresholds over the settings' ones."""
    from evals.detection import with_case_thresholds
    from graph.llm import LLMSession

    def write(logs: list[str], thresholds: dict[str, Any]) -> Report:
        case_settings = settings.model_copy(update={"rules": with_case_thresholds(thresholds, settings.rules)})
        if judge is not None:
            return analyze(logs, settings=case_settings, llm=judge, notice=notice)
        session = LLMSession(None, notice=notice, offline_reason="evaluation: reports are written offline")
        return analyze(logs, settings=case_settings, session=session, notice=notice)

    return write
