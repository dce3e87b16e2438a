"""Data sources: `copilot shs list|fetch`, `copilot jdbc advise`, `copilot streaming`."""

from __future__ import annotations

from typing import Annotated

import typer

def local_log(log: str) -> str:
    """`log` itself, or for shs://host:port/app-id the local path of the log fetched from the History Server."""
    from tools.sources.shs import is_shs_url, resolve

    if not is_shs_url(log):
        return log
    from copilot.settings import get_settings

    return str(resolve(log, get_settings().ensure_home() / "cache"))


shs_app = typer.Typer(help="Spark History Server: list applications, fetch event logs.", no_args_is_help=True)
jdbc_app = typer.Typer(help="JDBC sources: options for a partitioned read.", no_args_is_help=True)


@shs_app.command("list")
def shs_list(
    url: Annotated[str, typer.Argument(help="History Server, e.g. shs://host:18080 or http://host:18080")],
    status: Annotated[str | None, typer.Option("--status", help="completed or running")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="at most this many applications")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Applications a History Server knows (analyze one with `copilot profile shs://host:port/APP_ID`)."""
    from tools.sources.shs import list_applications

    apps = list_applications(url, status=status, limit=limit)
    if json_output:
        import json

        typer.echo(json.dumps([a.model_dump(mode="json") for a in apps], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(apps)} applications", title_justify="left")
    for column in ("id", "name", "attempts", "completed", "start", "duration", "user", "spark"):
        table.add_column(column, overflow="fold")
    for a in apps:
        last = a.attempts[0] if a.attempts else None
        table.add_row(
            a.id, a.name, ",".join(x.attempt_id or "-" for x in a.attempts), str(a.completed),
            (last.start_time if last else None) or "-", f"{(last.duration_ms or 0) / 1000:.1f} s" if last else "-",
            (last.spark_user if last else None) or "-", (last.app_spark_version if last else None) or "-",
        )
    Console().print(table)


@shs_app.command("fetch")
def shs_fetch(
    url: Annotated[str, typer.Argument(help="shs://host:port/APP_ID[/ATTEMPT]")],
) -> None:
    """Download one application's event log into the cache and print its local path."""
    from copilot.settings import get_settings
    from tools.sources.shs import resolve

    typer.echo(str(resolve(url, get_settings().ensure_home() / "cache")))


@jdbc_app.command("advise")
def jdbc_advise(
    url: Annotated[str, typer.Argument(help="SQLAlchemy URL, e.g. postgresql+pg8000://user:pw@host/db or sqlite:///file.db")],
    table: Annotated[str, typer.Argument(help="table name, optionally schema.table")],
    rows_per_partition: Annotated[int, typer.Option("--rows-per-partition", min=1, help="target rows per Spark partition")] = 1_000_000,
    max_partitions: Annotated[int, typer.Option("--max-partitions", min=1, help="at most this many concurrent queries on the database")] = 64,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Measure a table and recommend partitionColumn, lowerBound, upperBound, numPartitions, fetchsize."""
    from tools.sources.jdbc import advise_jdbc

    advice = advise_jdbc(url, table, rows_per_partition=rows_per_partition, max_partitions=max_partitions)
    if json_output:
        typer.echo(advice.model_dump_json(indent=2))
        return
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    console.print(f"{advice.table} on {advice.url}: {advice.row_count} rows, {advice.column_count} columns", markup=False)
    for key, value in advice.options.items():
        console.print(f"  {key} = {value}", markup=False)
    for reason in advice.reasons:
        console.print(f"  because {reason}", markup=False)
    for warning in advice.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    options = ", ".join(f'{k}="{v}"' for k, v in advice.options.items())
    console.print(f'\nspark.read.format("jdbc").options({options}, user=..., password=...).load()', markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(shs_app, name="shs")
    app.add_typer(jdbc_app, name="jdbc")

    @app.command()
    def streaming(
        log: Annotated[str, typer.Argument(help="Event log of a structured-streaming application (or shs://host:port/app-id).")],
        bootstrap_servers: Annotated[str | None, typer.Option("--bootstrap-servers", help="Kafka bootstrap servers: also count topic partitions.")] = None,
        json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Streaming queries: input vs processing rate, batch vs trigger, state; maxOffsetsPerTrigger, minPartitions, trigger."""
        from copilot.settings import get_settings
        from tools.eventlog import load_profile
        from tools.sources.streaming import StreamingThresholds, advise_streaming

        thresholds = StreamingThresholds.from_rules(get_settings().rules)
        advice = advise_streaming(load_profile(local_log(log)), bootstrap_servers, thresholds)
        if json_output:
            import json

            typer.echo(json.dumps([a.model_dump(mode="json") for a in advice], indent=2))
            return
        from rich.console import Console

        from copilot.commands.findings_view import render_findings

        console = Console()
        if not advice:
            console.print("No structured-streaming query progress in this log.")
        def shown(value: float | None, unit: str) -> str:
            return "-" if value is None else f"{value:,.0f} {unit}"

        for a in advice:
            console.print(
                f"query {a.name or a.query_id}: {a.batches} batches · input {shown(a.input_rows_per_second, 'rows/s')} · "
                f"processed {shown(a.processed_rows_per_second, 'rows/s')} · median batch {shown(a.batch_duration_ms_median, 'ms')} · "
                f"between batches {shown(a.trigger_interval_ms, 'ms')}"
                + (f" · topics {a.topic_partitions or a.kafka_topics}" if a.kafka_topics else ""),
                markup=False,
                style="bold",
            )
            render_findings(console, a.findings)
