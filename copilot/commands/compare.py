"""`copilot compare`: one run against another, straight from their event logs."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare_command(
        baseline: Path = typer.Argument(..., help="Event log of the run to compare against (e.g. yesterday's)."),
        log: Path = typer.Argument(..., help="Event log of the run to explain (e.g. today's)."),
        json_output: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
    ) -> None:
        """Why a run differs from another: runtime, executors, data, settings that differ, stages that grew, findings."""
        from copilot.python_api import compare

        comparison = compare(baseline, log)
        if json_output:
            typer.echo(comparison.model_dump_json(indent=2))
            return
        from graph.comparison import comparison_text

        typer.echo(comparison_text(comparison))
