"""`copilot serve [--host 127.0.0.1] [--port 8000]`: the HTTP API (OpenAPI docs at /docs)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="address to bind; anything but loopback needs COPILOT_API__TOKEN"),
        port: int = typer.Option(8000, "--port", min=0, max=65535, help="port to listen on"),
        log_level: str = typer.Option("info", "--log-level", help="uvicorn log level"),
    ) -> None:
        """Serve the analysis over HTTP (FastAPI + uvicorn); results persist in the history store."""
        import uvicorn

        from copilot.api.app import create_app
        from copilot.settings import get_settings

        uvicorn.run(create_app(get_settings(), host), host=host, port=port, log_level=log_level,
                    timeout_graceful_shutdown=30)
