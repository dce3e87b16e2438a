"""What flows through the analysis graph: typed state with reducers for the parallel specialists."""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

from pydantic import BaseModel, Field

from graph.report import Citation, Cost, PredictedEffect, Report, SpecialistRun, TableSummary, WhatIfPoint
from tools.eventlog.model import AppProfile
from tools.findings import Finding


class AppFinding(BaseModel):
    """A finding tied to the application it was found in and the specialist that found it."""

    app_id: str
    specialist: str
    finding: Finding

    @property
    def key(self) -> str:
        stages = ",".join(str(s) for s in sorted(self.finding.stage_ids))
        return f"{self.app_id}:{self.finding.rule_id}:{stages}"


class AppArtifacts(BaseModel):
    """Per-application results that are not findings (what-if curve, cost, predictions)."""

    app_id: str
    what_if: list[WhatIfPoint] = Field(default_factory=list)
    cost: Cost | None = None
    effects: dict[str, PredictedEffect] = Field(default_factory=dict)  # finding key -> effect
    notes: list[str] = Field(default_factory=list)


class Question(BaseModel):
    """The user's question, parsed just enough to steer routing."""

    text: str = ""
    stage_ids: list[int] = Field(default_factory=list)
    longest_stage: bool = False  # 'which stage took longest?': the report answers with that stage's figures
    executors: int | None = None
    topics: list[str] = Field(default_factory=list)  # specialist names the question points at
    # the chat topic it names ('what was cached?': caching) and the findings that answer it
    subject: str | None = None
    categories: list[str] = Field(default_factory=list)
    rule_ids: list[str] = Field(default_factory=list)


def merge_findings(left: list[AppFinding], right: list[AppFinding]) -> list[AppFinding]:
    """Union of findings from parallel specialists; the same rule on the same stages counts once."""
    merged = {f.key: f for f in left}
    for item in right:
        merged.setdefault(item.key, item)
    return list(merged.values())


def merge_artifacts(left: dict[str, AppArtifacts], right: dict[str, AppArtifacts]) -> dict[str, AppArtifacts]:
    """Combine per-app artifacts written by different specialists (each fills different fields)."""
    out = dict(left)
    for app_id, new in right.items():
        old = out.get(app_id)
        if old is None:
            out[app_id] = new
            continue
        out[app_id] = AppArtifacts(
            app_id=app_id,
            what_if=new.what_if or old.what_if,
            cost=new.cost or old.cost,
            effects={**old.effects, **new.effects},
            notes=old.notes + new.notes,
        )
    return out


def merge_citations(left: dict[str, list[Citation]], right: dict[str, list[Citation]]) -> dict[str, list[Citation]]:
    return {**left, **right}


class AnalysisState(TypedDict, total=False):
    """The analysis graph's state. Lists written by parallel specialists carry reducers."""

    logs: list[str]
    question: Question
    table: str | None
    profiles: list[AppProfile]
    routes: dict[str, str]  # specialist -> reason it was chosen
    findings: Annotated[list[AppFinding], merge_findings]
    priced_findings: list[AppFinding]  # findings after pricing (rank node), what the report ranks
    artifacts: Annotated[dict[str, AppArtifacts], merge_artifacts]
    table_summary: TableSummary | None
    specialist_runs: Annotated[list[SpecialistRun], operator.add]
    caveats: Annotated[list[str], operator.add]
    citations: Annotated[dict[str, list[Citation]], merge_citations]
    draft: Report | None
    violations: list[str]
    attempts: int
    report: Report | None


class SpecialistInput(TypedDict):
    """What `Send` hands one specialist: its name, why it runs, and the shared inputs it reads."""

    name: str
    reason: str
    profiles: list[AppProfile]
    question: Question
    table: str | None
    extra_categories: list[str]  # categories of specialists the router did not choose (metadata takes them)
