"""Eval runs kept in the DuckDB history store (our own tables) so a run can be compared with the last one."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from evals.harness.scorecard import Comparison, MetricChange, Scorecard

SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS eval_runs (
        run_id VARCHAR PRIMARY KEY,
        started_at TIMESTAMPTZ NOT NULL,
        git_commit VARCHAR,
        cases_key VARCHAR NOT NULL,
        suites VARCHAR NOT NULL,
        gate_passed BOOLEAN,
        scorecard JSON NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS eval_metrics (
        run_id VARCHAR NOT NULL,
        suite VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        value DOUBLE NOT NULL,
        better VARCHAR NOT NULL
    )
    """,
)


@contextmanager
def _connect(store_path: Path) -> Iterator[object]:
    """A connection to the history store with our tables; through the store's own helper when it exists."""
    try:
        from copilot.store.db import Store
    except ModuleNotFoundError:
        Store = None  # noqa: N806 - the history store has not landed in this checkout
    if Store is not None:
        with Store(store_path).transaction() as connection:
            for statement in SCHEMA:
                connection.execute(statement)
            yield connection
        return
    import duckdb

    store_path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(store_path))
    try:
        for statement in SCHEMA:
            connection.execute(statement)
        yield connection
    finally:
        connection.close()


def cases_key(scorecard: Scorecard) -> str:
    """Runs are comparable when they scored the same case set and question set."""
    return f"{scorecard.cases_dir}|{scorecard.questions_path}"


def previous_comparison(store_path: Path, scorecard: Scorecard) -> Comparison:
    """Each metric of `scorecard` next to its value in the latest earlier run over the same cases."""
    key = cases_key(scorecard)
    changes: list[MetricChange] = []
    previous_ids: dict[str, tuple[str, str]] = {}
    with _connect(store_path) as db:
        for result in scorecard.results:
            row = db.execute(
                """
                SELECT r.run_id, CAST(r.started_at AS VARCHAR) FROM eval_runs r
                WHERE r.cases_key = ? AND r.run_id <> ?
                  AND EXISTS (SELECT 1 FROM eval_metrics m WHERE m.run_id = r.run_id AND m.suite = ?)
                ORDER BY r.started_at DESC LIMIT 1
                """,
                [key, scorecard.run_id, result.suite],
            ).fetchone()
            if row is None:
                continue
            previous_ids[result.suite] = (row[0], row[1])
            before = dict(
                db.execute(
                    "SELECT metric, value FROM eval_metrics WHERE run_id = ? AND suite = ?", [row[0], result.suite]
                ).fetchall()
            )
            for metric in result.metrics:
                changes.append(
                    MetricChange(
                        suite=result.suite,
                        metric=metric.name,
                        previous=before.pop(metric.name, None),
                        current=metric.value,
                        better=metric.better,
                    )
                )
            for name, value in before.items():
                changes.append(MetricChange(suite=result.suite, metric=name, previous=value, current=None))
    if not previous_ids:
        return Comparison(note="no earlier run over the same cases is stored; this run is the baseline")
    latest = max(previous_ids.values(), key=lambda pair: pair[1])
    return Comparison(previous_run_id=latest[0], previous_started_at=latest[1], changes=changes)


def store_run(store_path: Path, scorecard: Scorecard) -> None:
    """Append the run and its metrics (available suites only: a missing suite has no score)."""
    with _connect(store_path) as db:
        db.execute(
            "INSERT INTO eval_runs VALUES (?, CAST(? AS TIMESTAMPTZ), ?, ?, ?, ?, ?)",
            [
                scorecard.run_id,
                scorecard.started_at,
                scorecard.git_commit,
                cases_key(scorecard),
                ",".join(r.suite for r in scorecard.results),
                None if scorecard.gate is None else scorecard.gate.passed,
                scorecard.model_dump_json(),
            ],
        )
        rows = [
            (scorecard.run_id, result.suite, metric.name, metric.value, metric.better)
            for result in scorecard.results
            if result.status == "ok"
            for metric in result.metrics
        ]
        if rows:
            db.executemany("INSERT INTO eval_metrics VALUES (?, ?, ?, ?, ?)", rows)


def stored_runs(store_path: Path, limit: int = 20) -> list[tuple[str, str, bool | None]]:
    """The latest runs (id, start time, gate verdict), newest first."""
    with _connect(store_path) as db:
        return db.execute(
            "SELECT run_id, CAST(started_at AS VARCHAR), gate_passed FROM eval_runs ORDER BY started_at DESC LIMIT ?",
            [limit],
        ).fetchall()
