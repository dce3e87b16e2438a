"""The scorecard is written as JSON (stable fields) and Markdown (summary, per-suite tables, misses, gate)."""

from __future__ import annotations

import json
from pathlib import Path

from evals.harness.scorecard import (
    Comparison,
    GateResult,
    GateViolation,
    Metric,
    MetricChange,
    ResultTable,
    Scorecard,
    SuiteResult,
)
from evals.harness.writers import to_markdown, write_outputs


def _scorecard() -> Scorecard:
    return Scorecard(
        run_id="20260101T000000Z-abc123",
        started_at="2026-01-01T00:00:00+00:00",
        suites_requested=["detection", "retrieval"],
        cases_dir="/cases",
        questions_path="/questions",
        results=[
            SuiteResult(
                suite="detection",
                status="ok",
                items=3,
                metrics=[Metric(name="f1", value=0.8)],
                tables=[ResultTable(title="per category", columns=["category", "recall"], rows=[["skew", 1.0]])],
                misses=["case-a: missed skew"],
            ),
            SuiteResult(suite="retrieval", status="not_available", reason="evals.retrieval.score is not in this checkout yet"),
        ],
        comparison=Comparison(
            previous_run_id="r0",
            previous_started_at="2025-12-31",
            changes=[MetricChange(suite="detection", metric="f1", previous=0.9, current=0.8)],
        ),
        gate=GateResult(
            thresholds_file="t.toml",
            checked=1,
            violations=[GateViolation(suite="detection", metric="f1", value=0.8, bound=0.85, kind="min", message="detection: f1 = 0.8 is below the floor 0.85")],
        ),
    )


def test_json_and_markdown_files_are_written_with_latest_copies(tmp_path: Path) -> None:
    outputs = write_outputs(_scorecard(), tmp_path)
    assert set(outputs) == {"json", "markdown"}
    data = json.loads(Path(outputs["json"]).read_text())
    assert json.loads((tmp_path / "latest.json").read_text()) == data
    assert (tmp_path / "latest.md").read_text() == Path(outputs["markdown"]).read_text()


def test_json_carries_status_metrics_change_and_gate_verdict(tmp_path: Path) -> None:
    data = json.loads(Path(write_outputs(_scorecard(), tmp_path)["json"]).read_text())
    detection, retrieval = data["results"]
    assert detection["metrics"] == [{"name": "f1", "value": 0.8, "better": "higher", "unit": "ratio"}]
    assert retrieval["status"] == "not_available" and retrieval["metrics"] == []
    change = data["comparison"]["changes"][0]
    assert change["verdict"] == "worse" and round(change["delta"], 6) == -0.1
    assert data["gate"]["passed"] is False


def test_markdown_shows_unavailable_suite_change_misses_and_failed_gate() -> None:
    text = to_markdown(_scorecard())
    assert "**not available**: evals.retrieval.score is not in this checkout yet" in text
    assert "| f1 | 0.800 | higher | -0.1 (worse) |" in text
    assert "- case-a: missed skew" in text
    assert "## Gate: FAILED" in text
    assert "| skew | 1.000 |" in text
