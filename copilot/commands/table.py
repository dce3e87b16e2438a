"""`copilot table PATH [--profile LOG] [--json]`: a dataset's file layout and what to change about it."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Annotated

import typer

from tools.units import human_share, human_size

if TYPE_CHECKING:
    from rich.console import Console

    from tools.tables import TableReport


def register(app: typer.Typer) -> None:
    @app.command()
    def table(
        path: Annotated[str, typer.Argument(help="Table directory or file: Delta, Parquet, ORC, CSV/JSON, local or fsspec URL.")],
        profile_log: Annotated[str | None, typer.Option("--profile", help="Event log of an application that reads the table: its filters become Z-order candidates.")] = None,
        json_output: Annotated[bool, typer.Option("--json", help="Print the TableProfile and findings as JSON.")] = False,
    ) -> None:
        """Layout statistics of a table (files, partitions, Delta log) and findings with concrete actions."""
        from copilot.settings import get_settings
        from tools.tables import analyze_table

        profile = None
        if profile_log:
            from copilot.commands.sources import local_log
            from tools.eventlog import load_profile

            profile = load_profile(local_log(profile_log))
        report = analyze_table(path, profile, get_settings().tables)
        if json_output:
            typer.echo(report.model_dump_json(indent=2))
            return
        from rich.console import Console

        render_table_report(Console(), report)


human_bytes = partial(human_size, missing="-")


def render_table_report(console: Console, report: TableReport) -> None:
    from rich.table import Table

    t = report.table
    console.print(f"[bold]{t.path}[/bold]  format {t.format} · {t.file_count} files · {human_bytes(t.total_bytes)}" + (f" · {t.rows} rows" if t.rows is not None else ""))
    files = t.files
    console.print(
        f"file sizes: min {human_bytes(files.min_bytes)} · median {human_bytes(files.median_bytes)} · p95 {human_bytes(files.p95_bytes)} · "
        f"max {human_bytes(files.max_bytes)} · {t.small_files} below {human_bytes(t.small_file_bytes)} ({human_share(t.small_file_ratio)})"
    )
    parts = t.partitions
    if parts.columns:
        skew = f" · largest/median {parts.bytes_max_to_median:.1f}x" if parts.bytes_max_to_median else ""
        console.print(f"partitioned by {', '.join(parts.columns)}: {parts.count} partitions · median {human_bytes(parts.bytes.median_bytes)} · max {human_bytes(parts.bytes.max_bytes)}{skew}")
    if t.parquet:
        pq = t.parquet
        codecs = ", ".join(f"{codec} {count}" for codec, count in pq.codecs.items())
        console.print(f"parquet: {pq.row_groups} row groups in {pq.files_read} footers · median row group {human_bytes(pq.row_group_bytes.median_bytes)} · codecs {codecs}")
    if t.delta:
        d = t.delta
        console.print(
            f"delta: version {d.version} · autoCompact {d.auto_compact} · optimizeWrite {d.optimize_write} · deletion vectors {d.deletion_vectors} · "
            f"clustering {d.clustering_columns or '-'} · z-order {d.zorder_columns or '-'} · operations {d.operations}",
            markup=False,
        )
    if t.columns:
        table = Table(title="Columns", title_justify="left")
        for column in ("name", "type", "nulls", "min", "max", "compressed", "files read by col = v"):
            table.add_column(column, overflow="fold")
        for c in t.columns[:30]:
            ratio = "-" if c.point_lookup_file_ratio is None else human_share(c.point_lookup_file_ratio)
            table.add_row(c.name, c.type, "-" if c.null_count is None else str(c.null_count), (c.min_value or "-")[:30], (c.max_value or "-")[:30], human_bytes(c.compressed_bytes), ratio)
        console.print(table)
    for warning in t.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    from copilot.commands.findings_view import render_findings

    render_findings(console, report.findings)
