"""Held-out accuracy of the runtime model next to its two baselines.

Three splits: by workload shape (leave one shape out: the model never saw any run of
the shape it predicts), by scale (train on the smaller scales, predict runs at the
largest) and by run (every shape seen, runs held out: retraining on your own history).
Each compares the model with the simulator alone (observed x simulated slot ratio) and
the naive "same as observed" guess, by absolute percentage error of the predicted new
runtime, and reports how often the 80% interval held the truth.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from models.features import RunFeatures
from models.train import (
    Pairs,
    TrainingParams,
    base_log_ratio,
    fit_boosters,
    fit_load_adjustment,
    fit_scale_exponent,
    interval_widths,
    make_pairs,
    subset,
)
from tools.errors import ModelError


class ErrorSummary(BaseModel):
    median_ape_pct: float
    mean_ape_pct: float
    p90_ape_pct: float


class RunLengthErrors(BaseModel):
    """Errors on the pairs whose shorter run (observed or new) lasted at least `min_s` seconds."""

    min_s: float
    pairs: int
    model: ErrorSummary
    naive: ErrorSummary


class SplitMetrics(BaseModel):
    """Errors on the held-out pairs of one split."""

    split: str
    pairs: int
    model: ErrorSummary
    simulator: ErrorSummary
    naive: ErrorSummary
    prior: ErrorSummary  # the physical first guess alone, before the trees correct it
    interval_coverage: float  # share of held-out pairs whose true runtime lies in the 80% interval
    interval_scale_for_80: float  # widening of the interval (in log space) that would make it cover 80% here
    interval_coverage_scaled: float | None = None  # coverage with a widening found on another split
    model_raw: ErrorSummary  # against the measured runtime, host-load differences left in
    naive_raw: ErrorSummary
    per_group: dict[str, ErrorSummary] = Field(default_factory=dict)  # held-out shape (or scale) -> model errors
    config_only: dict[str, ErrorSummary] = Field(default_factory=dict)  # pairs at the same scale: predictor -> errors
    by_run_length: list[RunLengthErrors] = Field(default_factory=list)  # pairs grouped by their shorter run


def _summary(ape: np.ndarray) -> ErrorSummary:
    return ErrorSummary(
        median_ape_pct=float(np.median(ape)),
        mean_ape_pct=float(np.mean(ape)),
        p90_ape_pct=float(np.quantile(ape, 0.9)),
    )


def _ape(predicted_ms: np.ndarray, actual_ms: np.ndarray) -> np.ndarray:
    return np.abs(predicted_ms - actual_ms) / actual_ms * 100.0


def _collect(test: Pairs, boosters: dict, prior_init: bool) -> dict[str, np.ndarray]:
    x = np.asarray(test.features, dtype=float)
    anchor = np.asarray(test.anchor_features, dtype=float)
    observed = np.asarray(test.observed_ms)
    prior = np.asarray(test.prior_log_ratio)
    raw_point = boosters["point"].predict(x)
    shift = base_log_ratio(prior, prior_init) - boosters["point"].predict(anchor)  # no change predicts the observed
    point = observed * np.exp(raw_point + shift)
    down, up = interval_widths(raw_point, boosters["low"].predict(x), boosters["high"].predict(x))
    low = observed * np.exp(raw_point + shift - down)
    high = observed * np.exp(raw_point + shift + up)
    return {
        "observed": observed,
        "actual": np.asarray(test.new_ms),
        "actual_raw": np.asarray(test.new_raw_ms),
        "model": point,
        "low": np.minimum(low, point),
        "high": np.maximum(high, point),
        "simulator": observed * np.exp(np.asarray(test.sim_log_ratio)),
        "naive": observed,
        "prior": observed * np.exp(prior),
        "same_scale": (np.asarray(test.observed_scale) == np.asarray(test.new_scale)).astype(float),
    }


def needed_scale(point: np.ndarray, low: np.ndarray, high: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Per pair: by how much the interval's log half-widths must grow to reach the true value."""
    up = np.log(actual / point) / np.maximum(np.log(high / point), 1e-6)
    down = np.log(point / actual) / np.maximum(np.log(point / low), 1e-6)
    return np.where(actual >= point, up, down)


