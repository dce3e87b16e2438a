"""Renderers of the graph's `Report`: terminal (rich), Markdown, JSON (stable schema) and self-contained HTML."""

from __future__ import annotations

from typing import Literal

from graph.report import Report

Format = Literal["terminal", "md", "json", "html"]


def render(report: Report, fmt: Format, width: int = 110, color: bool = False) -> str:
    """The report as text in the given format."""
    if fmt == "json":
        from copilot.report.json_report import render_json

        return render_json(report)
    if fmt == "md":
        from copilot.report.markdown import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from copilot.report.html import render_html

        return render_html(report)
    from copilot.report.terminal import render_terminal_text

    return render_terminal_text(report, width=width, color=color)


__all__ = ["Format", "render"]
