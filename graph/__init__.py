"""The LangGraph multi-agent analysis: specialists over the tools, a verified report, and the chat agent.

`graph.analyze(logs, question, table, settings, llm) -> Report` is the public entry that
the CLI, batch and the HTTP API share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graph.report import Report


def analyze(logs: list[str], question: str | None = None, table: str | None = None, settings: Any = None,
            llm: Any = None, **kwargs: Any) -> Report:
    """Analyze event logs and return the typed `Report` (see graph.graph.analyze)."""
    from graph.graph import analyze as run

    return run(logs, question=question, table=table, settings=settings, llm=llm, **kwargs)


__all__ = ["analyze"]
