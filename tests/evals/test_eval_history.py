"""Each eval run is stored in the DuckDB history store; a run compares itself with the last one over the same cases."""

from __future__ import annotations

from pathlib import Path

import duckdb

from evals.harness.history import previous_comparison, store_run, stored_runs
from evals.harness.scorecard import Metric, Scorecard, SuiteResult


def _scorecard(run_id: str, started_at: str, f1: float, cases_dir: str = "/cases/a", ape: float = 0.1) -> Scorecard:
    return Scorecard(
        run_id=run_id,
        started_at=started_at,
        suites_requested=["detection", "runtime"],
        cases_dir=cases_dir,
        questions_path="/questions",
        results=[
            SuiteResult(suite="detection", status="ok", metrics=[Metric(name="f1", value=f1)]),
            SuiteResult(suite="runtime", status="ok", metrics=[Metric(name="median_ape", value=ape, better="lower")]),
        ],
    )


def test_first_run_is_the_baseline(tmp_path: Path) -> None:
    comparison = previous_comparison(tmp_path / "store.duckdb", _scorecard("r1", "2026-01-01T00:00:00+00:00", 0.9))
    assert comparison.previous_run_id is None
    assert "baseline" in comparison.note


def test_change_since_last_run_in_each_metrics_direction(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    store_run(store, _scorecard("r1", "2026-01-01T00:00:00+00:00", 0.90, ape=0.10))
    store_run(store, _scorecard("r2", "2026-01-02T00:00:00+00:00", 0.80, ape=0.20))
    current = _scorecard("r3", "2026-01-03T00:00:00+00:00", 0.85, ape=0.12)
    comparison = previous_comparison(store, current)
    assert comparison.previous_run_id == "r2"
    by_metric = {c.metric: c for c in comparison.changes}
    assert round(by_metric["f1"].delta, 6) == 0.05 and by_metric["f1"].verdict == "better"
    assert by_metric["median_ape"].previous == 0.20 and by_metric["median_ape"].verdict == "better"


def test_runs_over_other_cases_are_not_compared(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    store_run(store, _scorecard("r1", "2026-01-01T00:00:00+00:00", 0.5, cases_dir="/cases/other"))
    comparison = previous_comparison(store, _scorecard("r2", "2026-01-02T00:00:00+00:00", 0.9))
    assert comparison.previous_run_id is None


def test_unavailable_suite_stores_no_score(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    card = _scorecard("r1", "2026-01-01T00:00:00+00:00", 0.9)
    card.results.append(SuiteResult(suite="retrieval", status="not_available", reason="not built"))
    store_run(store, card)
    assert [run[0] for run in stored_runs(store)] == ["r1"]
    with duckdb.connect(str(store)) as db:
        suites = {row[0] for row in db.execute("SELECT DISTINCT suite FROM eval_metrics").fetchall()}
    assert suites == {"detection", "runtime"}


def test_metric_that_disappeared_is_listed_as_gone(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    store_run(store, _scorecard("r1", "2026-01-01T00:00:00+00:00", 0.9))
    current = _scorecard("r2", "2026-01-02T00:00:00+00:00", 0.9)
    current.results[0].metrics = [Metric(name="recall", value=1.0)]
    verdicts = {c.metric: c.verdict for c in previous_comparison(store, current).changes}
    assert verdicts["f1"] == "gone" and verdicts["recall"] == "new"
