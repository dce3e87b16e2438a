"""`copilot analyze LOG... [--ask TEXT] [--table PATH] [--format terminal|md|json|html] [--out FILE]`."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer


class OutputFormat(str, Enum):
    terminal = "terminal"
    md = "md"
    json = "json"
    html = "html"


def register(app: typer.Typer) -> None:
    @app.command()
    def analyze(
        logs: list[str] = typer.Argument(..., metavar="LOG...", help="event log files, rolling-log dirs or dirs of logs"),
        ask: str | None = typer.Option(None, "--ask", help="your question or a description of the job"),
        table: str | None = typer.Option(None, "--table", help="a table the job reads or writes (Parquet/ORC/CSV/Delta dir)"),
        fmt: OutputFormat = typer.Option(OutputFormat.terminal, "--format", "-f", help="terminal, md, json or html"),
        out: Path | None = typer.Option(None, "--out", "-o", help="write the report to this file"),
        as_json: bool = typer.Option(False, "--json", help="same as --format json (schema: docs/report-schema.md)"),
        save: bool = typer.Option(True, "--save/--no-save", help="keep the report in the history store (copilot history)"),
    ) -> None:
        """Why a Spark application is slow or expensive, and exactly what to change."""
        import sys
        from contextlib import ExitStack, nullcontext

        from rich.console import Console

        import graph
        from copilot.batch.identity import identity_of
        from copilot.batch.remote import download_folder, load_from_copy, local_copy
        from copilot.settings import get_settings
        from tools.sources.shs import application_refs

        if as_json:
            fmt = OutputFormat.json
        err = Console(stderr=True)
        settings = get_settings()
        if settings.chroma_dir and not Path(settings.chroma_dir).exists():
            err.print(f"first run: building the knowledge index in {settings.chroma_dir} (once; can take a few minutes)",
                      markup=False)
        with ExitStack() as downloads:  # downloaded copies of remote logs, deleted at the end
            with err.status("reading the event log ...", spinner="dots") if sys.stderr.isatty() else nullcontext() as status:
                done: list[str] = []

                def progress(node: str) -> None:
                    done.append(node.removeprefix("specialist_"))
                    if status is not None:
                        status.update(f"analyzing ... {done[-1]} done ({len(done)} steps)")

                refs = [ref for log in logs for ref in application_refs(log, Path(settings.home) / "cache")]
                # a remote log is downloaded once, for the profile and (with --save) its content hash
                copies = [downloads.enter_context(local_copy(ref, download_folder(settings))) for ref in refs]
                profiles = [load_from_copy(ref, copy) for ref, copy in zip(refs, copies, strict=True)]
                report = graph.analyze([ref.path for ref in refs], question=ask, table=table, settings=settings,
                                       progress=progress, profiles=profiles)
            _emit(report, fmt, out, err)
            if save:
                local = {ref.path: copy for ref, copy in zip(refs, copies, strict=True)}
                _save(refs, profiles, report, settings, err, identify=lambda ref: identity_of(ref, local[ref.path]))


def _emit(report, fmt: OutputFormat, out: Path | None, err) -> None:
    """The report on the terminal, as text on stdout, or into `out`."""
    from rich.console import Console

    from copilot.report import render

    if fmt is OutputFormat.terminal and out is None:
        from copilot.report.terminal import render_terminal

        render_terminal(report, Console())
        return
    text = render(report, fmt.value)
    if out is None:
        typer.echo(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    from graph.units import count

    err.print(f"report written to {out} ({report.path}, {count(len(report.findings), 'finding')})", markup=False)


STORE_WAIT_S = 10.0  # a batch may hold the store; the report is printed either way


def _save(refs, profiles, report, settings, err, identify) -> None:
    """Keep the report in the history store; a busy or broken store costs a warning, never the report."""
    from copilot.store.db import Store
    from copilot.store.from_report import save_report
    from tools.errors import CopilotError

    try:
        save_report(Store(settings.store_path, lock_timeout_s=STORE_WAIT_S), refs, profiles, report,
                    analyzer=f"analyze/{report.path}", identify=identify)
    except (CopilotError, OSError) as exc:
        err.print(f"copilot: warning: report not kept in the history store: {exc}", markup=False)
