"""`copilot profile LOG [--json]`: the profile of one application, or of each under a directory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from tools.eventlog.model import AppProfile

TOP_STAGES = 8


def register(app: typer.Typer) -> None:
    @app.command()
    def profile(
        log: Annotated[str, typer.Argument(help="Event log file, rolling/Databricks directory, a directory of logs, an fsspec URL, or shs://host:port/app-id.")],
        json_output: Annotated[bool, typer.Option("--json", help="Print the full AppProfile as JSON (a list for several apps).")] = False,
        history_server: Annotated[str | None, typer.Option("--history-server", help="Spark History Server URL; LOG is then an application id.")] = None,
    ) -> None:
        """Profile a Spark event log: app, executors, jobs, stages, task-metric distributions, failures."""
        from tools.errors import EventLogError
        from tools.eventlog import discover_applications, load_profile
        from tools.sources.shs import is_shs_url, resolve

        if history_server or is_shs_url(log):  # shs://host:port/app-id: fetched through the History Server REST API
            from copilot.settings import get_settings

            url = f"{history_server.rstrip('/')}/{log}" if history_server else log
            log = str(resolve(url, get_settings().ensure_home() / "cache"))
        refs = discover_applications(log)
        if not refs:
            raise EventLogError(f"no Spark event logs found under {log}")
        profiles = [load_profile(ref.path) for ref in refs]
        if json_output:
            import json

            data = [p.model_dump(mode="json") for p in profiles]
            typer.echo(json.dumps(data if len(data) > 1 else data[0], indent=2))
            return
        from rich.console import Console

        console = Console()
        for index, item in enumerate(profiles):
            if index:
                console.rule()
            render_profile(console, item)


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    seconds = value / 1000
    if seconds < 1:
        return f"{value:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _bytes(value: float | None) -> str:
    if value is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return "-"


def render_profile(console: Console, p: AppProfile) -> None:
    """A readable summary of one profile."""
    from rich.table import Table

    status = "complete" if p.complete else "[yellow]incomplete[/yellow]"
    console.print(f"[bold]{p.app_name or p.app_id}[/bold]  ({p.app_id}{'/' + p.attempt_id if p.attempt_id else ''})")
    console.print(
        f"Spark {p.spark_version or '?'} · master {p.master or '?'} · user {p.user or '?'} · "
        f"duration {_ms(p.duration_ms)} · {status}"
    )
    if p.source:
        console.print(
            f"[dim]log: {p.source.path} · {p.source.codec} · {len(p.source.parts)} part(s) · "
            f"{_bytes(p.source.bytes_read)} read, {_bytes(p.source.bytes_decoded)} decoded · {p.source.events} events[/dim]"
        )
    cores = sum(e.cores or 0 for e in p.executors)
    used = p.used_core_ms or 0
    alloc = p.allocated_core_ms
    util = f" ({100 * used / alloc:.0f}% of allocated)" if alloc else ""
    console.print(
        f"Executors {len(p.executors)} ({cores} cores) · jobs {len(p.jobs)} · stages {len(p.stages)} · "
        f"tasks {p.total_tasks} ({p.failed_tasks} failed, {p.killed_tasks} killed) · SQL {len(p.sql_executions)}"
    )
    console.print(
        f"Time: driver-only {_ms(p.driver_time_ms)} · jobs running {_ms(p.executor_time_ms)} · "
        f"critical path {_ms(p.critical_path_ms)} · core time used {_ms(used)} of {_ms(alloc)} allocated{util}"
    )
    ran = [s for s in p.stages if s.duration_ms is not None]
    if ran:
        table = Table(title=f"Top stages by duration (of {len(p.stages)})", title_justify="left")
        for column in ("stage", "name", "status", "tasks", "duration", "task p50 / p95 / max",
                       "input", "shuffle read", "shuffle write", "spill (disk)"):
            table.add_column(column, overflow="fold")
        for s in sorted(ran, key=lambda s: s.duration_ms or 0, reverse=True)[:TOP_STAGES]:
            m = s.metrics
            d = m.duration_ms
            table.add_row(
                f"{s.stage_id}.{s.attempt_id}", s.name[:40], s.status,
                f"{s.tasks_succeeded}" + (f" +{s.tasks_failed} failed" if s.tasks_failed else ""),
                _ms(s.duration_ms),
                f"{_ms(d.median)} / {_ms(d.p95)} / {_ms(d.max)}" if d else "-",
                _bytes(m.input_bytes.sum) if m.input_bytes else "-",
                _bytes(m.shuffle_read_bytes.sum) if m.shuffle_read_bytes else "-",
                _bytes(m.shuffle_write_bytes.sum) if m.shuffle_write_bytes else "-",
                _bytes(m.disk_bytes_spilled.sum) if m.disk_bytes_spilled else "-",
            )
        console.print(table)
    if p.executors:
        table = Table(title="Executors", title_justify="left")
        for column in ("id", "host", "cores", "added", "removed", "tasks", "task time", "GC", "peak heap", "removed reason"):
            table.add_column(column, overflow="fold")
        base = p.start_time_ms or 0
        for e in p.executors[:12]:
            table.add_row(
                e.executor_id, e.host, str(e.cores or "-"),
                f"+{_ms(e.added_time_ms - base)}" if e.added_time_ms else "-",
                f"+{_ms(e.removed_time_ms - base)}" if e.removed_time_ms else "-",
                f"{e.task_count}" + (f" ({e.failed_task_count} failed)" if e.failed_task_count else ""),
                _ms(e.task_time_ms), _ms(e.gc_time_ms), _bytes(e.peak_jvm_heap_bytes),
                (e.removed_reason or "")[:60],
            )
        if len(p.executors) > 12:
            table.caption = f"... and {len(p.executors) - 12} more"
        console.print(table)
    reasons: dict[str, int] = {}
    for s in p.stages:
        for reason, count in s.task_failure_reasons.items():
            reasons[reason] = reasons.get(reason, 0) + count
    failed_stages = [s for s in p.stages if s.status == "failed"]
    if reasons or failed_stages:
        console.print("[bold red]Failures[/bold red]")
        for reason, count in sorted(reasons.items(), key=lambda x: -x[1]):
            console.print(f"  {count} task(s): {reason}")
        for s in failed_stages[:5]:
            console.print(f"  stage {s.stage_id}.{s.attempt_id} failed: {s.failure_reason or '?'}")
    for warning in p.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
