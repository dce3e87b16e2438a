"""The scorecard as rich tables on the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from evals.harness.scorecard import Scorecard
from evals.harness.writers import STATUS_TEXT, format_change, format_metric

STATUS_STYLE = {"ok": "green", "not_available": "yellow", "error": "red"}
MAX_MISSES_SHOWN = 10


def print_scorecard(scorecard: Scorecard, console: Console) -> None:
    """Summary, each suite's metrics (with change since last run when compared), misses, gate verdict."""
    summary = Table(title=f"Evaluation {scorecard.run_id}", title_justify="left")
    for column in ("suite", "status", "items", "time (s)"):
        summary.add_column(column)
    for result in scorecard.results:
        style = STATUS_STYLE[result.status]
        summary.add_row(
            result.suite, f"[{style}]{STATUS_TEXT[result.status]}[/]", str(result.items), f"{result.duration_s:.1f}"
        )
    console.print(summary)
    changes = {(c.suite, c.metric): c for c in scorecard.comparison.changes} if scorecard.comparison else {}
    for result in scorecard.results:
        if result.status != "ok":
            console.print(f"[{STATUS_STYLE[result.status]}]{result.suite}: {STATUS_TEXT[result.status]}[/] — {result.reason}")
            continue
        table = Table(title=result.suite, title_justify="left")
        table.add_column("metric")
        table.add_column("value", justify="right")
        if scorecard.comparison is not None:
            table.add_column("change since last run", justify="right")
        for metric in result.metrics:
            row = [metric.name, format_metric(metric)]
            if scorecard.comparison is not None:
                change = changes.get((result.suite, metric.name))
                text = format_change(change)
                colour = {"better": "green", "worse": "red"}.get(change.verdict if change else "", "")
                row.append(f"[{colour}]{text}[/]" if colour else text)
            table.add_row(*row)
        console.print(table)
        for line in result.misses[:MAX_MISSES_SHOWN]:
            console.print(f"  [yellow]miss[/] {line}", highlight=False)
        if len(result.misses) > MAX_MISSES_SHOWN:
            console.print(f"  ... {len(result.misses) - MAX_MISSES_SHOWN} more misses in the Markdown scorecard")
        for note in result.notes:
            console.print(f"  [dim]note[/] {note}", highlight=False)
    if scorecard.comparison is not None and scorecard.comparison.previous_run_id is None:
        console.print(f"compare: {scorecard.comparison.note}")
    if scorecard.llm_model:
        console.print(f"LLM judge: {scorecard.llm_model}")
    if scorecard.gate is not None:
        if scorecard.gate.passed:
            console.print(f"[green]gate passed[/]: {scorecard.gate.checked} thresholds checked")
        else:
            console.print(f"[red]gate FAILED[/]: {len(scorecard.gate.violations)} violation(s)")
            for violation in scorecard.gate.violations:
                console.print(f"  [red]✗[/] {violation.message}", highlight=False)
    for kind, path in scorecard.outputs.items():
        console.print(f"[dim]{kind}: {path}[/]")
