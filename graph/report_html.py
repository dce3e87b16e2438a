"""The report as HTML with inline CSS and SVG charts (no scripts, nothing fetched).

`render_html` writes a whole self-contained page (`copilot analyze --format html`);
`render_html_fragment` writes the same content as one scoped `<div>` for Jupyter
(`Report._repr_html_`), so its styles do not leak into the notebook around it.
"""

from __future__ import annotations

from html import escape

from graph import report_svg as svg
from graph import units
from graph.report import Report
from graph.report_text import (app_line, citation_text, effect_text, evidence_cells, header_description, no_findings_text,
                               savings_text, stage_list, what_if_table, where_it_flattens)

SCOPE = "spark-copilot-report"

# Every rule is scoped to the report's <div>, so the same CSS serves a page and a notebook cell.
_RULES = """
.S{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;max-width:980px;color:#222;background:#fff}
.S h1{font-size:1.5em}.S h2{margin-top:1.6em;border-bottom:1px solid #ddd}
.S .finding{border:1px solid #ddd;border-left:6px solid #999;border-radius:4px;padding:.6em 1em;margin:1em 0}
.S .critical{border-left-color:#b00}.S .severe{border-left-color:#e45756}.S .moderate{border-left-color:#f2b01e}.S .low{border-left-color:#4c78a8}
.S pre{background:#f5f5f5;padding:.6em;overflow-x:auto}.S table{border-collapse:collapse}.S td,.S th{padding:2px 10px;border-bottom:1px solid #eee;text-align:right}
.S .now{font-weight:bold}.S .muted{color:#777}.S svg.chart{display:block;margin:.5em 0;max-width:100%;height:auto}
"""
SCOPED_CSS = _RULES.replace(".S", f".{SCOPE}")
CSS = "body{margin:2em auto;padding:0 1em;max-width:980px}" + SCOPED_CSS  # the standalone page


def render_html(report: Report) -> str:
    """A whole self-contained HTML page."""
    return "\n".join([
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>Spark Copilot: {escape(report.headline or 'report')}</title><style>{CSS}</style></head><body>",
        f'<div class="{SCOPE}">', _body(report), "</div></body></html>"])


def render_html_fragment(report: Report) -> str:
    """The report as one `<div>` with its own scoped styles, for embedding (Jupyter, other pages)."""
    return f'<div class="{SCOPE}"><style>{SCOPED_CSS}</style>\n{_body(report)}\n</div>'


def _body(report: Report) -> str:
    e = escape
    out = [f"<h1>{e(report.headline or 'Spark Copilot report')}</h1>",
           f'<p class="muted">Generated {e(report.generated_at)} · narrative: {e(report.path)} · schema {e(report.schema_version)}</p>']
    for app in report.apps:
        description = header_description(app, report.narrative)
        out += [f"<h2>{e(app.app_name or app.app_id)} <small class=muted>{e(app.app_id)}</small></h2>",
                (f"<p>{e(description)}</p>" if description else "") + f"<p><b>{e(app_line(app))}</b></p>"]
    if report.narrative:
        out.append(f"<p>{e(report.narrative)}</p>")
    if report.question:
        out.append(f"<blockquote>Question: {e(report.question)}</blockquote><p><b>Answer:</b> {e(report.answer)}</p>")
    out.append("<h2>Findings, ranked by savings</h2>")
    if not report.findings:
        out.append(f"<p>{e(no_findings_text(report))}</p>")
    for item in report.findings:
        f = item.finding
        stages = f" · {stage_list(f)}" if stage_list(f) else ""
        out.append(f'<div class="finding {e(f.severity.value)}"><h3>{item.rank}. [{e(f.severity.value)}] {e(f.title)}'
                   f'<small class=muted>{e(stages)}</small></h3>')
        if item.explanation:
            out.append(f"<p>{e(item.explanation)}</p>")
        out.append("<ul>" + "".join(f"<li>where: {e(line)}</li>" for line in item.where)
                   + "".join(f"<li>evidence: {e(line)}</li>" for line in evidence_cells(item))
                   + f"<li>saves: {e(savings_text(item, report))}</li><li>predicted effect: {e(effect_text(item.predicted_effect))}</li>"
                   + f"<li>do: {e(f.recommendation.summary)}</li>"
                   + (f"<li>code: {e(f.recommendation.code_change)}</li>" if f.recommendation.code_change and f.recommendation.code_change != f.recommendation.summary else "") + "</ul>")
        if item.conf_flags:
            out.append(f"<pre>{e(chr(10).join(item.conf_flags))}</pre><pre>{e(chr(10).join(item.conf_set_lines))}</pre>")
        if item.citations:
            out.append("<p>Sources:</p><ul>" + "".join(f"<li>{e(citation_text(c))}</li>" for c in item.citations) + "</ul>")
        out.append("</div>")
    for app in report.apps:
        charts = app.charts
        out.append(f"<h2>Charts <small class=muted>{e(app.app_id)}</small></h2>")
        out.append(svg.stage_timeline(charts.stage_timeline))
        out.append(svg.utilization(charts.utilization))
        for dist in charts.skewed_stages:
            out.append(svg.task_distribution(dist))
        if app.what_if:
            out.append(svg.what_if_curve(app.what_if))
            _, headings, rows = what_if_table(app)
            out.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in headings) + "</tr>")
            out += [f'<tr class="{"now" if current else ""}">' + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>"
                    for cells, current in rows]
            out.append("</table>")
            out.append(f"<p>{e(where_it_flattens(app.what_if, app.cost.currency if app.cost else None))}</p>")
    if report.caveats:
        out.append("<h2>Caveats</h2><ul>" + "".join(f"<li>{e(c)}</li>" for c in report.caveats) + "</ul>")
    if report.specialists:
        out.append('<h2>How this was produced</h2><ul class="muted">' + "".join(
            f"<li><b>{e(s.name)}</b> ({e(s.mode)}): {e(s.reason)}; tools: {e(', '.join(s.tool_calls) or 'none')}</li>"
            for s in report.specialists) + "</ul>")
    return "\n".join(part for part in out if part)
