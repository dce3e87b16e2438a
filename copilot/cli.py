"""The `copilot` command: a thin shell over the library.

Each module in `copilot/commands/` defines `register(app)` and adds its commands;
heavy imports happen inside the command functions so `copilot --help` stays fast.
Every `CopilotError` becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import typer

from tools.errors import CopilotError

app = typer.Typer(
    name="copilot",
    help="Spark Copilot: why a Spark job is slow or expensive, and exactly what to change.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    import copilot.commands as commands

    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"copilot.commands.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


@app.callback()
def _root() -> None:
    """Spark Copilot: why a Spark job is slow or expensive, and exactly what to change."""


_register_commands()


def fail(message: str, code: int = 2) -> None:
    """Print one clear line on stderr and exit."""
    first_line = " ".join(str(message).split("\n")[0].split())
    print(f"copilot: error: {first_line}", file=sys.stderr)
    raise SystemExit(code)


def main() -> None:
    """Entry point: usage errors are reported by the CLI framework, ours by `fail`."""
    try:
        app()
    except CopilotError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except Exception as exc:
        if os.environ.get("COPILOT_DEBUG"):
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (set COPILOT_DEBUG=1 for the traceback)", 1)


if __name__ == "__main__":
    main()
