"""`copilot version`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def version() -> None:
        """Print the installed version."""
        from importlib.metadata import version as package_version

        typer.echo(package_version("spark-copilot"))