def _config_only(merged: dict[str, np.ndarray]) -> dict[str, ErrorSummary]:
    same = merged["same_scale"] > 0
    if not same.any():
        return {}
    actual = merged["actual"][same]
    return {name: _summary(_ape(merged[name][same], actual)) for name in ("model", "prior", "simulator", "naive")}


RUN_LENGTH_FLOORS_S = (0.0, 1.0, 2.0, 5.0)


def _by_run_length(merged: dict[str, np.ndarray]) -> list[RunLengthErrors]:
    """Short local runs are dominated by fixed costs; how the errors change as both runs get longer."""
    shorter = np.minimum(merged["observed"], merged["actual"])
    out = []
    for floor in RUN_LENGTH_FLOORS_S:
        keep = shorter >= floor * 1000
        if keep.any():
            actual = merged["actual"][keep]
            out.append(RunLengthErrors(min_s=floor, pairs=int(keep.sum()), model=_summary(_ape(merged["model"][keep], actual)),
                                       naive=_summary(_ape(merged["naive"][keep], actual))))
    return out


def _metrics(split: str, parts: list[tuple[str, dict[str, np.ndarray]]], interval_scale: float | None = None) -> SplitMetrics:
    merged = {k: np.concatenate([p[k] for _, p in parts]) for k in parts[0][1]}
    actual = merged["actual"]
    covered = (merged["low"] <= actual) & (actual <= merged["high"])
    needed = needed_scale(merged["model"], merged["low"], merged["high"], actual)
    return SplitMetrics(
        split=split,
        pairs=int(actual.size),
        model=_summary(_ape(merged["model"], actual)),
        simulator=_summary(_ape(merged["simulator"], actual)),
        naive=_summary(_ape(merged["naive"], actual)),
        prior=_summary(_ape(merged["prior"], actual)),
        interval_coverage=float(covered.mean()),
        interval_scale_for_80=float(max(np.quantile(needed, 0.8), 1.0)),
        interval_coverage_scaled=float((needed <= interval_scale).mean()) if interval_scale else None,
        model_raw=_summary(_ape(merged["model"], merged["actual_raw"])),
        naive_raw=_summary(_ape(merged["naive"], merged["actual_raw"])),
        per_group={name: _summary(_ape(p["model"], p["actual"])) for name, p in parts},
        config_only=_config_only(merged),
        by_run_length=_by_run_length(merged),
    )


def held_out_by_shape(rows: list[RunFeatures], params: TrainingParams | None = None) -> SplitMetrics:
    """Leave one workload shape out at a time; the model predicts pairs of the shape it never saw."""
    params = params or TrainingParams()
    adjustment = fit_load_adjustment(rows)  # a correction of the measurements themselves, same for every fold
    parts = []
    for shape in sorted({r.workload for r in rows}):
        train_rows = [r for r in rows if r.workload != shape]
        beta = fit_scale_exponent(train_rows, adjustment)
        boosters = fit_boosters(make_pairs(train_rows, adjustment, beta), params)
        test = make_pairs([r for r in rows if r.workload == shape], adjustment, beta)
        parts.append((shape, _collect(test, boosters, params.prior_init)))
    return _metrics("held-out shape", parts)


def held_out_by_scale(
    rows: list[RunFeatures], params: TrainingParams | None = None, interval_scale: float | None = None
) -> SplitMetrics:
    """Train on runs below the largest scale; predict runs at the largest scale from smaller ones."""
    params = params or TrainingParams()
    adjustment = fit_load_adjustment(rows)
    largest = max(r.scale for r in rows)
    train_rows = [r for r in rows if r.scale < largest]
    beta = fit_scale_exponent(train_rows, adjustment)
    boosters = fit_boosters(make_pairs(train_rows, adjustment, beta), params)
    pairs = make_pairs(rows, adjustment, beta)
    test_mask = (np.asarray(pairs.observed_scale) < largest) & (np.asarray(pairs.new_scale) == largest)
    parts = [(f"scale {largest:g}", _collect(subset(pairs, test_mask), boosters, params.prior_init))]
    return _metrics(f"held-out scale ({largest:g}x)", parts, interval_scale)


