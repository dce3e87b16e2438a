"""Rich rendering of history results (kept apart so the command module stays a thin shell).

Stored text (app and stage names, paths, titles, reasons) is escaped: it is data, not rich markup.
"""

from __future__ import annotations

from datetime import datetime, timezone

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from copilot.store.history import AppDetail, AppRow, BatchRun, Comparison, FailedLogRow, Trend
from graph.units import core_hours, count, duration, executors, money, size
from tools.compare import setting_text


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


WIDE_COLUMNS = 120  # below this, secondary values go under the id and headers get short


def id_column(table: Table, title: str) -> None:
    """An id the user passes back to a command (app id, run id): folded when narrow, never cut to '…'."""
    table.add_column(title, overflow="fold", ratio=1)


def figure_columns(table: Table, titles: list[str]) -> None:
    """Right-aligned figures that never wrap (a duration or a price split over two lines misreads)."""
    for title in titles:
        table.add_column(title, justify="right", no_wrap=True)


def failed_logs_table(title: str, rows: list[tuple[str, str]]) -> Table:
    """Logs that could not be analyzed, with why: the path folded (never cut), the reason without the path again."""
    table = Table(title=title, title_justify="left")
    table.add_column("log", overflow="fold")
    table.add_column("reason", style="red", overflow="fold")
    for path, reason in rows:
        reason = reason or ""
        if reason.startswith(path + ": "):
            reason = reason[len(path) + 2:]
        table.add_row(escape(path), escape(reason))
    return table


def with_name(app_id: str, name: str | None) -> str:
    """An app id with its (escaped, dimmed) name on the line below, for one narrow column."""
    return app_id + (f"\n[dim]{escape(name)}[/]" if name else "")


def _started(text: str, wide: bool) -> str:
    """'2021-10-19 18:38' on one line, or date over time when narrow."""
    return text if wide else text.replace(" ", "\n", 1)


def render_list(rows: list[AppRow], console: Console) -> None:
    if not rows:
        console.print("No applications stored yet; run `copilot batch FOLDER` first.")
        return
    # the app id is what `history show` takes; a narrow console gets the name under it and no hash
    wide = console.width >= WIDE_COLUMNS
    table = Table()
    id_column(table, "app")
    if wide:
        table.add_column("name", ratio=1)
    table.add_column("started (UTC)" if wide else "started", no_wrap=True)
    figure_columns(table, ["duration", "cost", "findings", "savings core-h"] if wide
                    else ["runtime", "cost", "finds", "core-h"])
    if wide:
        table.add_column("hash", no_wrap=True)
    for row in rows:
        cells = [row.app_id, escape(row.app_name or "")] if wide else [with_name(row.app_id, row.app_name)]
        cells += [_started(_when(row.start_time_ms), wide), duration(row.duration_ms), money(row.cost, row.currency),
                  str(row.findings or 0), core_hours((row.savings_core_ms or 0) / 3.6e6)]
        table.add_row(*cells, *([row.log_hash[:12]] if wide else []))
    console.print(table)


