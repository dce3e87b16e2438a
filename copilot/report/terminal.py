"""The report for people at a terminal (rich): summary, ranked findings with the lines to paste, what-if, caveats."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from graph import units
from graph.report import Report, ReportFinding
from graph.report_text import (app_line, citation_text, effect_text, evidence_cells, header_description, no_findings_text,
                               savings_text, stage_list, what_if_table, where_it_flattens)

SEVERITY_STYLE = {"critical": "bold red", "severe": "red", "moderate": "yellow", "low": "cyan", "info": "dim"}
PATH_LABEL = {"llm": "written by the LLM, verified", "llm-retry": "written by the LLM (second try), verified",
              "template": "built-in template"}


def render_terminal(report: Report, console: Console) -> None:
    """Print the report to a rich console."""
    console.print(Panel(Text(report.headline or "Analysis", style="bold"), title="Spark Copilot", subtitle=PATH_LABEL[report.path]))
    for app in report.apps:
        console.print(Text(f"{app.app_name or app.app_id}  ({app.app_id})", style="bold"))
        if description := header_description(app, report.narrative):
            console.print(Text(f"  {description}"))
        console.print(Text(f"  {app_line(app)}", style="dim" if not app.cost else ""))
    if report.narrative:
        console.print()
        console.print(Text(report.narrative))  # written text (maybe by an LLM), never rich markup
    if report.question:
        console.print(Text(f"\nYour question: {report.question}", style="italic"))
        console.print(Panel(Text(report.answer), title="answer", title_align="left", border_style="cyan"))
    console.print()
    if not report.findings:
        console.print(Text(no_findings_text(report), style="green"))
    for item in report.findings:
        console.print(_finding_panel(item, report))
    for app in report.apps:
        if app.what_if:
            console.print(_what_if_table(app))
            console.print(Text(where_it_flattens(app.what_if, app.cost.currency if app.cost else None)))
    if report.table:
        t = report.table
        console.print(Text.assemble(("Table", "bold"), f" {t.path}: {t.format}, {t.file_count:,} files, {units.size(t.total_bytes)}, "
                      f"median file {units.size(t.median_file_bytes)}, {t.small_files:,} small files"
                      + (f", partitioned by {', '.join(t.partition_columns)} ({t.partitions:,} partitions)" if t.partition_columns else "")))
    if report.caveats:
        console.print(Text("Caveats", style="bold"))
        for caveat in report.caveats:
            console.print(Text(f"  - {caveat}"))
    ran = ", ".join(f"{s.name} ({s.mode})" for s in report.specialists)
    if ran:
        console.print(Text(f"Specialists: {ran}", style="dim"))


def _finding_panel(item: ReportFinding, report: Report) -> Panel:
    f = item.finding
    style = SEVERITY_STYLE.get(f.severity.value, "")
    parts: list = []
    if item.explanation:
        parts.append(Text(item.explanation))
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    # Text(): the cells are data, not rich markup ("[runtime model]", "local[4]" would vanish)
    for line in item.where:
        facts.add_row("where", Text(line))
    for line in evidence_cells(item):
        facts.add_row("evidence", Text(line))
    facts.add_row("saves", Text(savings_text(item, report)))
    facts.add_row("effect", Text(effect_text(item.predicted_effect)))
    facts.add_row("do", Text(f.recommendation.summary))
    if f.recommendation.code_change and f.recommendation.code_change != f.recommendation.summary:
        facts.add_row("code", Text(f.recommendation.code_change))
    parts.append(facts)
    if item.conf_flags:
        paste = "\n".join(item.conf_flags) + "\n\n" + "\n".join(item.conf_set_lines)
        parts.append(Panel(Text(paste, style="green"), title="paste", title_align="left", box=box.SIMPLE))
    for c in item.citations:
        parts.append(Text(f"docs: {citation_text(c)}", style="blue"))
    stages = f" {stage_list(f)}" if stage_list(f) else ""
    title = Text.assemble((f"#{item.rank} ", "bold"), (f"[{f.severity.value}] ", style), (f.title, "bold"), (stages, "dim"))
    return Panel(Group(*parts), title=title, title_align="left", border_style=style or "white")


def _what_if_table(app) -> Table:
    title, headings, rows = what_if_table(app)
    table = Table(title=f"{title} ({app.app_id})", box=box.SIMPLE_HEAD)
    for heading in headings:
        table.add_column(heading, justify="right")
    for cells, current in rows:
        table.add_row(*cells, style="bold" if current else None)
    return table


def render_terminal_text(report: Report, width: int = 110, color: bool = False) -> str:
    """The terminal rendering captured as text (for --out and tests)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, color_system="standard" if color else None,
                      highlight=False)
    render_terminal(report, console)
    return buffer.getvalue()
