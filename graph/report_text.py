"""Small text pieces every renderer shares (savings line, effect line, citation line)."""

from __future__ import annotations

import re

from graph import units
from graph.report import AppSummary, Citation, PredictedEffect, Report, ReportFinding, WhatIfPoint, what_if_axis, what_if_size
from tools.eventlog.model import AppProfile
from tools.findings import Finding, Savings

STAGES_SHOWN = 8


def savings_period(app: AppSummary | AppProfile) -> str:
    """'per run'; for a streaming application, which has no runs, the period its log covers: 'over the 3.2 h
    logged' (the savings are measured over what the log holds)."""
    if app.streaming and app.duration_ms:
        return f"over the {units.duration(app.duration_ms)} logged"
    return "per run"


def report_period(report: Report, app_id: str | None = None) -> str:
    """The savings period of the report's app `app_id` (of its only app when None; 'per run' for several)."""
    apps = [a for a in report.apps if app_id is None or a.app_id == app_id]
    return savings_period(apps[0]) if len(apps) == 1 else "per run"


def ran_no_task(report: Report) -> bool:
    """Whether no application of the report has a finished task (an empty or cut-off log): no rule had data."""
    return bool(report.apps) and all(app.tasks == 0 and not app.streaming for app in report.apps)


def no_findings_text(report: Report) -> str:
    """The line a report without findings shows: nothing to change, or nothing to check when no task ran."""
    if ran_no_task(report):
        return "No findings: the log records no finished task, so there was nothing to check."
    return "No findings: nothing worth changing was detected."


def savings_text(item: ReportFinding, report: Report) -> str:
    return savings_line(item.finding.estimated_savings, report_period(report, item.app_id))


def savings_line(s: Savings, period: str = "per run") -> str:
    """What a finding saves per run (or over the period a stream's log covers), in the report's units ("not
    estimated" when nothing is)."""
    parts = []
    if s.cost:
        parts.append(f"{units.money(s.cost, s.currency)} {period}")
    if s.core_ms:
        parts.append(f"{units.duration(s.core_ms)} core time")
    if s.wall_ms:
        parts.append(f"{units.duration(s.wall_ms)} wall time")
    if s.memory_gb_ms:
        parts.append(f"{units.gb_hours(s.memory_gb_ms)} executor memory")
    text = ", ".join(parts) if parts else "not estimated"
    # the predicted effect covers the whole change; this line may leave out time another finding counts
    return text + (f"; not counting {s.counted_elsewhere}" if s.counted_elsewhere else "")


def effect_text(effect: PredictedEffect | None) -> str:
    if effect is None:
        return "not predicted"
    text = f"{units.duration(effect.runtime_before_ms)} -> {units.duration(effect.runtime_after_ms)}"
    if effect.runtime_low_ms is not None and effect.runtime_high_ms is not None:
        uncertain = ", which includes no change" if effect.direction == "uncertain" else ""
        text += f" (likely {units.duration_range(effect.runtime_low_ms, effect.runtime_high_ms)}{uncertain})"
    if effect.method:
        text += f" [{effect.method}]"
    if effect.cost_before is not None and effect.cost_after is not None:
        text += f", cost {units.money(effect.cost_before, effect.currency)} -> {units.money(effect.cost_after, effect.currency)}"
    if effect.caveats:
        text += "; caveat: " + "; ".join(effect.caveats)
    return text


def citation_text(c: Citation) -> str:
    heading = c.heading[len(c.source):].lstrip(" >") if c.heading.startswith(c.source) else c.heading
    where = c.source + (f" > {heading}" if heading else "")
    return where + (f" <{c.url}>" if c.url else "")


def header_description(app: AppSummary, narrative: str | None) -> str:
    """The app's one-line description for its header, '' when the narrative opens with it (the template's does)."""
    return "" if app.description and (narrative or "").startswith(app.description) else app.description


def stage_list(finding: Finding) -> str:
    """'stages 1, 5' for a finding's heading; '' when it has none or its title already names its one stage."""
    ids = finding.stage_ids
    if not ids or (len(ids) == 1 and re.match(rf"Stage {ids[0]}\b", finding.title)):
        return ""
    text = ("stage " if len(ids) == 1 else "stages ") + ", ".join(map(str, ids[:STAGES_SHOWN]))
    return text + (f" (+{len(ids) - STAGES_SHOWN} more)" if len(ids) > STAGES_SHOWN else "")


