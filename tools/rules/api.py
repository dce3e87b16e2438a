"""Entry points the CLI and other packages call: diagnose a log path, list the rule catalog."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tools.findings import Category, Finding, Severity
from tools.rules.registry import diagnose, load_rules
from tools.rules.thresholds import RuleThresholds


class AppDiagnosis(BaseModel):
    """The ranked findings of one application."""

    app_id: str
    app_name: str = ""
    log_path: str
    findings: list[Finding] = Field(default_factory=list)


class RuleInfo(BaseModel):
    """One rule as `copilot rules` lists it, with the current values of the thresholds it reads."""

    rule_id: str
    title: str
    category: Category
    severity: Severity
    description: str
    thresholds: dict[str, float | int] = Field(default_factory=dict)


def diagnose_path(log: str, thresholds: RuleThresholds | None = None) -> list[AppDiagnosis]:
    """Diagnose every application found at `log` (a file, a rolling/Databricks directory, or a directory of logs)."""
    from tools.errors import EventLogError
    from tools.eventlog import discover_applications, load_profile

    refs = discover_applications(log)
    if not refs:
        raise EventLogError(f"no Spark event logs found under {log}")
    results = []
    for ref in refs:
        profile = load_profile(ref.path)
        results.append(
            AppDiagnosis(
                app_id=profile.app_id,
                app_name=profile.app_name,
                log_path=ref.path,
                findings=diagnose(profile, thresholds),
            )
        )
    return results


def rule_catalog(thresholds: RuleThresholds | None = None) -> list[RuleInfo]:
    """Every registered rule with its metadata and current threshold values."""
    values = thresholds or RuleThresholds()
    return [
        RuleInfo(
            rule_id=r.rule_id,
            title=r.title,
            category=r.category,
            severity=r.severity,
            description=r.description,
            thresholds=values.flat(r.thresholds),
        )
        for r in load_rules().values()
    ]
