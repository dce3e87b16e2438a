"""Work Spark runs once more only to prepare a query (a schema-inference read, a global sort's sampling): the one
finding shape both rules report it in, and the share of the run (with the severity it earns) that rules reporting
a set of stages weigh their findings by."""

from __future__ import annotations

from tools.eventlog.model import SqlExecution, StageProfile
from tools.findings import Evidence, Finding, Recommendation, Savings, Severity
from tools.rules.measure import action_label, ev
from tools.rules.registry import RuleContext
from tools.units import count, human_duration, human_share

MODERATE_SHARE = 0.2  # our choice: work taking a fifth of the run is more than a detail
SHOWN = 4  # parts of a pass named in one finding


def listed(items: list[str], noun: str) -> str:
    """The first few items joined by '; ', then how many more `noun`s there are ('2 more jobs')."""
    text = "; ".join(items[:SHOWN])
    return text + (f"; {count(len(items) - SHOWN, 'more ' + noun)}" if len(items) > SHOWN else "")


def run_share(ctx: RuleContext, wall_ms: float) -> tuple[float | None, Severity]:
    """`wall_ms` as a share of the application's wall time (None when its duration is unknown), and the severity
    it earns: moderate from a fifth of the run, else low."""
    duration = ctx.profile.duration_ms
    share = wall_ms / duration if duration else None
    return share, Severity.moderate if share is not None and share >= MODERATE_SHARE else Severity.low


def stages_footprint(ctx: RuleContext, stages: list[StageProfile]) -> tuple[list[Evidence], Severity]:
    """What a set of stages spilled to disk and their share of the run's wall time, as evidence (each when known and
    not nil), with the severity the share earns (`run_share`)."""
    share, severity = run_share(ctx, float(sum(stage.duration_ms or 0 for stage in stages)))
    evidence = []
    spilled = sum(s.metrics.disk_bytes_spilled.sum for s in stages if s.metrics.disk_bytes_spilled)
    if spilled:
        evidence.append(ev("disk bytes spilled by those stages", spilled, "bytes"))
    if share is not None:
        evidence.append(ev("wall time of those stages / application wall time", share, "share"))
    return evidence, severity


def query_change_finding(ctx: RuleContext, execution: SqlExecution, stages: list[StageProfile], *, title: str,
                         evidence: list[Evidence], recommendation: Recommendation, saved_ms: float, method: str,
                         doc_query: str) -> Finding:
    """A finding on one SQL execution whose fix is a change to its query, saving `saved_ms` of task time: titled with
    the action, its stages' footprint added to `evidence`, with the severity their share of the run earns."""
    footprint, severity = stages_footprint(ctx, stages)
    return ctx.finding(
        title=f"{action_label(execution.execution_id, execution.description)}: {title}",
        evidence=evidence + footprint,
        recommendation=recommendation,
        savings=Savings(core_ms=saved_ms, wall_ms=ctx.spread(saved_ms), method=method, code_change_only=True),
        doc_query=doc_query,
        severity=severity,
        sql_execution_ids=[execution.execution_id],
        stage_ids=[stage.stage_id for stage in stages],
    )


def extra_pass_finding(ctx: RuleContext, *, title: str, kind: str, parts: str, counted: Evidence, wall_ms: float,
                       threshold: float, core_ms: float, extra: list[Evidence], recommendation: Recommendation,
                       method: str, doc_query: str, stage_ids: list[int],
                       sql_execution_ids: list[int] | None = None) -> Finding:
    """A finding for `parts` ('inference jobs') of a preparation pass (`kind`, 'inference'): its wall time (against
    `threshold`) and task time as evidence and as what the code change saves, with its share of the run; moderate
    from a fifth of the run, else low."""
    share, severity = run_share(ctx, wall_ms)
    evidence = [counted, ev(f"wall time of the {parts}", wall_ms, "ms", threshold), *extra,
                ev(f"task time of the {parts}", core_ms, "ms")]
    if share is not None:
        evidence.append(ev(f"{kind} time / application wall time", share, "share"))
    return ctx.finding(
        title=f"{title} ({human_duration(wall_ms)}" + (f", {human_share(share)} of the run)" if share is not None else ")"),
        evidence=evidence,
        recommendation=recommendation,
        savings=Savings(core_ms=core_ms, wall_ms=wall_ms, method=method, code_change_only=True),
        doc_query=doc_query,
        severity=severity,
        stage_ids=stage_ids,
        sql_execution_ids=sql_execution_ids,
    )
