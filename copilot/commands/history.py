"""`copilot history list|show|compare|trend|runs|export`: what the batch stored, over time."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer

history_app = typer.Typer(help="Browse the history store: past analyses, comparisons and job trends.",
                          no_args_is_help=True)


class ExportFormat(str, Enum):
    parquet = "parquet"
    csv = "csv"
    json = "json"


def _store():
    from copilot.settings import get_settings
    from copilot.store import Store

    return Store(get_settings().store_path)


def _console():
    from rich.console import Console

    return Console()


@history_app.command("list")
def list_(
    limit: int = typer.Option(50, "--limit", "-n", help="How many applications."),
    job: str = typer.Option(None, "--job", help="Only runs of this job (application name)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The most recent stored applications."""
    from copilot.store.render import render_list
    from copilot.store.history import list_applications

    rows = list_applications(_store(), limit=limit, job_name=job)
    if as_json:
        typer.echo("[" + ",".join(r.model_dump_json() for r in rows) + "]")
    else:
        render_list(rows, _console())


@history_app.command()
def show(
    app: str = typer.Argument(..., help="Application id, log hash (prefix) or log path."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """One stored application: its numbers, stages and findings."""
    from copilot.store.render import render_detail
    from copilot.store.history import show_application

    detail = show_application(_store(), app)
    if as_json:
        typer.echo(detail.model_dump_json(indent=2))
    else:
        render_detail(detail, _console())


@history_app.command()
def compare(
    app_a: str = typer.Argument(..., help="The baseline run."),
    app_b: str = typer.Argument(..., help="The run to compare with it."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run B against run A: runtime, cost, which stages changed and why, findings gained or lost."""
    from copilot.store.render import render_comparison
    from copilot.store.history import compare_applications

    comparison = compare_applications(_store(), app_a, app_b)
    if as_json:
        typer.echo(comparison.model_dump_json(indent=2))
    else:
        render_comparison(comparison, _console())


@history_app.command()
def trend(
    job_name: str = typer.Argument(..., help="The job's application name."),
    threshold: float = typer.Option(0.4, "--threshold", help="Flag runs slower than the median by more than this."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A job's runtime and cost over its runs, with regressions flagged and explained by stage."""
    from copilot.store.render import render_trend
    from copilot.store.history import job_trend

    result = job_trend(_store(), job_name, threshold=threshold)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        render_trend(result, _console())


@history_app.command()
def runs(
    limit: int = typer.Option(20, "--limit", "-n", help="How many runs."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Past batch runs (running, complete, interrupted) and the logs that failed, with their reasons."""
    from copilot.store.history import list_failures, list_runs
    from copilot.store.render import render_runs

    store = _store()
    found, failed = list_runs(store, limit), list_failures(store)
    if as_json:
        typer.echo(json.dumps({"runs": [r.model_dump() for r in found], "failures": [f.model_dump() for f in failed]},
                              indent=2))
    else:
        render_runs(found, failed, _console())


@history_app.command()
def export(
    fmt: ExportFormat = typer.Option(ExportFormat.parquet, "--format", help="parquet, csv or json."),
    out: Path = typer.Option(Path("copilot-history"), "--out", help="Folder to write one file per table into."),
    table: list[str] = typer.Option(None, "--table", help="Only these tables (repeatable)."),
) -> None:
    """Write the store's tables to files for other tools."""
    from copilot.store.history import EXPORT_TABLES, export_history

    files = export_history(_store(), out, fmt.value, tuple(table) if table else EXPORT_TABLES)
    for path in files:
        typer.echo(str(path))


def register(app: typer.Typer) -> None:
    app.add_typer(history_app, name="history")
