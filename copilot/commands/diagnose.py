"""`copilot diagnose LOG [--json]` (ranked findings) and `copilot rules` (the rule catalog)."""

from __future__ import annotations

from typing import Annotated

import typer

WIDE_TABLE = 140  # columns the rules table needs before its cells stop wrapping


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
        from rich.markup import escape
        from rich.table import Table

        console = Console()
        thresholds = {r.rule_id: ", ".join(f"{k}={threshold_text(k, v)}" for k, v in r.thresholds.items()) for r in catalog}
        if console.width < WIDE_TABLE:
            # five columns squeezed into a terminal (80 columns when piped) wrap every cell: one block per rule
            console.print(f"[bold]{len(catalog)} rules[/bold]")
            for r in catalog:
                console.print(f"\n[bold]{r.rule_id}[/bold] · {r.category} · {r.severity.value}")
                console.print(f"  {escape(r.title)}")
                if thresholds[r.rule_id]:
                    console.print(f"  thresholds: {thresholds[r.rule_id]}", style="dim")
            return
        table = Table(title=f"{len(catalog)} rules")
        table.add_column("id", no_wrap=True)
        for column in ("category", "severity", "title", "thresholds"):
            table.add_column(column)
        for r in catalog:
            table.add_row(r.rule_id, r.category, r.severity.value, r.title, thresholds[r.rule_id])
        console.print(table)


def threshold_text(key: str, value: float) -> str:
    """A threshold in its unit, read off its name: '16 MiB', '100 MiB/s', '5.0 s', '3'."""
    from tools.units import human_duration, human_size

    if key.endswith("_bytes"):
        return human_size(value)
    if key.endswith("_bytes_per_s"):
        return f"{human_size(value)}/s"
    if key.endswith("_ms"):
        return human_duration(value)
    if key.endswith("_s"):
        return human_duration(value * 1000)
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _render(console, result) -> None:
    from rich.markup import escape

    from copilot.commands.findings_view import render_findings
    from tools.units import count

    console.print(f"[bold]{escape(result.app_name or result.app_id)}[/bold] ({result.app_id}): "
                  f"{count(len(result.findings), 'finding')}")
    render_findings(console, result.findings, numbered=True)
