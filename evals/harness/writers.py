"""Write a scorecard as JSON (for programs) and Markdown (for people and docs)."""

from __future__ import annotations

from pathlib import Path

from evals.harness.scorecard import Metric, MetricChange, Scorecard, SuiteResult

STATUS_TEXT = {"ok": "ok", "not_available": "not available", "error": "error"}


def format_value(value: object) -> str:
    """Scores as 3 decimals, counts as integers, the rest as text."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def format_metric(metric: Metric) -> str:
    """A metric in its unit: ratios to 3 decimals, counts whole, percentages to 1 decimal."""
    if metric.unit == "count":
        return f"{metric.value:.0f}"
    if metric.unit == "percent":
        return f"{metric.value:.1f}%"
    return f"{metric.value:.3f}"


def format_change(change: MetricChange | None) -> str:
    if change is None or change.previous is None:
        return "new" if change is not None else ""
    if change.delta is None:
        return "gone"
    if change.verdict == "same":
        return "="
    return f"{change.delta:+.3g} ({change.verdict})"


def key_scores(result: SuiteResult, limit: int = 4) -> str:
    """The first few metrics of a suite on one line (its headline numbers come first)."""
    if result.status != "ok":
        return result.reason
    return ", ".join(f"{m.name} {format_metric(m)}" for m in result.metrics[:limit])


def _md_table(columns: list[str], rows: list[list[object]]) -> list[str]:
    def cell(value: object) -> str:
        return format_value(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def _changes_by_metric(scorecard: Scorecard) -> dict[tuple[str, str], MetricChange]:
    if scorecard.comparison is None:
        return {}
    return {(c.suite, c.metric): c for c in scorecard.comparison.changes}


def to_markdown(scorecard: Scorecard) -> str:
    """The whole scorecard as a Markdown document."""
    changes = _changes_by_metric(scorecard)
    lines = [
        f"# Evaluation scorecard — run `{scorecard.run_id}`",
        "",
        f"- started: {scorecard.started_at} ({scorecard.duration_s:.1f} s)",
        f"- commit: `{scorecard.git_commit or 'unknown'}`",
        f"- cases: `{scorecard.cases_dir}`",
        f"- questions: `{scorecard.questions_path}`",
    ]
    if scorecard.llm_model:
        lines.append(f"- LLM judge: `{scorecard.llm_model}`")
    if scorecard.comparison is not None:
        previous = scorecard.comparison.previous_run_id
        lines.append(
            f"- compared with: run `{previous}` ({scorecard.comparison.previous_started_at})"
            if previous
            else f"- compared with: {scorecard.comparison.note}"
        )
    lines += ["", "## Summary", ""]
    lines += _md_table(
        ["suite", "status", "items", "key scores", "time (s)"],
        [[r.suite, STATUS_TEXT[r.status], r.items, key_scores(r), f"{r.duration_s:.1f}"] for r in scorecard.results],
    )
    if scorecard.gate is not None:
        verdict = "passed" if scorecard.gate.passed else "FAILED"
        lines += ["", f"## Gate: {verdict}", "", f"{scorecard.gate.checked} thresholds checked "
                  f"from `{scorecard.gate.thresholds_file}`."]
        lines += [""] + [f"- {v.message}" for v in scorecard.gate.violations]
    for result in scorecard.results:
        lines += ["", f"## {result.suite}", ""]
        if result.status != "ok":
            lines.append(f"**{STATUS_TEXT[result.status]}**: {result.reason}")
            continue
        columns = ["metric", "value", "better"] + (["change"] if scorecard.comparison is not None else [])
        rows: list[list[object]] = []
        for metric in result.metrics:
            row: list[object] = [metric.name, format_metric(metric), metric.better]
            if scorecard.comparison is not None:
                row.append(format_change(changes.get((result.suite, metric.name))))
            rows.append(row)
        lines += _md_table(columns, rows)
        for table in result.tables:
            lines += ["", f"### {table.title}", ""] + _md_table(table.columns, table.rows)
        if result.misses:
            lines += ["", f"### Misses ({len(result.misses)})", ""] + [f"- {m}" for m in result.misses]
        if result.notes:
            lines += ["", "### Notes", ""] + [f"- {n}" for n in result.notes]
    return "\n".join(lines) + "\n"


def write_outputs(scorecard: Scorecard, out_dir: Path) -> dict[str, str]:
    """`<run_id>.json`, `<run_id>.md` and `latest.json`/`latest.md` copies in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{scorecard.run_id}.json"
    md_path = out_dir / f"{scorecard.run_id}.md"
    scorecard.outputs = {"json": str(json_path), "markdown": str(md_path)}
    json_text = scorecard.model_dump_json(indent=2)
    md_text = to_markdown(scorecard)
    for path, text in ((json_path, json_text), (md_path, md_text)):
        path.write_text(text, encoding="utf-8")
    (out_dir / "latest.json").write_text(json_text, encoding="utf-8")
    (out_dir / "latest.md").write_text(md_text, encoding="utf-8")
    return scorecard.outputs


