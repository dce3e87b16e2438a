"""`copilot predict` and `copilot whatif`: runtime under a configuration change, and the executor-count curve."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("predict")
    def predict_command(
        log: Path = typer.Argument(..., help="Event log (file or rolling-log directory) of the observed run."),
        changes: list[str] = typer.Option(
            [], "--set", "-s", help="A change as key=value, e.g. spark.sql.shuffle.partitions=400 (repeatable)."
        ),
        json_output: bool = typer.Option(False, "--json", help="Print the prediction as JSON."),
    ) -> None:
        """Predict the runtime with some Spark settings changed (model, simulator, or both)."""
        from copilot.settings import get_settings
        from models.predict import parse_assignments, predict_from_log
        from tools.cost import pricing_from_settings

        settings = get_settings()
        prediction = predict_from_log(log, parse_assignments(changes), settings.model_path,
                                      pricing_from_settings(settings.pricing))
        if json_output:
            typer.echo(prediction.model_dump_json(indent=2))
            return
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        from graph.units import duration, duration_range, money, speed_change

        table = Table(title=f"{prediction.app_id}: predicted runtime", show_header=False)
        table.add_row("changes", ", ".join(f"{k}={v}" for k, v in prediction.changes.items()) or "(none)")
        table.add_row("observed", duration(prediction.observed_duration_ms))
        verdict = speed_change(prediction.speedup)
        if prediction.direction == "uncertain":
            verdict += "; the interval includes the observed runtime"
        table.add_row("predicted", f"{duration(prediction.estimated_duration_ms)}  ({verdict})")
        table.add_row(f"{prediction.interval:.0%} interval", duration_range(prediction.low_ms, prediction.high_ms))
        if prediction.estimated_cost is not None:
            table.add_row("cost", f"{money(prediction.observed_cost, prediction.currency)} now -> "
                                  f"{money(prediction.estimated_cost, prediction.currency)}  "
                                  f"({money(prediction.low_cost, prediction.currency)} to "
                                  f"{money(prediction.high_cost, prediction.currency)})")
        table.add_row("answered by", prediction.component)
        console = Console()
        console.print(table)
        for caveat in prediction.caveats:
            console.print(f"[yellow]caveat:[/yellow] {escape(caveat)}")

    @app.command("whatif")
    def whatif_command(
        log: Path = typer.Argument(..., help="Event log (file or rolling-log directory)."),
        json_output: bool = typer.Option(False, "--json", help="Print the curve as JSON."),
    ) -> None:
        """Simulated runtime for 0.25x..4x the observed executors (or cores in local mode)."""
        from tools.simulate import what_if_from_log

        curve = what_if_from_log(log)
        if json_output:
            typer.echo(curve.model_dump_json(indent=2))
            return
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        from graph.units import duration, percent

        table = Table(title=f"{curve.app_id}: what if the executors change")
        for column in ("executors x cores", "estimated", "speed-up", "utilization"):
            table.add_column(column, justify="right")
        for p in curve.points:
            style = "bold" if abs(p.factor - 1.0) < 1e-9 else None
            table.add_row(f"{p.executors} x {p.cores}", duration(p.estimated_duration_ms), f"x{p.speedup:.2f}",
                          percent(p.utilization), style=style)
        console = Console()
        console.print(table)
        error = "-" if curve.error_pct is None else f"{curve.error_pct:+.1f}%"
        console.print(
            f"observed {duration(curve.observed_duration_ms)} on {curve.observed_executors} x {curve.observed_cores} "
            f"({curve.resources_source}); simulator error on it: {error}; "
            f"floor with unlimited slots (critical path) {duration(curve.lower_bound_ms)}"
        )
        for caveat in curve.caveats:
            console.print(f"[yellow]caveat:[/yellow] {escape(caveat)}")
