"""Training the runtime model: pairs of comparable runs -> LightGBM on the log runtime ratio.

For every ordered pair (observed run i, new run j) of the same workload, the input is
i's features plus j's configuration (and the data-scale ratio), the target is
log(duration_j / duration_i). A physical first guess (`features.prior_log_ratio`) is one
of the features; with `TrainingParams.prior_init` it is the init score instead and a
prediction is prior + booster output. Three boosters share the inputs: the point model
(Huber loss) and the 10% / 90% quantile models that give the 80% interval. Training is seeded and
single-threaded, so the same table and seed give byte-identical model text.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from models.card import render_model_card
from models.features import (
    MONOTONE_INCREASING,
    PAIR_FEATURES,
    ConfigChange,
    RunFeatures,
    config_of,
    pair_vector,
    prior_log_ratio,
)

MODEL_FILES = {"point": "runtime_p50.txt", "low": "runtime_p10.txt", "high": "runtime_p90.txt"}
CARD_JSON = "runtime_model.json"
CARD_MARKDOWN = "MODEL_CARD.md"
QUANTILES = {"low": 0.1, "high": 0.9}


class TrainingParams(BaseModel):
    """Boosting settings: slow and regularised, because single runs are noisy (chosen on held-out shapes,
    see MODEL_CARD.md). On the 15-shape table 31 leaves / 20 per leaf / 600 rounds gave 23.5% median APE
    on held-out shapes against 24.3% for 15 / 50 / 300; more leaves or rounds than that gained nothing."""

    seed: int = 42
    objective: str = "huber"  # robust to the odd run slowed by a busy host
    huber_delta: float = 0.3  # in log-ratio units (about 35%)
    num_boost_round: int = 600
    learning_rate: float = 0.03
    num_leaves: int = 31
    min_data_in_leaf: int = 20
    # Start the trees from the physical prior (init score) or from zero with the prior as one feature.
    # Measured on held-out shapes (clean runs): from zero 28.7% median APE, from the prior 40.1%; the prior
    # over-predicts parallel speed-up and AQE coalescing on small runs, and as an init score its bias stays.
    prior_init: bool = False
    feature_fraction: float = 0.9
    bagging_fraction: float = 0.8
    bagging_freq: int = 1
    lambda_l2: float = 10.0


class TrainingRange(BaseModel):
    """The values the training pairs covered; requests outside are flagged."""

    shuffle_partitions: tuple[float, float]
    cores: tuple[float, float]
    memory_ratio: tuple[float, float]
    scale_ratio: tuple[float, float]
    observed_duration_ms: tuple[float, float]
    aqe_values: list[int]
    broadcast_values: list[int]


class Pairs(BaseModel):
    """Training rows built from run pairs (kept as lists so the model stays pydantic)."""

    features: list[list[float]] = Field(default_factory=list)
    anchor_features: list[list[float]] = Field(default_factory=list)  # the observed run with no change
    target: list[float] = Field(default_factory=list)  # log(new / observed)
    workload: list[str] = Field(default_factory=list)
    observed_run: list[str] = Field(default_factory=list)  # app ids of the run observed and the run predicted
    new_run: list[str] = Field(default_factory=list)
    observed_scale: list[float] = Field(default_factory=list)
    new_scale: list[float] = Field(default_factory=list)
    observed_ms: list[float] = Field(default_factory=list)
    new_ms: list[float] = Field(default_factory=list)  # new run's duration at the observed run's host load
    new_raw_ms: list[float] = Field(default_factory=list)  # as measured
    sim_log_ratio: list[float] = Field(default_factory=list)
    prior_log_ratio: list[float] = Field(default_factory=list)  # the physical first guess the trees correct


def change_between(observed: RunFeatures, new: RunFeatures) -> ConfigChange:
    """The configuration change that turns run `observed` into run `new`."""
    return config_of(new, scale_ratio=new.scale / observed.scale if observed.scale > 0 else 1.0)


class LoadAdjustment(BaseModel):
    """How measured runtime follows host load, fitted on the training runs.

    log(duration) ~ probe_exponent x log(host probe) + share_exponent x log(CPU share)
    + per-(workload, scale) levels + configuration effects. Pair targets then compare the
    new run at the observed run's host load, so other tenants' load on the machine that
    made the runs is not learned as a configuration effect.
    """

    probe_exponent: float = 0.0
    share_exponent: float = 0.0

    def log_factor(self, run: RunFeatures) -> tuple[float, float]:
        probe = math.log(run.host_probe_ms) if run.host_probe_ms else None
        share = math.log(run.cpu_share) if run.cpu_share else None
        return (probe if probe is not None else math.nan, share if share is not None else math.nan)

    def log_ratio(self, observed: RunFeatures, new: RunFeatures) -> float:
        """log(host slowdown of `new` relative to `observed`); 0 where a measurement is missing."""
        (p_obs, s_obs), (p_new, s_new) = self.log_factor(observed), self.log_factor(new)
        out = 0.0
        if not (math.isnan(p_obs) or math.isnan(p_new)):
            out += self.probe_exponent * (p_new - p_obs)
        if not (math.isnan(s_obs) or math.isnan(s_new)):
            out += self.share_exponent * (s_new - s_obs)
        return out


def fit_load_adjustment(rows: list[RunFeatures]) -> LoadAdjustment:
    """Least-squares exponents of the host-load probe and the CPU share (0 when not measured)."""
    usable = [r for r in rows if r.host_probe_ms and r.cpu_share]
    cells = sorted({(r.workload, r.scale) for r in usable})
    if len(usable) < len(cells) + 10:
        return LoadAdjustment()
    index = {c: i for i, c in enumerate(cells)}
    x = np.zeros((len(usable), len(cells) + 7))
    for row_i, r in enumerate(usable):
        x[row_i, index[(r.workload, r.scale)]] = 1.0
        x[row_i, len(cells):] = [
            math.log(max(r.shuffle_partitions, 1)),
            r.aqe_enabled,
            float(r.broadcast_threshold_bytes > 0),
            math.log(max(r.cores, 1)),
            math.log(max(r.memory_per_core_mb, 1.0)),
            math.log(r.host_probe_ms),
            math.log(r.cpu_share),
        ]
    y = np.log([r.duration_ms for r in usable])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    return LoadAdjustment(
        probe_exponent=float(np.clip(coef[-2], 0.0, 1.5)), share_exponent=float(np.clip(coef[-1], -1.5, 0.0))
    )


def _groups(rows: list[RunFeatures]) -> dict[str, list[RunFeatures]]:
    groups: dict[str, list[RunFeatures]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.workload, r.app_id)):
        groups[row.workload].append(row)
    return groups


def fit_scale_exponent(rows: list[RunFeatures], adjustment: LoadAdjustment) -> float:
    """The exponent of data growth in the physical prior that best explains the scale-changing pairs."""
    cases = []
    for runs in _groups(rows).values():
        for observed in runs:
            for new in runs:
                if new.scale != observed.scale:
                    target = math.log(new.duration_ms / observed.duration_ms) - adjustment.log_ratio(observed, new)
                    cases.append((observed, change_between(observed, new), target))
    if not cases:
        return 1.0
    grid = [i / 20 for i in range(21)]
    errors = [
        float(np.median([abs(prior_log_ratio(o, c, beta) - t) for o, c, t in cases])) for beta in grid
    ]
    return grid[int(np.argmin(errors))]


def make_pairs(
    rows: list[RunFeatures], adjustment: LoadAdjustment | None = None, scale_exponent: float | None = None
) -> Pairs:
    """All ordered pairs of distinct runs within each workload; targets at the observed run's host load."""
    adjustment = adjustment if adjustment is not None else fit_load_adjustment(rows)
    beta = scale_exponent if scale_exponent is not None else fit_scale_exponent(rows, adjustment)
    groups = _groups(rows)
    pairs = Pairs()
    sim_index = PAIR_FEATURES.index("sim_log_ratio")
    prior_index = PAIR_FEATURES.index("prior_log_ratio")
    for workload, runs in groups.items():
        for observed in runs:
            anchor = pair_vector(observed, config_of(observed), beta)
            for new in runs:
                if new is observed:
                    continue
                vector = pair_vector(observed, change_between(observed, new), beta)
                pairs.features.append(vector)
                pairs.anchor_features.append(anchor)
                new_ms = new.duration_ms / math.exp(adjustment.log_ratio(observed, new))
                pairs.target.append(math.log(new_ms / observed.duration_ms))
                pairs.workload.append(workload)
                pairs.observed_run.append(observed.app_id)
                pairs.new_run.append(new.app_id)
                pairs.observed_scale.append(observed.scale)
                pairs.new_scale.append(new.scale)
                pairs.observed_ms.append(observed.duration_ms)
                pairs.new_ms.append(new_ms)
                pairs.new_raw_ms.append(new.duration_ms)
                pairs.sim_log_ratio.append(vector[sim_index])
                pairs.prior_log_ratio.append(vector[prior_index])
    return pairs


