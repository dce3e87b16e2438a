"""Rich rendering of history results (kept apart so the command module stays a thin shell).

Stored text (app and stage names, paths, titles, reasons) is escaped: it is data, not rich markup.
"""

from __future__ import annotations

from datetime import datetime, timezone

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from copilot.store.history import AppDetail, AppRow, BatchRun, Comparison, FailedLogRow, Trend
from graph.units import count, duration, money, size


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


def render_list(rows: list[AppRow], console: Console) -> None:
    if not rows:
        console.print("No applications stored yet; run `copilot batch FOLDER` first.")
        return
    # the app id is what `history show` takes: never cut (folded at worst); a narrow console gets the
    # name under it, the start on two lines, short headers and no hash
    wide = console.width >= 120
    table = Table()
    table.add_column("app", overflow="fold", ratio=None if wide else 1)
    if wide:
        table.add_column("name", ratio=1)
    table.add_column("started (UTC)" if wide else "started", no_wrap=True)
    for name, short in (("duration", "runtime"), ("cost", "cost"), ("findings", "finds"), ("savings core-h", "core-h")):
        table.add_column(name if wide else short, justify="right", no_wrap=True)
    if wide:
        table.add_column("hash", no_wrap=True)
    for row in rows:
        name = escape(row.app_name or "")
        started = _when(row.start_time_ms)
        cells = [row.app_id, name, started] if wide else [row.app_id + (f"\n[dim]{name}[/]" if name else ""),
                                                          started.replace(" ", "\n")]
        cells += [duration(row.duration_ms), money(row.cost, row.currency), str(row.findings or 0),
                  f"{(row.savings_core_ms or 0) / 3.6e6:,.2f}"]
        table.add_row(*cells, *([row.log_hash[:12]] if wide else []))
    console.print(table)


def render_detail(detail: AppDetail, console: Console) -> None:
    app = detail.app
    console.print(f"[bold]{app.app_id}[/] {escape(app.app_name or '')}  started {_when(app.start_time_ms)} UTC, "
                  f"ran {duration(app.duration_ms)}, {count(app.executors or 0, 'executor')}, {count(app.total_tasks or 0, 'task')} "
                  f"({app.failed_tasks or 0} failed), cost {money(app.cost, app.currency)}")
    console.print(f"log {escape(app.log_path)} (hash {app.log_hash[:12]}, analyzed {app.analyzed_at})")
    if detail.findings:
        table = Table(title="Findings", title_justify="left")
        for name in ("severity", "finding", "stages", "savings core-h", "recommendation"):
            table.add_column(name)
        for f in detail.findings:
            table.add_row(f.severity.value, f"{escape(f.title)} [dim]({f.rule_id})[/]", ",".join(map(str, f.stage_ids)),
                          f"{f.estimated_savings.core_ms / 3.6e6:,.3f}", escape(f.recommendation.summary))
        console.print(table)
    slowest = sorted(detail.stages, key=lambda s: -(s.duration_ms or 0))[:15]
    if slowest:
        table = Table(title="Slowest stages", title_justify="left")
        for name in ("stage", "name", "duration", "tasks", "input", "shuffle read", "shuffle write", "spill (disk)"):
            table.add_column(name)
        for s in slowest:
            table.add_row(f"{s.stage_id}.{s.attempt_id}", escape(s.name[:40]), duration(s.duration_ms), str(s.num_tasks),
                          size(s.input_bytes), size(s.shuffle_read_bytes),
                          size(s.shuffle_write_bytes), size(s.disk_bytes_spilled))
        console.print(table)


def render_comparison(c: Comparison, console: Console) -> None:
    ratio = f"{c.duration_ratio:.2f}x" if c.duration_ratio else "-"
    console.print(f"[bold]{c.b.app_id}[/] vs [bold]{c.a.app_id}[/]: duration {duration(c.a.duration_ms)} -> "
                  f"{duration(c.b.duration_ms)} ({ratio}), cost {money(c.a.cost, c.a.currency)} -> "
                  f"{money(c.b.cost, c.b.currency)}")
    if c.stages:
        table = Table(title="Stages that changed most", title_justify="left")
        for name in ("stage", "name", "before", "after", "delta", "why"):
            table.add_column(name)
        for d in c.stages[:10]:
            table.add_row(str(d.stage_id), escape(d.name[:30]), duration(d.duration_before_ms), duration(d.duration_after_ms),
                          ("+" if d.duration_delta_ms >= 0 else "-") + duration(abs(d.duration_delta_ms)), escape(d.reason))
        console.print(table)
    if c.stages_only_in_a or c.stages_only_in_b:
        console.print(f"stages only in A: {c.stages_only_in_a or '-'}; only in B: {c.stages_only_in_b or '-'}")
    if c.findings_only_in_a or c.findings_only_in_b:
        console.print(f"findings gone in B: {', '.join(c.findings_only_in_a) or '-'}; "
                      f"new in B: {', '.join(c.findings_only_in_b) or '-'}")


def render_trend(trend: Trend, console: Console) -> None:
    console.print(f"[bold]{escape(trend.job_name)}[/]: {len(trend.runs)} runs, median {duration(trend.median_duration_ms)}"
                  + (f", median cost {trend.median_cost:,.2f}" if trend.median_cost is not None else ""))
    table = Table()
    for name, justify in (("app", "left"), ("started (UTC)", "left"), ("duration", "right"), ("vs median", "right"),
                          ("cost", "right"), ("findings", "right"), ("", "left")):
        table.add_column(name, justify=justify)
    for run in trend.runs:
        vs = f"{run.vs_median:.2f}x" if run.vs_median else "-"
        flag = "[bold red]REGRESSION[/]" if run.regression else ""
        table.add_row(run.app.app_id, _when(run.app.start_time_ms), duration(run.app.duration_ms), vs,
                      money(run.app.cost, run.app.currency), str(run.app.findings or 0), flag)
    console.print(table)
    for run in trend.regressions:
        console.print(f"[red]Regression:[/] {escape(run.explanation)}")


def render_runs(runs: list[BatchRun], failures: list[FailedLogRow], console: Console) -> None:
    table = Table(title="Batch runs", title_justify="left")
    for name in ("run", "started", "engine", "status", "found", "analyzed", "skipped", "failed", "source"):
        table.add_column(name)
    for run in runs:
        table.add_row(run.run_id, (run.started_at or "")[:19], run.engine or "", run.status or "",
                      *(str(v if v is not None else "-") for v in (run.discovered, run.analyzed, run.skipped,
                                                                  run.failed)), escape(run.source or ""))
    console.print(table)
    if failures:
        failed = Table(title="Logs that failed (retry with copilot batch --retry-failed)", title_justify="left")
        failed.add_column("log")
        failed.add_column("reason", style="red")
        for row in failures:
            failed.add_row(escape(row.log_path), escape(row.reason or ""))
        console.print(failed)
