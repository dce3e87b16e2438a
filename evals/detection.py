"""Detection eval: run the rules on labeled cases and score precision / recall per finding category.

A case file (`evals/cases/<name>.yaml`) names a log, the categories that must be found, those that
must not, optional key facts (a category must cite given stage ids), an optional severity ceiling and optional
rule thresholds the case is judged with.
Categories a case lists in neither place are unlabeled for it and not scored.
`python -m evals.detection [CASES_DIR]` prints the table; `score_detection(cases_dir)` returns it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, computed_field, field_validator

from tools.findings import Category, Finding, Severity
from tools.rules.thresholds import RuleThresholds

REPO_ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = Path(__file__).resolve().parent / "cases"


class CaseFact(BaseModel):
    """A category that must be reported for specific stages (e.g. the skewed stage id)."""

    category: Category
    stage_ids: list[int] = Field(default_factory=list)
    sql_execution_ids: list[int] = Field(default_factory=list)


class DetectionCase(BaseModel):
    name: str
    log: str  # relative to the repository root
    source: str = "workload"  # workload | public
    description: str = ""
    verified: str = ""  # how the problem was checked by hand (public logs)
    must_find: list[Category] = Field(default_factory=list)
    must_not_find: list[Category] = Field(default_factory=list)
    facts: list[CaseFact] = Field(default_factory=list)
    max_severity: Severity | None = None  # no finding may be more severe than this
    # rule thresholds this case is judged with (RuleThresholds fields), over the defaults or the user's settings:
    # a small log can then show a rule whose default floor is sized for production data
    thresholds: dict[str, Any] = Field(default_factory=dict)

    @field_validator("thresholds")
    @classmethod
    def _known_thresholds(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(RuleThresholds.model_fields))
        if unknown:
            raise ValueError(f"unknown rule thresholds {', '.join(unknown)} (see `copilot rules`)")
        return value


def with_case_thresholds(overrides: dict[str, Any], base: RuleThresholds | None = None) -> RuleThresholds:
    """`base` (the defaults when None) with a case's thresholds over it."""
    base = base or RuleThresholds()
    return RuleThresholds.model_validate(_laid_over(base.model_dump(), overrides)) if overrides else base


def _laid_over(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` laid over it field by field, nested settings included (`skew: {moderate: 3}`
    keeps the base's other skew fields)."""
    merged = dict(base)
    for key, value in overrides.items():
        below = merged.get(key)
        merged[key] = _laid_over(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
    return merged


class CategoryScore(BaseModel):
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    true_negatives: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def precision(self) -> float | None:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def recall(self) -> float | None:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None if p is None or r is None else 0.0
        return 2 * p * r / (p + r)


class CaseResult(BaseModel):
    name: str
    found: list[str] = Field(default_factory=list)
    missed: list[str] = Field(default_factory=list)  # must_find categories not reported
    false_alarms: list[str] = Field(default_factory=list)  # must_not_find categories reported
    fact_misses: list[str] = Field(default_factory=list)
    severity_violations: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return not (self.missed or self.false_alarms or self.fact_misses or self.severity_violations)


class DetectionScore(BaseModel):
    per_category: dict[str, CategoryScore] = Field(default_factory=dict)
    overall: CategoryScore = Field(default_factory=CategoryScore)
    cases: list[CaseResult] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cases_passed(self) -> int:
        return sum(1 for c in self.cases if c.passed)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def misses(self) -> list[str]:
        """One line per problem of a case that did not pass (what the eval harness lists as misses)."""
        return [f"{case.name}: {problem}" for case in self.cases for problem in case_problems(case)]


def case_problems(case: CaseResult) -> list[str]:
    return [
        *(f"missed {c}" for c in case.missed),
        *(f"false alarm {c}" for c in case.false_alarms),
        *case.fact_misses,
        *case.severity_violations,
    ]


def load_cases(cases_dir: Path = CASES_DIR) -> list[DetectionCase]:
    """Every `*.yaml` case under `cases_dir`, sorted by name."""
    cases = []
    for path in sorted(Path(cases_dir).glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        data.setdefault("name", path.stem)
        cases.append(DetectionCase.model_validate(data))
    return cases


def check_case(case: DetectionCase, findings: list[Finding]) -> CaseResult:
    """Compare one case's labels with the findings diagnosed for its log."""
    found = sorted({f.category for f in findings})
    result = CaseResult(name=case.name, found=found)
    result.missed = [c for c in case.must_find if c not in found]
    result.false_alarms = [c for c in case.must_not_find if c in found]
    for fact in case.facts:
        cited = [f for f in findings if f.category == fact.category]
        stages = {s for f in cited for s in f.stage_ids}
        executions = {s for f in cited for s in f.sql_execution_ids}
        if not set(fact.stage_ids) <= stages or not set(fact.sql_execution_ids) <= executions:
            result.fact_misses.append(
                f"{fact.category} should cite stages {fact.stage_ids} / SQL {fact.sql_execution_ids}; "
                f"cited {sorted(stages)} / {sorted(executions)}"
            )
    if case.max_severity is not None:
        result.severity_violations = [
            f"{f.rule_id} is {f.severity.value}" for f in findings if f.severity.rank > case.max_severity.rank
        ]
    return result


def score_detection(
    cases_dir: Path | str = CASES_DIR,
    repo_root: Path = REPO_ROOT,
    progress: Callable[[int, int], None] | None = None,
) -> DetectionScore:
    """Diagnose every case's log and score the findings against the labels (`progress(done, total)` per case)."""
    from tools.eventlog import load_profile
    from tools.rules import diagnose

    score = DetectionScore()
    cases = load_cases(Path(cases_dir))
    for done, case in enumerate(cases, 1):
        findings = diagnose(load_profile(str(repo_root / case.log)), with_case_thresholds(case.thresholds))
        result = check_case(case, findings)
        score.cases.append(result)
        for category in case.must_find:
            cell = score.per_category.setdefault(category, CategoryScore())
            if category in result.found:
                cell.true_positives += 1
            else:
                cell.false_negatives += 1
        for category in case.must_not_find:
            cell = score.per_category.setdefault(category, CategoryScore())
            if category in result.found:
                cell.false_positives += 1
            else:
                cell.true_negatives += 1
        if progress is not None:
            progress(done, len(cases))
    for cell in score.per_category.values():
        score.overall.true_positives += cell.true_positives
        score.overall.false_positives += cell.false_positives
        score.overall.false_negatives += cell.false_negatives
        score.overall.true_negatives += cell.true_negatives
    score.per_category = dict(sorted(score.per_category.items()))
    return score


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render_table(score: DetectionScore) -> str:
    """The per-category table (Markdown) followed by the cases that did not pass."""
    lines = ["| category | TP | FP | FN | TN | precision | recall | F1 |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    rows = [*score.per_category.items(), ("**overall**", score.overall)]
    for name, cell in rows:
        lines.append(
            f"| {name} | {cell.true_positives} | {cell.false_positives} | {cell.false_negatives} | {cell.true_negatives} | "
            f"{_fmt(cell.precision)} | {_fmt(cell.recall)} | {_fmt(cell.f1)} |"
        )
    lines.append("")
    lines.append(f"{score.cases_passed}/{len(score.cases)} cases fully passed.")
    for case in score.cases:
        if not case.passed:
            lines.append(f"- {case.name}: " + "; ".join(case_problems(case)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases_dir", nargs="?", type=Path, default=CASES_DIR)
    args = parser.parse_args(argv)
    print(render_table(score_detection(args.cases_dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