def app_line(app: AppSummary) -> str:
    parts = [f"runtime {units.duration(app.duration_ms)}", units.executors(app.executors, app.peak_executors)]
    if app.total_cores:
        parts.append(units.count(app.total_cores, "core"))
    parts.append(units.count(app.tasks, "task"))
    if app.failed_tasks:
        parts.append(f"{app.failed_tasks:,} failed")
    if app.core_utilization is not None:
        parts.append(f"core utilization {units.percent(app.core_utilization)}")
    if app.cost:
        parts.append(f"cost {units.money(app.cost.amount, app.cost.currency)}")
    return " | ".join(parts)


def evidence_cells(item: ReportFinding) -> list[str]:
    from graph.compose import evidence_line

    return [evidence_line(e) for e in item.finding.evidence]


FLAT_WITHIN = 0.05  # a curve point this close to the fastest one is as fast, within the simulator's accuracy


def where_it_flattens(points: list[WhatIfPoint], currency: str | None = None) -> str:
    """The fewest executors (cores in local mode) whose simulated runtime is within 5% of the fastest point's, said
    against today's count: the answer to 'how many executors should I use?' that the curve alone leaves to the reader
    (the chat's answer and the line under every report's what-if table). With `currency`, what the fewer cost."""
    axis = what_if_axis(points)
    current = next((p for p in points if p.current), points[0])
    ordered = sorted(points, key=lambda p: what_if_size(p, axis))
    fastest = min(p.runtime_ms for p in ordered)
    knee = next(p for p in ordered if p.runtime_ms <= fastest * (1 + FLAT_WITHIN))
    size, now = what_if_size(knee, axis), what_if_size(current, axis)
    if size == now:
        fewer = [p for p in ordered if what_if_size(p, axis) < now]
        slower = (f"; fewer make it slower ({units.count(what_if_size(fewer[-1], axis), axis)}: "
                  f"{units.duration(fewer[-1].runtime_ms)})") if fewer else ""
        return (f"The curve flattens at {units.count(now, axis)}, today's count: more do not make this run faster "
                f"(its longest tasks and the driver's own time bound it){slower}.")
    if size > now:
        return (f"More {axis}s help up to {size}: {units.duration(knee.runtime_ms)} against "
                f"{units.duration(current.runtime_ms)} now ({units.percent(1 - knee.runtime_ms / current.runtime_ms)} "
                "faster); beyond that the curve is flat.")
    text = (f"The curve flattens at {units.count(size, axis)}: {units.duration(knee.runtime_ms)} against "
            f"{units.duration(current.runtime_ms)} now, so the {units.count(now - size, axis)} above that "
            f"{'adds' if now - size == 1 else 'add'} cost, not speed")
    if currency is not None and knee.cost is not None and current.cost is not None:
        text += f"; {size} would cost about {units.money(knee.cost, currency)} against {units.money(current.cost, currency)}"
    return text + "."


def what_if_table(app: AppSummary) -> tuple[str, list[str], list[tuple[list[str], bool]]]:
    """The what-if table every report format prints: its title, column headings and rows (cells, is the run's own).
    A local-mode curve varies the cores of the one JVM, so its rows are counted in cores."""
    axis = what_if_axis(app.what_if)
    currency = app.cost.currency if app.cost else "USD"
    title = "What if: executor count" if axis == "executor" else "What if: core count (local mode, one JVM)"
    headings = (["executors", "cores each"] if axis == "executor" else ["cores"]) + ["runtime", "likely range", "cost"]
    rows = []
    for p in app.what_if:
        size = f"{what_if_size(p, axis)}{' (now)' if p.current else ''}"
        cells = [size, str(p.cores_per_executor or "")] if axis == "executor" else [size]
        cells += [units.duration(p.runtime_ms), units.duration_range(p.runtime_low_ms, p.runtime_high_ms, " - "),
                  units.money(p.cost, currency) if p.cost is not None else ""]
        rows.append((cells, p.current))
    return title, headings, rows
