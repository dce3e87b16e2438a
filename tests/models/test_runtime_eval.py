"""`evaluate_runtime`: held-out error of the model next to the simulator and naive baselines."""

from __future__ import annotations

from pathlib import Path

from evals.runtime_eval import evaluate_runtime
from models.dataset import write_table
from models.train import TrainingParams


def test_evaluate_runtime_scores_held_out_shapes_and_scales(small_rows, tmp_path: Path):
    table = write_table(small_rows, tmp_path / "small.parquet")
    calls: list[tuple[int, int]] = []
    score = evaluate_runtime(table, TrainingParams(num_boost_round=30), progress=lambda done, total: calls.append((done, total)))
    assert score.runs == len(small_rows)
    assert score.shape_pairs == 3 * 12 * 11
    assert set(score.per_shape) == {"aggregation", "join", "sort"}
    assert 0 < score.scale_pairs < score.shape_pairs
    assert 0.0 <= score.shape_interval_coverage <= 1.0
    assert score.shape_naive_median_ape_pct > 0 and score.shape_model_median_ape_pct > 0
    assert score.simulator_observed_median_abs_error_pct >= 0
    assert calls == [(1, 2), (2, 2)]