RUN_FOLDS = 5


def held_out_by_run(
    rows: list[RunFeatures], params: TrainingParams | None = None, interval_scale: float | None = None
) -> SplitMetrics | None:
    """Every shape seen, runs held out (5 seeded folds): predicts each held-out run from the training runs of its
    shape. What to expect after retraining on your own jobs' history. None when no fold could be measured
    (a table with too few runs per workload)."""
    params = params or TrainingParams()
    adjustment = fit_load_adjustment(rows)
    order = np.random.default_rng(params.seed).permutation(len(rows))
    collected = []
    for fold in range(RUN_FOLDS):
        held = {rows[i].app_id for i in order[fold::RUN_FOLDS]}
        train_rows = [r for r in rows if r.app_id not in held]
        beta = fit_scale_exponent(train_rows, adjustment)
        try:
            boosters = fit_boosters(make_pairs(train_rows, adjustment, beta), params)
        except ModelError:  # too few pairs left to train on without this fold: the fold is not measured
            continue
        pairs = make_pairs(rows, adjustment, beta)
        test_mask = ~np.isin(pairs.observed_run, list(held)) & np.isin(pairs.new_run, list(held))
        if test_mask.any():
            collected.append(_collect(subset(pairs, test_mask), boosters, params.prior_init))
    if not collected:
        return None
    merged = {k: np.concatenate([c[k] for c in collected]) for k in collected[0]}
    return _metrics(f"held-out runs ({RUN_FOLDS} folds, every shape seen)", [("runs", merged)], interval_scale)


def cross_validate(rows: list[RunFeatures], params: TrainingParams | None = None) -> list[SplitMetrics]:
    """The held-out splits the table allows (each needs enough pairs to train without its held-out part; a small
    table of your own runs may allow only some); the interval widening found on held-out shapes is checked on
    the others."""
    splits: list[SplitMetrics] = []
    widening = None
    try:
        splits.append(held_out_by_shape(rows, params))
        widening = splits[0].interval_scale_for_80
    except ModelError:
        pass
    for split in (held_out_by_scale, held_out_by_run):
        try:
            measured = split(rows, params, widening)
        except ModelError:
            continue
        if measured is not None:
            splits.append(measured)
    return splits


class ReplicateNoise(BaseModel):
    """How far apart two runs of the identical spec land: the floor under any predictor's error."""

    pairs: int
    median_ape_pct: float | None  # at the observed run's host load (as the model is scored)
    median_ape_raw_pct: float | None  # as measured


def replicate_noise(rows: list[RunFeatures]) -> ReplicateNoise:
    """APE of predicting a run by its replicate (same workload, scale and configuration)."""
    from collections import defaultdict

    adjustment = fit_load_adjustment(rows)
    groups: dict[tuple, list[RunFeatures]] = defaultdict(list)
    for r in rows:
        key = (r.workload, r.scale, r.shuffle_partitions, r.aqe_enabled, r.broadcast_threshold_bytes > 0, r.cores,
               round(r.memory_per_core_mb, 1))
        groups[key].append(r)
    adjusted: list[float] = []
    raw: list[float] = []
    for runs in groups.values():
        for a in runs:
            for b in runs:
                if a is not b:
                    b_at_a_load = b.duration_ms / np.exp(adjustment.log_ratio(a, b))
                    adjusted.append(abs(a.duration_ms - b_at_a_load) / b_at_a_load * 100)
                    raw.append(abs(a.duration_ms - b.duration_ms) / b.duration_ms * 100)
    return ReplicateNoise(
        pairs=len(raw),
        median_ape_pct=float(np.median(adjusted)) if adjusted else None,
        median_ape_raw_pct=float(np.median(raw)) if raw else None,
    )
