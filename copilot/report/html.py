"""The self-contained HTML report; the renderer lives in graph/report_html.py so `Report._repr_html_` can use it too."""

from graph.report_html import CSS, render_html, render_html_fragment

__all__ = ["CSS", "render_html", "render_html_fragment"]
