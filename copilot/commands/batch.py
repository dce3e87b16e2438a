"""`copilot batch PATH_OR_URL`: analyze every application log under a folder (or on a History Server) into the store."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer


class Engine(str, Enum):
    local = "local"
    spark = "spark"


def register(app: typer.Typer) -> None:
    @app.command()
    def batch(
        source: str = typer.Argument(
            ..., help="Folder (or fsspec URL) where the event logs land, or shs://host:port for a whole History Server."
        ),
        workers: int = typer.Option(0, "--workers", "-w", help="Worker processes (default: one per core)."),
        force: bool = typer.Option(False, "--force", help="Re-analyze logs already in the store."),
        retry_failed: bool = typer.Option(False, "--retry-failed", help="Retry logs that failed before."),
        include_incomplete: bool = typer.Option(
            False, "--include-incomplete", help="Also analyze `.inprogress` logs of running applications."
        ),
        top: int = typer.Option(10, "--top", help="How many savings, problems and slow apps to list."),
        engine: Engine = typer.Option(Engine.local, "--engine", help="local processes, or a Spark job."),
        master: str = typer.Option(None, "--master", help="Spark master for --engine spark (default: SparkSession's)."),
        out: Path = typer.Option(None, "--out", help="Parquet output folder for --engine spark."),
        partitions: int = typer.Option(0, "--partitions", help="Spark partitions for --engine spark."),
        no_store: bool = typer.Option(False, "--no-store", help="--engine spark: write Parquet only."),
        reports: bool = typer.Option(
            False, "--reports",
            help="Full report per log (documentation citations, narrative), stored as JSON; seconds per log.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    ) -> None:
        """Analyze a fleet of event logs in parallel; results go to the history store, biggest savings first."""
        import sys

        from rich.console import Console

        from copilot.batch.render import RichBatchProgress, render_summary
        from copilot.settings import get_settings
        from copilot.store import Store

        settings = get_settings()
        store = Store(settings.store_path)
        err = Console(stderr=True)
        progress = RichBatchProgress(err) if err.is_terminal else None
        if engine is Engine.spark:
            from copilot.batch_spark import run_spark_batch

            summary = run_spark_batch(
                source, out or settings.home / "batch", store=None if no_store else store, master=master,
                partitions=partitions or None, force=force, include_incomplete=include_incomplete, top_n=top,
                full_reports=reports, settings=settings,
            )
        else:
            from copilot.batch import run_batch

            summary = run_batch(
                source, store, workers=workers or None, force=force, retry_failed=retry_failed,
                include_incomplete=include_incomplete, top_n=top, full_reports=reports, settings=settings,
                progress=progress,
            )
        if as_json:
            typer.echo(summary.model_dump_json(indent=2))
        else:
            render_summary(summary, Console())
        if summary.status == "interrupted":
            sys.exit(130)
