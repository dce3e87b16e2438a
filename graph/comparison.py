"""Offline answer to 'compare the two runs' / 'why is this run slower than the last one?' when two logs are loaded.

The run loaded last is compared with the one loaded before it (`Toolbox.compare_runs`; `copilot compare` takes
the two logs on the command line): runtime, cluster size,
data volumes, the settings that differ, the stages that changed most and the metrics that grew with them, and
the findings that appeared or went away.
"""

from __future__ import annotations

from graph import units
from graph.sql_plans import id_ranges
from graph.tools import Toolbox
from tools.compare import MetricChange, RunComparison, setting_text

STAGES_SHOWN = 3
SETTINGS_SHOWN = 10


def comparison_answer(toolbox: Toolbox) -> str:
    return comparison_text(toolbox.compare_runs())


def comparison_text(c: RunComparison) -> str:
    """The comparison in sentences (the chat's answer and `copilot compare`)."""
    lines = [_headline(c)]
    if c.spark_version_before != c.spark_version_after:
        lines.append(f"Spark {c.spark_version_before or '?'} -> {c.spark_version_after or '?'}.")
    if (c.peak_executors_before, c.cores_before) != (c.peak_executors_after, c.cores_after):
        lines.append(f"Executors at the peak {c.peak_executors_before} -> {c.peak_executors_after}, "
                     f"cores {c.cores_before or '?'} -> {c.cores_after or '?'}.")
    grown = [t for t in c.totals if t.before != t.after]
    if grown:
        lines.append("Totals: " + "; ".join(_change(t) for t in grown) + ".")
    if c.settings:
        shown = [setting_text(s) for s in c.settings[:SETTINGS_SHOWN]]
        more = f" (+{len(c.settings) - SETTINGS_SHOWN} more)" if len(c.settings) > SETTINGS_SHOWN else ""
        lines.append(f"Settings that differ{more}:\n" + "\n".join(f"  {row}" for row in shown))
    else:
        lines.append("Both runs set the same Spark properties.")
    changed = [d for d in c.stages if d.duration_delta_ms][:STAGES_SHOWN]
    if changed:
        lines.append("Stages that changed most:\n" + "\n".join(
            f"  {d.label(named=True)} {'+' if d.duration_delta_ms > 0 else '-'}{units.duration(abs(d.duration_delta_ms))} "
            f"({units.duration(d.duration_before_ms)} -> {units.duration(d.duration_after_ms)}): {d.reason}" for d in changed))
    if c.stages_only_before or c.stages_only_after:
        lines.append("Stages in one run only: "
                     + "; ".join(part for part in (
                         f"the earlier run's {id_ranges(c.stages_only_before, 'stage')}" if c.stages_only_before else "",
                         f"this run's {id_ranges(c.stages_only_after, 'stage')}" if c.stages_only_after else "") if part)
                     + " (different code or data gives different stages).")
    if c.findings_new:
        lines.append("Findings new in this run:\n" + "\n".join(f"  - {f.title}" for f in c.findings_new))
    if c.findings_gone:
        lines.append("Findings of the earlier run gone in this one:\n" + "\n".join(f"  - {f.title}" for f in c.findings_gone))
    return "\n".join(lines)


def _headline(c: RunComparison) -> str:
    after, before = units.duration(c.duration_after_ms), units.duration(c.duration_before_ms)
    verdict = f": {units.speed_change(1 / c.duration_ratio)}" if c.duration_ratio else ""
    return (f"{c.name or c.app_id} ({c.app_id}) took {after} against {before} for {c.baseline_name or c.baseline_app_id} "
            f"({c.baseline_app_id}, the baseline){verdict}.")


def _change(t: MetricChange) -> str:
    ratio = f" ({t.ratio:.1f}x)" if t.ratio is not None else ""
    return f"{t.label} {units.number(t.before, t.unit)} -> {units.number(t.after, t.unit)}{ratio}"
