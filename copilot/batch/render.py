"""Rendering a batch for people: a live progress bar and the fleet summary as rich tables."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Table
from rich.text import Text

from copilot.batch.runner import BatchSummary, Progress
from copilot.store.records import LogOutcome
from copilot.store.render import failed_logs_table, figure_columns, id_column, with_name
from graph.units import core_hours, duration, figure, money


class _Throughput(ProgressColumn):
    def render(self, task) -> Text:
        elapsed = task.elapsed or 0.0
        mb = task.fields.get("bytes", 0) / 1e6
        return Text(f"{mb / elapsed:6.1f} MB/s" if elapsed > 0 else "   -- MB/s", style="cyan")


class RichBatchProgress(Progress):
    """Apps done / total, MB/s of analyzed logs, elapsed and ETA, on stderr."""

    def __init__(self, console: Console) -> None:
        self.bar = RichProgress(
            SpinnerColumn(),
            TextColumn("[bold]analyzing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("apps"),
            _Throughput(),
            TextColumn("{task.fields[failed]} failed", style="red"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task = None
        self.bytes_done = 0
        self.failed = 0

    def start(self, total_apps: int, total_bytes: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("batch", total=total_apps, bytes=0, failed=0)

    def advance(self, outcome: LogOutcome) -> None:
        if outcome.status == "analyzed":
            self.bytes_done += outcome.log.log_bytes
        elif outcome.status == "failed":
            self.failed += 1
        self.bar.update(self.task, advance=1, bytes=self.bytes_done, failed=self.failed)

    def stop(self) -> None:
        self.bar.stop()


def render_summary(summary: BatchSummary, console: Console) -> None:
    """The fleet summary: counts, failures with reasons, biggest savings, commonest problems, slowest apps."""
    fleet = summary.fleet
    status = "" if summary.status == "complete" else f" [yellow]({summary.status}; re-run to finish)[/]"
    console.print(
        f"[bold]{summary.analyzed}[/] analyzed, [bold]{summary.skipped}[/] already stored, "
        f"[bold red]{summary.failed}[/] failed of {summary.discovered} logs in {summary.elapsed_s:.1f} s "
        f"({summary.apps_per_s:.1f} apps/s, {summary.mb_per_s:.1f} MB/s, {summary.workers} workers, "
        f"engine {summary.engine}){status}"
    )
    console.print(
        f"Fleet: {fleet.apps} apps, {fleet.total_duration_ms / 3.6e6:,.2f} h of runtime"
        + (f", cost {money(fleet.total_cost, fleet.currency)}" if fleet.total_cost is not None else "")
        + f", estimated savings {figure(fleet.savings_core_hours)} core-hours. Store: {summary.store_path}"
    )
    if summary.failures:
        console.print(failed_logs_table("Failed logs", [(f.log_path, f.reason) for f in summary.failures]))
    if fleet.top_savings:
        table = Table(title="Biggest savings across the fleet", title_justify="left")
        # the app and its finding share one wrapping column; figures never wrap (80 columns stay readable)
        id_column(table, "app / finding")
        table.add_column("severity", no_wrap=True)
        figure_columns(table, ["core-hours", "cost"])
        for item in fleet.top_savings:
            app = f"[bold]{item.app_id}[/] {escape(item.app_name or '')}".rstrip()
            table.add_row(f"{app}\n{escape(item.title)} [dim]({item.rule_id})[/]", item.severity or "",
                          core_hours(item.savings_core_hours), money(item.savings_cost, item.currency))
        console.print(table)
    if fleet.frequent_problems:
        table = Table(title="Most frequent problems", title_justify="left")
        for name, justify in (("rule", "left"), ("category", "left"), ("apps", "right"), ("core-hours", "right")):
            table.add_column(name, justify=justify)
        for problem in fleet.frequent_problems:
            table.add_row(problem.rule_id, problem.category or "", str(problem.apps),
                          core_hours(problem.savings_core_hours))
        console.print(table)
    if fleet.slowest_apps:
        table = Table(title="Slowest apps", title_justify="left")
        id_column(table, "app / name")
        figure_columns(table, ["duration", "cost", "findings"])
        for app in fleet.slowest_apps:
            table.add_row(with_name(app.app_id, app.app_name), duration(app.duration_ms), money(app.cost, app.currency),
                          str(app.findings or 0))
        console.print(table)
