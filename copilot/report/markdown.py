"""The report as Markdown (for tickets, PRs and wikis)."""

from __future__ import annotations

from graph import units
from graph.report import Report
from graph.report_text import (app_line, citation_text, effect_text, evidence_cells, header_description, no_findings_text,
                               savings_text, stage_list, what_if_table, where_it_flattens)


def render_markdown(report: Report) -> str:
    out = [f"# Spark Copilot report: {report.headline or 'analysis'}", ""]
    out.append(f"_Generated {report.generated_at}; narrative: {report.path}; schema {report.schema_version}._")
    out.append("")
    for app in report.apps:
        description = header_description(app, report.narrative)
        out += [f"## {app.app_name or app.app_id} (`{app.app_id}`)", "", *([description, ""] if description else []),
                f"**{app_line(app)}**", ""]
    if report.narrative:
        out += [report.narrative, ""]
    if report.question:
        out += [f"> Question: {report.question}", "", f"**Answer:** {report.answer}", ""]
    out += ["## Findings (ranked by savings)", ""]
    if not report.findings:
        out += [no_findings_text(report), ""]
    for item in report.findings:
        f = item.finding
        stages = f" ({stage_list(f)})" if stage_list(f) else ""
        out += [f"### {item.rank}. [{f.severity.value}] {f.title}{stages}", ""]
        if item.explanation:
            out += [item.explanation, ""]
        out += [f"- where: {line}" for line in item.where]
        out += [f"- evidence: {line}" for line in evidence_cells(item)]
        out += [f"- saves: {savings_text(item, report)}", f"- predicted effect: {effect_text(item.predicted_effect)}",
                f"- do: {f.recommendation.summary}"]
        if f.recommendation.code_change and f.recommendation.code_change != f.recommendation.summary:
            out.append(f"- code: {f.recommendation.code_change}")
        out.append("")
        if item.conf_flags:
            out += ["```bash", *item.conf_flags, "```", "", "```python", *item.conf_set_lines, "```", ""]
        if item.citations:
            out += ["Sources:", *[f"- {citation_text(c)}" for c in item.citations], ""]
    for app in report.apps:
        if not app.what_if:
            continue
        title, headings, rows = what_if_table(app)
        out += [f"## {title} (`{app.app_id}`)", "", "| " + " | ".join(headings) + " |", "|" + "---:|" * len(headings)]
        out += ["| " + " | ".join(cells) + " |" for cells, _ in rows]
        out += ["", where_it_flattens(app.what_if, app.cost.currency if app.cost else None), ""]
    if report.table:
        t = report.table
        out += ["## Table", "", f"`{t.path}`: {t.format}, {t.file_count:,} files, {units.size(t.total_bytes)}, "
                f"median file {units.size(t.median_file_bytes)}, {t.small_files:,} small files", ""]
    if report.caveats:
        out += ["## Caveats", "", *[f"- {c}" for c in report.caveats], ""]
    if report.specialists:
        out += ["## How this was produced", ""]
        out += [f"- **{s.name}** ({s.mode}): {s.reason}; tools: {', '.join(s.tool_calls) or 'none'}" for s in report.specialists]
        out.append("")
    return "\n".join(out)
