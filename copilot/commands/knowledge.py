"""`copilot knowledge ingest|remove|search|stats|reset`: manage and query the offline knowledge index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

knowledge_app = typer.Typer(help="Offline knowledge base: Spark, Delta and Databricks docs plus our cards.",
                            no_args_is_help=True)


def _index():  # noqa: ANN202 - returns knowledge.index.KnowledgeIndex (imported lazily)
    from knowledge import ensure_default_index

    return ensure_default_index()


@knowledge_app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="Files or folders of Markdown/MDX, HTML or text."),
    product: Optional[str] = typer.Option(None, help="spark, delta or databricks (default: guessed from the path)."),
    spark_version: Optional[str] = typer.Option(None, "--spark-version", help="Spark version these docs describe."),
    as_json: bool = typer.Option(False, "--json", help="Print the ingest report as JSON."),
) -> None:
    """Add or refresh documents; unchanged files are skipped, deleted files lose their chunks."""
    report = _index().ingest(paths, product=product, spark_version=spark_version)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    console.print(f"added {report.added_files}, updated {report.updated_files}, unchanged {report.unchanged_files}, "
                  f"removed {report.removed_files} files; +{report.chunks_added}/-{report.chunks_removed} chunks "
                  f"in {report.duration_s:.1f}s")
    for skipped in report.skipped:
        console.print(f"[yellow]skipped[/yellow] {escape(skipped.path)}: {escape(skipped.reason)}")


@knowledge_app.command()
def remove(
    paths: list[Path] = typer.Argument(..., help="Files or folders ingested before; they need not exist any more."),
    as_json: bool = typer.Option(False, "--json", help="Print what was removed as JSON."),
) -> None:
    """Remove what was ingested from these files or folders (e.g. a folder since moved or deleted)."""
    from knowledge.models import IngestReport
    from tools.errors import ConfigurationError

    index = _index()
    reports = [index.remove_path(path) for path in paths]
    total = IngestReport(removed_files=sum(r.removed_files for r in reports),
                         chunks_removed=sum(r.chunks_removed for r in reports),
                         duration_s=sum(r.duration_s for r in reports))
    missing = [str(path) for path, report in zip(paths, reports) if not report.removed_files]
    if missing and not total.removed_files:
        raise ConfigurationError(f"nothing was ingested from {', '.join(missing)} (see `copilot knowledge stats`)")
    if as_json:
        typer.echo(total.model_dump_json(indent=2))
        return
    typer.echo(f"removed {total.removed_files} files; -{total.chunks_removed} chunks in {total.duration_s:.1f}s")
    for path in missing:
        typer.echo(f"nothing was ingested from {path}")


@knowledge_app.command()
def search(
    query: str = typer.Argument(..., help="A question or keywords."),
    k: int = typer.Option(5, "-k", help="Number of passages."),
    product: Optional[list[str]] = typer.Option(None, help="Filter: spark, delta, databricks, internal, project-cards."),
    category: Optional[str] = typer.Option(None, help="Filter cards by rule category (e.g. skew)."),
    mode: str = typer.Option("hybrid", help="hybrid, dense or lexical."),
    as_json: bool = typer.Option(False, "--json", help="Print passages as JSON."),
) -> None:
    """Search the knowledge base."""
    from knowledge import search as search_knowledge

    filters: dict[str, object] = {}
    if product:
        filters["product"] = product
    if category:
        filters["category"] = category
    passages = search_knowledge(query, k, filters or None, mode=mode)  # type: ignore[arg-type]
    if as_json:
        typer.echo(json.dumps([p.model_dump() for p in passages], indent=2))
        return
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    console = Console()
    if not passages:
        console.print("no passages found")
    for rank, passage in enumerate(passages, 1):  # Text(): document text is not rich markup
        body = passage.text.split("\n\n", 1)[-1]
        console.print(Panel(Text(body[:700] + ("..." if len(body) > 700 else "")),
                            title=Text(f"{rank}. {passage.heading_path}", style="bold"),
                            subtitle=Text(f"{passage.source} ({passage.product}) score {passage.score:.4f}"),
                            title_align="left", subtitle_align="right"))


@knowledge_app.command()
def stats(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Show what the index holds."""
    result = _index().stats()
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"knowledge index {result.path} ({result.collection})")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("chunks", str(result.chunks))
    table.add_row("documents", str(result.documents))
    for name, count in sorted(result.by_product.items()):
        table.add_row(f"product {name}", str(count))
    for name, count in sorted(result.by_kind.items()):
        table.add_row(f"kind {name}", str(count))
    Console().print(table)


@knowledge_app.command()
def reset(as_json: bool = typer.Option(False, "--json", help="Print the new stats as JSON.")) -> None:
    """Delete the index (even a damaged one) and rebuild the default index (cards + config catalog)."""
    from knowledge import reset_default_index

    result = reset_default_index().stats()
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        typer.echo(f"rebuilt {result.path}: {result.chunks} chunks from {result.documents} documents")


def register(app: typer.Typer) -> None:
    app.add_typer(knowledge_app, name="knowledge")