def render_detail(detail: AppDetail, console: Console) -> None:
    app = detail.app
    console.print(f"[bold]{app.app_id}[/] {escape(app.app_name or '')}  started {_when(app.start_time_ms)} UTC, "
                  f"{'an interactive ' + escape(app.interactive_shell) + ' session, ' if app.interactive_shell else ''}"
                  f"ran {duration(app.duration_ms)}, {executors(app.executors or 0, app.peak_executors or 0)}, "
                  f"{count(app.total_tasks or 0, 'task')} "
                  f"({app.failed_tasks or 0} failed), cost {money(app.cost, app.currency)}")
    console.print(f"log {escape(app.log_path)} (hash {app.log_hash[:12]}, analyzed {app.analyzed_at})")
    if detail.findings:
        table = Table(title="Findings", title_justify="left")
        for name in ("severity", "finding", "stages", "savings core-h", "recommendation"):
            table.add_column(name)
        for f in detail.findings:
            table.add_row(f.severity.value, f"{escape(f.title)} [dim]({f.rule_id})[/]", ",".join(map(str, f.stage_ids)),
                          core_hours(f.estimated_savings.core_ms / 3.6e6), escape(f.recommendation.summary))
        console.print(table)
    slowest = sorted(detail.stages, key=lambda s: -(s.duration_ms or 0))[:15]
    if slowest:
        table = Table(title="Slowest stages", title_justify="left")
        for name in ("stage", "name", "duration", "tasks", "input", "shuffle read", "shuffle write", "spill (disk)"):
            table.add_column(name)
        for s in slowest:
            table.add_row(f"{s.stage_id}.{s.attempt_id}", escape((s.what_ran or s.name)[:40]), duration(s.duration_ms), str(s.num_tasks),
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
            table.add_row(d.label("A").removeprefix("stage "), escape(d.name[:30]), duration(d.duration_before_ms), duration(d.duration_after_ms),
                          ("+" if d.duration_delta_ms >= 0 else "-") + duration(abs(d.duration_delta_ms)), escape(d.reason))
        console.print(table)
    if c.stages_only_in_a or c.stages_only_in_b:
        console.print(f"stages only in A: {c.stages_only_in_a or '-'}; only in B: {c.stages_only_in_b or '-'}")
    if c.findings_only_in_a or c.findings_only_in_b:
        console.print(f"findings gone in B: {', '.join(c.findings_only_in_a) or '-'}; "
                      f"new in B: {', '.join(c.findings_only_in_b) or '-'}")
    if c.settings is None:
        console.print("settings: not compared (a run was stored before the store kept settings; analyze it again)")
    elif c.settings:
        console.print("settings that differ (A -> B):")
        for change in c.settings:
            console.print(f"  {escape(setting_text(change))}", soft_wrap=True)
    else:
        console.print("settings: both runs set the same Spark properties")


def render_trend(trend: Trend, console: Console) -> None:
    currency = trend.runs[0].app.currency if trend.runs else None
    console.print(f"[bold]{escape(trend.job_name)}[/]: {len(trend.runs)} runs, median {duration(trend.median_duration_ms)}"
                  + (f", median cost {money(trend.median_cost, currency)}" if trend.median_cost is not None else ""))
    wide = console.width >= WIDE_COLUMNS
    table = Table()
    id_column(table, "app")
    table.add_column("started (UTC)" if wide else "started", no_wrap=True)
    figure_columns(table, ["duration", "vs median", "cost", "findings"] if wide else ["runtime", "vs med", "cost", "finds"])
    if wide:
        table.add_column("", no_wrap=True)
    for run in trend.runs:
        vs = f"{run.vs_median:.2f}x" if run.vs_median else "-"
        if run.regression and not wide:  # no room for a flag column: the ratio itself is flagged
            vs = f"[bold red]{vs}![/]"
        cells = [run.app.app_id, _started(_when(run.app.start_time_ms), wide), duration(run.app.duration_ms), vs,
                 money(run.app.cost, run.app.currency), str(run.app.findings or 0)]
        table.add_row(*cells, *(["[bold red]REGRESSION[/]" if run.regression else ""] if wide else []))
    console.print(table)
    if trend.regressions and not wide:
        console.print(f"[bold red]![/] a regression: more than {1 + trend.threshold:g}x the median of the job's other runs")
    for run in trend.regressions:
        console.print(f"[red]Regression:[/] {escape(run.explanation)}")


def render_runs(runs: list[BatchRun], failures: list[FailedLogRow], console: Console) -> None:
    wide = console.width >= WIDE_COLUMNS
    table = Table(title="Batch runs", title_justify="left")
    id_column(table, "run" if wide else "run / source")
    table.add_column("started", no_wrap=True)
    if wide:
        table.add_column("engine", no_wrap=True)
    table.add_column("status" if wide else "status / engine", no_wrap=True)
    figure_columns(table, ["found", "analyzed", "skipped", "failed"] if wide else ["found/new/\nskip/fail"])
    if wide:
        table.add_column("source", overflow="fold", ratio=1)
    for run in runs:
        counts = [str(v if v is not None else "-") for v in (run.discovered, run.analyzed, run.skipped, run.failed)]
        started = _started((run.started_at or "")[:19], wide)
        if wide:
            table.add_row(run.run_id, started, run.engine or "", run.status or "", *counts, escape(run.source or ""))
        else:
            table.add_row(f"{run.run_id}\n[dim]{escape(run.source or '')}[/]", started,
                          f"{run.status or ''}\n[dim]{run.engine or ''}[/]", "/".join(counts))
    console.print(table)
    if failures:
        console.print(failed_logs_table("Logs that failed (retry with copilot batch --retry-failed)",
                                        [(row.log_path, row.reason or "") for row in failures]))
