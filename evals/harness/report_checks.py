"""Coverage and actionability of a report, checked against a labeled case."""

from __future__ import annotations

from pydantic import BaseModel

from graph.report import Report, ReportFinding


class CategoryCoverage(BaseModel):
    """Whether an expected category's finding is in the report, recommended and cited."""

    category: str
    found: bool
    recommended: bool
    cited: bool

    @property
    def covered(self) -> bool:
        return self.found and self.recommended and self.cited


def is_actionable(item: ReportFinding) -> bool:
    """A concrete change: a config key with a value, or a code change in words."""
    recommendation = item.finding.recommendation
    configs = [c for c in recommendation.config_changes if c.key.strip() and c.value.strip()]
    return bool(configs) or bool((recommendation.code_change or "").strip())


def check_coverage(report: Report, expected: list[str]) -> list[CategoryCoverage]:
    """For each expected category: its best finding in the report, with recommendation and citation."""
    coverage = []
    for category in expected:
        items = [f for f in report.findings if f.finding.category == category]
        coverage.append(
            CategoryCoverage(
                category=category,
                found=bool(items),
                recommended=any(is_actionable(f) and f.finding.recommendation.summary.strip() for f in items),
                cited=any(f.citations for f in items),
            )
        )
    return coverage


def forbidden_present(report: Report, forbidden: list[str]) -> list[str]:
    """Categories the case says must not be reported but are."""
    reported = {f.finding.category for f in report.findings}
    return [c for c in forbidden if c in reported]
