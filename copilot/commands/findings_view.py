"""Findings on the terminal, one block each: title, evidence in the report's units, the change, what it saves.

Shared by `copilot diagnose`, `cost`, `table` and `streaming`, so a finding reads the same in every command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from tools.findings import Finding

SEVERITY_STYLE = {"info": "dim", "low": "cyan", "moderate": "yellow", "severe": "red", "critical": "bold red"}


def render_findings(console: Console, findings: list[Finding], numbered: bool = False) -> None:
    from rich.markup import escape

    from graph.report_text import savings_line
    from graph.units import number

    if not findings:
        console.print("[green]No findings.[/green]")
        return
    for rank, f in enumerate(findings, 1):
        style = SEVERITY_STYLE.get(f.severity.value, "")
        console.print(f"\n{f'{rank}. ' if numbered else ''}[{style}]{f.severity.value.upper()}[/{style}] "
                      f"{escape(f'[{f.category}]')} {escape(f.title)}  [dim]({f.rule_id})[/dim]")
        for e in f.evidence:
            threshold = f" ({e.threshold_word} {number(e.threshold, e.unit)})" if e.threshold is not None else ""
            where = f" [stage {e.stage_id}]" if e.stage_id is not None else ""
            console.print(f"   - {escape(e.name)}: {escape(number(e.value, e.unit))}{threshold}{escape(where)}")
        console.print(f"   fix: {escape(f.recommendation.summary)}")
        for c in f.recommendation.config_changes:
            console.print(f"     {c.key} = {escape(c.value)}  (now: {escape(c.current or 'unset')})")
        if f.recommendation.code_change:
            console.print(f"     code: {escape(f.recommendation.code_change)}")
        s = f.estimated_savings
        if s.cost or s.core_ms or s.wall_ms or s.memory_gb_ms:
            console.print(f"   saves ~{escape(savings_line(s))}: {escape(s.method)}")
