"""`copilot diagnose LOG [--json]` (ranked findings) and `copilot rules` (the rule catalog)."""

from __future__ import annotations

from typing import Annotated

import typer

SEVERITY_STYLE = {"info": "dim", "low": "cyan", "moderate": "yellow", "severe": "red", "critical": "bold red"}


def register(app: typer.Typer) -> None:
    @app.command()
    def diagnose(
        log: Annotated[str, typer.Argument(help="Event log file, rolling/Databricks directory, or a directory of logs.")],
        json_output: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    ) -> None:
        """Diagnose a Spark application: findings ranked by estimated savings, with evidence and fixes."""
        from copilot.settings import get_settings
        from tools.rules.api import diagnose_path

        results = diagnose_path(log, get_settings().rules)
        if json_output:
            import json

            if len(results) == 1:
                data: object = [f.model_dump(mode="json") for f in results[0].findings]
            else:
                data = [r.model_dump(mode="json") for r in results]
            typer.echo(json.dumps(data, indent=2))
            return
        from rich.console import Console

        console = Console()
        for index, result in enumerate(results):
            if index:
                console.rule()
            _render(console, result)

    @app.command()
    def rules(
        json_output: Annotated[bool, typer.Option("--json", help="Print the catalog as JSON.")] = False,
    ) -> None:
        """List every diagnostic rule with its id, category, severity and thresholds."""
        from copilot.settings import get_settings
        from tools.rules.api import rule_catalog

        catalog = rule_catalog(get_settings().rules)
        if json_output:
            import json

            typer.echo(json.dumps([r.model_dump(mode="json") for r in catalog], indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{len(catalog)} rules")
        table.add_column("id", no_wrap=True)
        for column in ("category", "severity", "title", "thresholds"):
            table.add_column(column)
        for r in catalog:
            table.add_row(
                r.rule_id,
                r.category,
                r.severity.value,
                r.title,
                ", ".join(f"{k}={v:g}" for k, v in r.thresholds.items()),
            )
        Console().print(table)


def _render(console, result) -> None:
    from rich.markup import escape

    from graph.report_text import savings_line
    from graph.units import number

    console.print(f"[bold]{escape(result.app_name or result.app_id)}[/bold] ({result.app_id}): "
                  f"{len(result.findings)} finding(s)")
    for rank, f in enumerate(result.findings, 1):
        style = SEVERITY_STYLE.get(f.severity.value, "")
        console.print(f"\n{rank}. [{style}]{f.severity.value.upper()}[/{style}] [{f.category}] {escape(f.title)}  "
                      f"[dim]({f.rule_id})[/dim]")
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
        if s.core_ms or s.wall_ms or s.memory_gb_ms:
            console.print(f"   saves ~{escape(savings_line(s))}: {escape(s.method)}")
