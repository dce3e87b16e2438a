"""`copilot cost LOG [--instance-type NAME] [--pricing-file FILE] [--json]`: what an application cost and what its findings save."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from tools.cost import CostReport


def register(app: typer.Typer) -> None:
    @app.command()
    def cost(
        log: Annotated[str, typer.Argument(help="Event log (file, rolling directory, URL, or shs://host:port/app-id).")],
        instance_type: Annotated[str | None, typer.Option("--instance-type", help="Price by this instance type from the pricing file.")] = None,
        pricing_file: Annotated[Path | None, typer.Option("--pricing-file", help="TOML file merged over the default prices.")] = None,
        json_output: Annotated[bool, typer.Option("--json", help="Print the cost report as JSON.")] = False,
    ) -> None:
        """Cost of an application from its executor timeline, the idle part, and the money each finding saves."""
        from copilot.settings import get_settings
        from tools.cost import cost_report, pricing_from_settings
        from tools.eventlog import load_profile
        from tools.rules import diagnose

        pricing = pricing_from_settings(get_settings().pricing, file=pricing_file, instance_type=instance_type)
        from copilot.commands.sources import local_log

        profile = load_profile(local_log(log))
        report = cost_report(profile, pricing, diagnose(profile))
        if json_output:
            typer.echo(report.model_dump_json(indent=2))
            return
        from rich.console import Console

        render_cost(Console(), report)


def render_cost(console: Console, report: CostReport) -> None:
    from rich.markup import escape

    from copilot.commands.findings_view import render_findings
    from graph.units import executors, figure, money, percent

    c = report.cost
    console.print(f"{c.app_id}  prices: {c.pricing}", markup=False, style="bold")
    console.print(
        f"total {money(c.total_cost, c.currency)} = executors {money(c.executor_cost, c.currency)} + driver "
        f"{money(c.driver_cost, c.currency)} · {executors(c.executor_count, c.peak_executors)} · "
        f"{figure(c.allocated_core_hours)} core-h allocated, {figure(c.used_core_hours)} used"
        + (f" ({percent(c.utilization)})" if c.utilization is not None else ""),
        markup=False,
    )
    console.print(f"idle allocation: {figure(c.idle_core_hours)} core-h = {money(c.idle_cost, c.currency)} wasted",
                  markup=False)
    for assumption in c.assumptions:
        console.print(f"[dim]assumed: {escape(assumption)}[/dim]")
    render_findings(console, report.findings)
