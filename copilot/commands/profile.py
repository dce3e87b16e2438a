"""`copilot profile LOG [--json]`: the profile of one application, or of each under a directory."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Annotated

import typer

from tools.units import count, human_duration, human_master, human_size

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


_ms = partial(human_duration, missing="-")
_bytes = partial(human_size, missing="-")


def render_profile(console: Console, p: AppProfile) -> None:
    """A readable summary of one profile (names, paths and reasons from the log are data, never rich markup)."""
    from rich.markup import escape

    status = "complete" if p.complete else "[yellow]incomplete[/yellow]"
    console.print(f"[bold]{escape(p.app_name or p.app_id)}[/bold]  ({escape(p.app_id)}{'/' + p.attempt_id if p.attempt_id else ''})")
    console.print(
        f"Spark {escape(p.spark_version or '?')} · master {escape(human_master(p.master))} · user {escape(p.user or '?')} · "
        f"duration {_ms(p.duration_ms)} · {status}"
        + (f" · interactive {p.interactive_shell} session" if p.interactive_shell else "")
    )
    if p.source:
        console.print(
            f"[dim]log: {escape(p.source.path)} · {p.source.codec} · {count(len(p.source.parts), 'part')} · "
            f"{_bytes(p.source.bytes_read)} read, {_bytes(p.source.bytes_decoded)} decoded · {p.source.events} events[/dim]"
        )
    from tools.eventlog.slots import peak_alive, peak_executors

    total, peak = len(p.executors), peak_executors(p.executors)
    executors = f"{total}, at most {peak} at once" if 0 < peak < total else str(total)
    used = p.used_core_ms or 0
    alloc = p.allocated_core_ms
    util = f" ({100 * used / alloc:.0f}% of allocated)" if alloc else ""
    console.print(
        f"Executors {executors} ({peak_alive(p.executors)} cores) · jobs {len(p.jobs)} · stages {len(p.stages)} · "
        f"tasks {p.total_tasks} ({p.failed_tasks} failed, {p.killed_tasks} killed) · SQL {len(p.sql_executions)}"
    )
    console.print(
        f"Time: driver-only {_ms(p.driver_time_ms)} · jobs running {_ms(p.executor_time_ms)} · "
        f"critical path {_ms(p.critical_path_ms)} · core time used {_ms(used)} of {_ms(alloc)} allocated{util}"
    )
    ran = [s for s in p.stages if s.duration_ms is not None]
    if not p.stages:
        console.print("[dim]No jobs ran in this application (no stages in the log).[/dim]")
    if ran:
        console.print(_stage_table(p, sorted(ran, key=lambda s: s.duration_ms or 0, reverse=True)[:TOP_STAGES]))
    if p.executors:
        console.print(_executor_table(p))
    if p.cached:
        _print_cached(console, p)
    reasons: dict[str, int] = {}
    for s in p.stages:
        for reason, n in s.task_failure_reasons.items():
            reasons[reason] = reasons.get(reason, 0) + n
    failed_stages = [s for s in p.stages if s.status == "failed"]
    if reasons or failed_stages:
        console.print("[bold red]Failures[/bold red]")
        for reason, n in sorted(reasons.items(), key=lambda x: -x[1]):
            console.print(f"  {count(n, 'task')}: {reason}", markup=False)
        for s in failed_stages[:5]:
            console.print(f"  stage {s.stage_id}.{s.attempt_id} failed: {s.failure_reason or '?'}", markup=False)
    for warning in p.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")


def _table(title: str):
    from rich import box
    from rich.table import Table

    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True,
                 pad_edge=False, title_style="bold")


def _stage_table(p: AppProfile, top: list):
    """Longest stages with task-time quantiles and the data volumes that are non-zero."""
    from rich.text import Text

    from tools.eventlog.model import stage_label

    volumes = [(title, field) for title, field in (
        ("input", "input_bytes"), ("shuffle rd", "shuffle_read_bytes"),
        ("shuffle wr", "shuffle_write_bytes"), ("spill disk", "disk_bytes_spilled"))
        if any(getattr(s.metrics, field) and getattr(s.metrics, field).sum for s in top)]
    table = _table(f"Top stages by duration (of {len(p.stages)})")
    table.add_column("stage", no_wrap=True, min_width=5)
    table.add_column("name", max_width=48, overflow="fold")
    for column in ("tasks", "duration", "task p50/max", *(title for title, _ in volumes)):
        table.add_column(column, no_wrap=True, justify="right", min_width=len(column))
    for s in top:
        d = s.metrics.duration_ms
        flag = "" if s.status == "complete" else f" {s.status}"
        table.add_row(
            f"{s.stage_id}.{s.attempt_id}{flag}", Text(stage_label(s)),
            f"{s.tasks_succeeded}" + (f" +{s.tasks_failed}f" if s.tasks_failed else ""),
            _ms(s.duration_ms),
            f"{_ms(d.median)}/{_ms(d.max)}" if d else "-",
            *(_bytes(getattr(s.metrics, field).sum) if getattr(s.metrics, field) else "-" for _, field in volumes),
        )
    return table


def _print_cached(console: Console, p: AppProfile, limit: int = 8) -> None:
    """Persisted RDDs and cached DataFrames: how each was stored, how many actions ran through it, what it holds."""
    from tools.rules.caching import cached_what

    console.print(f"[bold]Cached data[/bold] ({len(p.cached)})")
    for c in p.cached[:limit]:
        level = c.storage_level.removesuffix(" 1x Replicated")  # the usual replication goes without saying
        console.print(f"  RDD {c.rdd_id}: {level} · {c.partitions} partitions · {count(c.actions, 'action')}"
                      f" · {'unpersisted' if c.unpersisted else 'kept'}", markup=False)
        what = cached_what(c)
        if what:
            console.print(f"    {what}", markup=False, overflow="ellipsis", no_wrap=True)
    if len(p.cached) > limit:
        console.print(f"  ... and {len(p.cached) - limit} more")


def _executor_table(p: AppProfile, limit: int = 12):
    """Executors with lifetime (relative to app start), task time, GC and memory peaks when logged."""
    from rich.text import Text

    shown = p.executors[:limit]
    with_peaks = any(e.peak_jvm_heap_bytes for e in shown)
    with_reasons = any(e.removed_reason for e in shown)
    table = _table("Executors")
    table.add_column("id", no_wrap=True, min_width=2)
    table.add_column("host", no_wrap=True, max_width=16, overflow="ellipsis")
    for column in ("cores", "alive", "tasks", "task time", "GC", *(["peak heap"] if with_peaks else [])):
        table.add_column(column, no_wrap=True, justify="right", min_width=len(column))
    if with_reasons:
        table.add_column("removed because", no_wrap=True, max_width=24, overflow="ellipsis")
    base = p.start_time_ms or 0
    for e in shown:
        added = f"{_ms(e.added_time_ms - base)}" if e.added_time_ms else "?"
        removed = f"{_ms(e.removed_time_ms - base)}" if e.removed_time_ms else "end"
        row = [e.executor_id, e.host, str(e.cores or "-"), f"{added}-{removed}",
               f"{e.task_count}" + (f" +{e.failed_task_count}f" if e.failed_task_count else ""),
               _ms(e.task_time_ms), _ms(e.gc_time_ms)]
        if with_peaks:
            row.append(_bytes(e.peak_jvm_heap_bytes))
        if with_reasons:
            row.append(Text((e.removed_reason or "").strip().split("\n", 1)[0]))
        table.add_row(*row)
    if len(p.executors) > len(shown):
        table.caption = f"... and {len(p.executors) - len(shown)} more"
    return table

