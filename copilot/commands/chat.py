"""`copilot chat [LOG...] [--thread ID]`: a resumable conversation over the analysis tools."""

from __future__ import annotations

import typer

COMMANDS_HELP = "/load PATH  load an event log    /report  full report    /help  what I can answer    /quit  leave"
QUIT_WORDS = ("/quit", "/exit", "/q", "quit", "exit", "bye")  # the bare words too: as questions they got an overview


def register(app: typer.Typer) -> None:
    @app.command()
    def chat(
        logs: list[str] = typer.Argument(None, metavar="[LOG...]", help="event logs to load at the start"),
        thread: str | None = typer.Option(None, "--thread", "-t", help="resume this conversation (its id is printed at start)"),
    ) -> None:
        """Ask about a Spark application in a conversation (offline, or with your LLM); threads are resumable."""
        from rich.console import Console
        from rich.markup import escape
        from rich.text import Text

        from copilot.settings import get_settings
        from graph.chat import open_chat
        from graph.intents import HELP
        from tools.errors import CopilotError

        console = Console(highlight=False)
        settings = get_settings()
        agent = open_chat(settings, notice=lambda m: console.print(f"[dim]copilot: {escape(m)}[/dim]"))
        thread_id = thread or agent.new_thread_id()
        past = agent.history(thread_id)
        if thread and past:
            console.print(f"Resumed thread [bold]{thread_id}[/bold]: {len(past)} messages, logs: {escape(', '.join(agent.logs(thread_id))) or 'none'}")
            for message in past[-2:]:
                who = "you" if message.type == "human" else "copilot"
                console.print(Text(f"  {who}: {str(message.content)[:300]}", style="dim"))
        else:
            console.print(f"Thread [bold]{thread_id}[/bold] (resume with: copilot chat --thread {thread_id})")
        for path in logs or []:
            _load(agent, thread_id, path, console)
        console.print(f"[dim]{COMMANDS_HELP}[/dim]")
        while True:
            try:
                line = console.input("[bold cyan]you> [/bold cyan]").strip()
            except (EOFError, KeyboardInterrupt):
                console.print()
                break
            if not line:
                continue
            if line.lower() in QUIT_WORDS:
                break
            if line == "/help":
                console.print(Text(HELP))
                continue
            if line.startswith("/load"):
                path = line[len("/load"):].strip()
                if not path:
                    console.print("usage: /load PATH")
                else:
                    _load(agent, thread_id, path, console)
                continue
            if line == "/report":
                _report(agent, thread_id, settings, console)
                continue
            try:
                console.print("[bold green]copilot>[/bold green] ", end="")
                for text in agent.ask(thread_id, line):
                    console.out(text, end="", highlight=False)
                console.print()
            except CopilotError as exc:
                console.print(f"[red]error:[/red] {escape(str(exc))}")
        console.print(f"Bye. Resume with: copilot chat --thread {thread_id}")
        agent.close()


def _load(agent, thread_id: str, path: str, console) -> None:
    from rich.markup import escape
    from rich.text import Text

    from graph.units import count
    from tools.errors import CopilotError

    try:
        profiles = agent.load(thread_id, path)
    except CopilotError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        return
    for p in profiles:
        console.print(Text(f"Loaded {p.app_name or p.app_id} ({p.app_id}): {count(len(p.stages), 'stage')}, "
                           f"{count(len(p.executors), 'executor')}"))


def _report(agent, thread_id: str, settings, console) -> None:
    import graph
    from copilot.report.terminal import render_terminal

    logs = agent.logs(thread_id)
    if not logs:
        console.print("No event log loaded: /load PATH first.")
        return
    render_terminal(graph.analyze(logs, settings=settings), console)
