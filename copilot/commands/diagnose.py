"""`copilot diagnose LOG [--json]` (ranked findings) and `copilot rules` (the rule catalog)."""

from __future__ import annotations

from typing import Annotated

import typer

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

    from copilot.commands.findings_view import render_findings

    console.print(f"[bold]{escape(result.app_name or result.app_id)}[/bold] ({result.app_id}): "
                  f"{len(result.findings)} finding(s)")
    render_findings(console, result.findings, numbered=True)