def subset(pairs: Pairs, mask: np.ndarray) -> Pairs:
    data = {name: [v for v, keep in zip(values, mask, strict=True) if keep] for name, values in pairs.model_dump().items()}
    return Pairs(**data)


def _lgb_params(params: TrainingParams, objective: str, alpha: float | None = None) -> dict:
    out = {
        "objective": objective,
        "learning_rate": params.learning_rate,
        "num_leaves": params.num_leaves,
        "min_data_in_leaf": params.min_data_in_leaf,
        "feature_fraction": params.feature_fraction,
        "bagging_fraction": params.bagging_fraction,
        "bagging_freq": params.bagging_freq,
        "lambda_l2": params.lambda_l2,
        "seed": params.seed,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": 1,
        "verbosity": -1,
    }
    if alpha is None:  # LightGBM allows monotone constraints only for the point model, not quantile objectives
        out["monotone_constraints"] = [1 if name in MONOTONE_INCREASING else 0 for name in PAIR_FEATURES]
        out["monotone_constraints_method"] = "advanced"
        if objective == "huber":
            out["alpha"] = params.huber_delta
    else:
        out["alpha"] = alpha
    return out


def interval_widths(raw: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-space distances from the point booster's output down to the 10% and up to the 90% booster's.

    The quantile boosters are fitted apart from the point one (and unconstrained), so one of them can land
    on the wrong side of the point; that side then takes the other side's width instead of collapsing onto
    the point (an interval "12.8 s to 49.0 s" around 49.0 s claims no chance of a slower run)."""
    down = np.maximum(np.asarray(raw, dtype=float) - low, 0.0)
    up = np.maximum(np.asarray(high, dtype=float) - raw, 0.0)
    return np.where(down > 0, down, up), np.where(up > 0, up, down)


def base_log_ratio(prior: np.ndarray | float, prior_init: bool) -> np.ndarray | float:
    """What the boosters' output is added to: the physical prior when it was their init score, else zero."""
    return prior if prior_init else prior * 0.0


def fit_boosters(pairs: Pairs, params: TrainingParams) -> dict[str, object]:
    """The point, low and high boosters on the given pairs."""
    import lightgbm as lgb

    x = np.asarray(pairs.features, dtype=float)
    y = np.asarray(pairs.target, dtype=float)
    prior = np.asarray(pairs.prior_log_ratio, dtype=float)
    if len(y) < 20:
        from tools.errors import ModelError

        raise ModelError(f"only {len(y)} training pairs: need several runs of the same workload (>= 20 pairs)")
    boosters: dict[str, object] = {}
    for name in ("point", "low", "high"):
        alpha = QUANTILES.get(name)
        objective = "quantile" if alpha is not None else params.objective
        data = lgb.Dataset(x, y, init_score=prior if params.prior_init else None, feature_name=PAIR_FEATURES, free_raw_data=False,
                           params={"verbosity": -1})
        boosters[name] = lgb.train(_lgb_params(params, objective, alpha), data, num_boost_round=params.num_boost_round)
    return boosters


def training_range(rows: list[RunFeatures]) -> TrainingRange:
    def span(values: list[float]) -> tuple[float, float]:
        return (float(min(values)), float(max(values)))

    pairs_memory: list[float] = []
    pairs_scale: list[float] = []
    groups: dict[str, list[RunFeatures]] = defaultdict(list)
    for r in rows:
        groups[r.workload].append(r)
    for runs in groups.values():
        memories = [r.memory_per_core_mb for r in runs]
        scales = [r.scale for r in runs]
        pairs_memory += [max(memories) / min(memories), min(memories) / max(memories)]
        pairs_scale += [max(scales) / min(scales), min(scales) / max(scales)]
    return TrainingRange(
        shuffle_partitions=span([r.shuffle_partitions for r in rows]),
        cores=span([r.cores for r in rows]),
        memory_ratio=span(pairs_memory),
        scale_ratio=span(pairs_scale),
        observed_duration_ms=span([r.duration_ms for r in rows]),
        aqe_values=sorted({r.aqe_enabled for r in rows}),
        broadcast_values=sorted({int(r.broadcast_threshold_bytes > 0) for r in rows}),
    )


def _versions() -> dict[str, str]:
    import lightgbm
    import pyarrow

    return {"python": platform.python_version(), "lightgbm": lightgbm.__version__, "numpy": np.__version__,
            "pyarrow": pyarrow.__version__}


def train_and_save(
    rows: list[RunFeatures],
    out_dir: Path,
    params: TrainingParams | None = None,
    table_sha256: str | None = None,
    provenance: str = "",
    metrics: dict | None = None,
    interval_scale: float = 1.0,
) -> dict:
    """Train the three boosters on all rows, write their text files and the machine-readable card."""
    from models.dataset import table_hash

    params = params or TrainingParams()
    adjustment = fit_load_adjustment(rows)
    scale_exponent = fit_scale_exponent(rows, adjustment)
    pairs = make_pairs(rows, adjustment, scale_exponent)
    boosters = fit_boosters(pairs, params)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, str]] = {}
    for name, booster in boosters.items():
        text = booster.model_to_string()
        path = out_dir / MODEL_FILES[name]
        path.write_text(text)
        files[name] = {"file": MODEL_FILES[name], "sha256": hashlib.sha256(text.encode()).hexdigest()}
    card = {
        "name": "spark-copilot runtime ratio model",
        "target": "log(duration_new_ms / duration_observed_ms) for two runs of the same workload",
        "init_score": ("prior_log_ratio (prediction = prior_log_ratio + booster output)" if params.prior_init
                       else "none (prediction = booster output; prior_log_ratio is a feature)"),
        "features": PAIR_FEATURES,
        "monotone_increasing": sorted(MONOTONE_INCREASING),
        "quantiles": QUANTILES,
        "interval_scale": interval_scale,
        "files": files,
        "params": params.model_dump(),
        "training_rows": len(rows),
        "training_pairs": len(pairs.target),
        "workloads": sorted({r.workload for r in rows}),
        "training_range": training_range(rows).model_dump(),
        "load_adjustment": adjustment.model_dump(),
        "scale_exponent": scale_exponent,
        "feature_table_sha256": table_sha256 or table_hash(rows),
        "provenance": provenance,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": _versions(),
        "metrics": metrics or {},
    }
    (out_dir / CARD_JSON).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    (out_dir / CARD_MARKDOWN).write_text(render_model_card(card))
    return card


def train_from_table(
    table_path: Path, out_dir: Path, params: TrainingParams | None = None, evaluate: bool = True
) -> dict:
    """Read a feature table, measure held-out accuracy (optional), train on everything and save."""
    from models.dataset import read_table, table_hash
    from models.evaluate import cross_validate, replicate_noise

    rows = read_table(table_path)
    params = params or TrainingParams()
    metrics: dict = {}
    interval_scale = 1.0
    if evaluate:
        splits = cross_validate(rows, params)
        metrics["splits"] = [m.model_dump() for m in splits]
        metrics["replicate_noise"] = replicate_noise(rows).model_dump()
        by_shape = [s for s in splits if s.split == "held-out shape"]
        interval_scale = by_shape[0].interval_scale_for_80 if by_shape else 1.0
    return train_and_save(
        rows,
        out_dir,
        params,
        table_sha256=table_hash(rows),
        provenance=f"feature table {table_path.name}: {len(rows)} runs",
        metrics=metrics,
        interval_scale=interval_scale,
    )
