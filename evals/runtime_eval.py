"""Runtime-prediction score for `copilot eval --suite runtime`: held-out error of the model vs its baselines.

`evaluate_runtime` re-trains the model inside each held-out split (by workload shape,
then by scale) on the committed feature table and scores the runs it never saw,
next to the simulator alone and the naive "same as observed" guess.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from models.card import TARGET_MEDIAN_APE_PCT
from models.evaluate import ReplicateNoise, SplitMetrics, held_out_by_scale, held_out_by_shape, replicate_noise
from models.features import RunFeatures
from models.train import TrainingParams

DEFAULT_TABLE = Path(__file__).resolve().parent.parent / "models" / "data" / "runs.parquet"


class RuntimeScore(BaseModel):
    """Held-out runtime error (percent) for the model and both baselines, and the 80% interval's coverage."""

    runs: int
    shape_pairs: int
    shape_model_median_ape_pct: float
    shape_model_mean_ape_pct: float
    shape_simulator_median_ape_pct: float
    shape_simulator_mean_ape_pct: float
    shape_naive_median_ape_pct: float
    shape_naive_mean_ape_pct: float
    shape_interval_coverage: float
    shape_config_only_model_median_ape_pct: float | None  # same-scale pairs: configuration questions only
    shape_config_only_naive_median_ape_pct: float | None
    scale_pairs: int
    scale_model_median_ape_pct: float
    scale_model_mean_ape_pct: float
    scale_simulator_median_ape_pct: float
    scale_naive_median_ape_pct: float
    scale_interval_coverage: float
    scale_interval_coverage_calibrated: float | None  # with the widening found on held-out shapes (as shipped)
    replicate_pairs: int  # pairs of runs of the identical spec
    replicate_median_ape_pct: float | None  # how far identical runs land apart: the noise floor
    simulator_observed_median_abs_error_pct: float  # simulator replaying each run's own configuration
    simulator_observed_p90_abs_error_pct: float
    per_shape: dict[str, dict[str, float]] = Field(default_factory=dict)  # held-out shape -> model APE figures
    misses: list[str] = Field(default_factory=list)  # targets not met, in words


def _median(split: SplitMetrics, predictor: str) -> float | None:
    summary = split.config_only.get(predictor)
    return summary.median_ape_pct if summary else None


def _from_splits(rows: list[RunFeatures], shape: SplitMetrics, scale: SplitMetrics, noise: ReplicateNoise) -> RuntimeScore:
    misses = []
    if shape.model.median_ape_pct > TARGET_MEDIAN_APE_PCT:
        misses.append(f"held-out shape median APE {shape.model.median_ape_pct:.1f}% > {TARGET_MEDIAN_APE_PCT:g}%")
    for name, baseline in (("simulator", shape.simulator), ("naive", shape.naive)):
        if shape.model.median_ape_pct >= baseline.median_ape_pct:
            misses.append(f"model not better than the {name} baseline on held-out shapes")
    self_error = np.abs([(r.sim_duration_ms - r.duration_ms) / r.duration_ms * 100 for r in rows])
    return RuntimeScore(
        runs=len(rows),
        shape_pairs=shape.pairs,
        shape_model_median_ape_pct=shape.model.median_ape_pct,
        shape_model_mean_ape_pct=shape.model.mean_ape_pct,
        shape_simulator_median_ape_pct=shape.simulator.median_ape_pct,
        shape_simulator_mean_ape_pct=shape.simulator.mean_ape_pct,
        shape_naive_median_ape_pct=shape.naive.median_ape_pct,
        shape_naive_mean_ape_pct=shape.naive.mean_ape_pct,
        shape_interval_coverage=shape.interval_coverage,
        shape_config_only_model_median_ape_pct=_median(shape, "model"),
        shape_config_only_naive_median_ape_pct=_median(shape, "naive"),
        scale_pairs=scale.pairs,
        scale_model_median_ape_pct=scale.model.median_ape_pct,
        scale_model_mean_ape_pct=scale.model.mean_ape_pct,
        scale_simulator_median_ape_pct=scale.simulator.median_ape_pct,
        scale_naive_median_ape_pct=scale.naive.median_ape_pct,
        scale_interval_coverage=scale.interval_coverage,
        scale_interval_coverage_calibrated=scale.interval_coverage_scaled,
        replicate_pairs=noise.pairs,
        replicate_median_ape_pct=noise.median_ape_pct,
        simulator_observed_median_abs_error_pct=float(np.median(self_error)),
        simulator_observed_p90_abs_error_pct=float(np.quantile(self_error, 0.9)),
        per_shape={name: e.model_dump() for name, e in shape.per_group.items()},
        misses=misses,
    )


def evaluate_runtime(
    table_path: Path | None = None,
    params: TrainingParams | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> RuntimeScore:
    """Score the runtime model on held-out shapes and scales of the feature table (default: the committed one)."""
    from models.dataset import read_table

    rows = read_table(table_path or DEFAULT_TABLE)
    shape = held_out_by_shape(rows, params)
    if progress:
        progress(1, 2)
    scale = held_out_by_scale(rows, params, shape.interval_scale_for_80)
    if progress:
        progress(2, 2)
    return _from_splits(rows, shape, scale, replicate_noise(rows))
