"""Predicting the runtime of an application under a configuration change.

Executor-count changes go to the simulator (it replays the observed tasks on more or
fewer slots); shuffle partitions, AQE, broadcast threshold, cores, memory and input
scale go to the LightGBM ratio model; when both kinds change, the two log ratios add.
Requests outside what the model was trained on are answered with a caveat.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field, computed_field

from models.features import (
    PAIR_FEATURES,
    ConfigChange,
    RunFeatures,
    config_of,
    heap_bytes,
    heap_property,
    pair_vector,
    parse_bool,
    parse_bytes,
    run_features,
    task_jvm_role,
)
from models.train import CARD_JSON, MODEL_FILES, TrainingRange, base_log_ratio, interval_widths
from tools.cost import Pricing
from tools.errors import ModelError
from tools.eventlog.master import local_master
from tools.eventlog.model import AppProfile
from tools.units import human_duration, human_duration_range, runtime_direction

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent
INTERVAL = 0.8

SIMULATOR_KEYS = {"spark.executor.instances", "executors"}
MODEL_KEYS = {
    "spark.sql.shuffle.partitions",
    "spark.sql.adaptive.enabled",
    "spark.sql.autoBroadcastJoinThreshold",
    "spark.executor.cores",
    "spark.master",
    "spark.executor.memory",
    "spark.driver.memory",
    "spark.memory.fraction",
    "input.scale",
}
SUPPORTED_KEYS = sorted(SIMULATOR_KEYS | MODEL_KEYS)
SQL_KEYS = {"spark.sql.shuffle.partitions", "spark.sql.adaptive.enabled", "spark.sql.autoBroadcastJoinThreshold"}
SQL_EVENTS_SINCE = (2, 0)  # from Spark 2.0 every SQL/DataFrame query is in the event log


def runs_no_sql(profile: AppProfile) -> bool:
    """True for a Spark 2.0+ log without a single SQL execution: RDD code, which spark.sql.* settings do not
    touch (an MLlib RDD job was predicted 2.2x faster with 9 shuffle partitions). Older logs may leave SQL out."""
    return profile.release >= SQL_EVENTS_SINCE and not profile.sql_executions


class Prediction(BaseModel):
    """Estimated runtime under the requested changes, with an 80% interval and where it came from."""

    app_id: str
    changes: dict[str, str]
    observed_duration_ms: float
    estimated_duration_ms: float
    low_ms: float
    high_ms: float
    interval: float = INTERVAL
    component: str  # none | simulator | model | simulator+model
    speedup: float  # observed / estimated
    simulator_error_pct: float | None = None  # the simulator's own error on the observed run
    caveats: list[str] = Field(default_factory=list)
    # what the run would cost (when prices are given): observed, predicted, and at the interval's ends
    currency: str | None = None
    observed_cost: float | None = None
    estimated_cost: float | None = None
    low_cost: float | None = None
    high_cost: float | None = None

    @computed_field
    @property
    def direction(self) -> str:
        """"faster", "slower", "unchanged", or "uncertain" when the interval includes the observed runtime."""
        return runtime_direction(self.observed_duration_ms, self.estimated_duration_ms, self.low_ms, self.high_ms)


class RuntimeModel:
    """The three shipped boosters (point, 10%, 90%) and their card."""

    def __init__(self, card: dict, boosters: dict, path: Path) -> None:
        self.card = card
        self.boosters = boosters
        self.path = path
        self.training_range = TrainingRange(**card["training_range"])

    def predict_log_ratio(self, run: RunFeatures, change: ConfigChange) -> tuple[float, float, float]:
        """(point, low, high) of log(new / observed), anchored so that no change predicts 0."""
        beta = float(self.card.get("scale_exponent", 1.0))
        vector = pair_vector(run, change, beta)
        prior = vector[PAIR_FEATURES.index("prior_log_ratio")]
        rows = np.asarray([vector, pair_vector(run, config_of(run), beta)], dtype=float)
        raw, anchor = self.boosters["point"].predict(rows)
        low, high = (float(self.boosters[k].predict(rows[:1])[0]) for k in ("low", "high"))
        prior_init = bool(self.card.get("params", {}).get("prior_init", False))  # every card of these features has it
        point = float(base_log_ratio(prior, prior_init)) + float(raw - anchor)
        widen = float(self.card.get("interval_scale", 1.0))  # calibrated on held-out shapes
        down, up = interval_widths(np.array([raw]), np.array([low]), np.array([high]))
        return point, point - widen * float(down[0]), point + widen * float(up[0])


def _model_dir(path: Path | None) -> Path:
    path = Path(path) if path is not None else DEFAULT_MODEL_DIR
    return path.parent if path.is_file() else path


@lru_cache(maxsize=4)
def _load_cached(directory: str, stamp: float) -> RuntimeModel:
    import lightgbm as lgb

    base = Path(directory)
    card_path = base / CARD_JSON
    if not card_path.is_file():
        raise ModelError(f"no runtime model at {base} ({CARD_JSON} missing); train one with `copilot models train`")
    try:
        card = json.loads(card_path.read_text())
        files = card["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"runtime model card {card_path} is damaged: {exc}") from None
    if card.get("features") != PAIR_FEATURES:
        raise ModelError(f"runtime model at {base} was trained on other features than this version computes; "
                         "retrain it with `copilot models train`")
    boosters = {}
    for name in MODEL_FILES:
        entry = files.get(name) or {}
        model_path = base / entry.get("file", MODEL_FILES[name])
        if not model_path.is_file():
            raise ModelError(f"runtime model file {model_path} is missing; retrain with `copilot models train`")
        text = model_path.read_text(errors="replace")
        if entry.get("sha256") and hashlib.sha256(text.encode()).hexdigest() != entry["sha256"]:
            raise ModelError(f"runtime model file {model_path} is damaged (checksum mismatch); retrain or reinstall")
        try:
            boosters[name] = lgb.Booster(model_str=text)
        except Exception as exc:  # lightgbm raises its own error type for unparsable text
            raise ModelError(f"runtime model file {model_path} cannot be loaded: {str(exc).splitlines()[0]}") from None
    return RuntimeModel(card, boosters, base)


def load_model(path: Path | None = None) -> RuntimeModel:
    """The runtime model in `path` (a directory or its card JSON); default: the one shipped in `models/`."""
    directory = _model_dir(path)
    card = directory / CARD_JSON
    stamp = card.stat().st_mtime if card.exists() else 0.0
    return _load_cached(str(directory), stamp)


class _Change(BaseModel):
    """A parsed request: the model's new configuration, the simulator's executor count, the new task heap."""

    config: ConfigChange
    executors: int | None = None
    heap_bytes: float
    caveats: list[str] = Field(default_factory=list)


def _parse_change(run: RunFeatures, profile: AppProfile, changes: dict[str, str]) -> _Change:
    """Absolute new configuration (model part), new executor count (simulator part) and task heap."""
    new = config_of(run)
    executors: int | None = None
    heap = heap_bytes(profile)
    caveats: list[str] = []
    fraction = float(profile.property("spark.memory.fraction", "0.6") or 0.6)
    for key, raw in changes.items():
        value = str(raw).strip()
        try:
            if key in SIMULATOR_KEYS:
                executors = int(value)
                if executors < 1:
                    raise ValueError("must be at least 1")
            elif key == "spark.sql.shuffle.partitions":
                new.shuffle_partitions = int(value)
                if new.shuffle_partitions < 1:
                    raise ValueError("must be at least 1")
            elif key == "spark.sql.adaptive.enabled":
                if value.lower() not in {"true", "false"}:
                    raise ValueError("must be true or false")
                new.aqe_enabled = int(parse_bool(value, True))
            elif key == "spark.sql.autoBroadcastJoinThreshold":
                size = parse_bytes(value)
                if size is None:
                    raise ValueError("not a size")
                new.broadcast_threshold_bytes = max(size, 0.0)
            elif key == "spark.executor.cores":
                new.cores = int(value)
            elif key == "spark.master":
                local = local_master(value)
                if local is None or local.cluster or local.cores is None:
                    raise ValueError("only local[N] masters are understood")
                new.cores = local.cores
            elif key in {"spark.executor.memory", "spark.driver.memory"}:
                size = parse_bytes(value)
                if not size or size <= 0:
                    raise ValueError("not a size")
                if key == heap_property(profile):
                    heap = size
                else:  # local mode ignores executor memory; on a cluster the driver's heap runs no tasks
                    caveats.append(f"{key} does not size the heap this run's tasks use ({heap_property(profile)} "
                                   "does); no effect on the runtime predicted")
            elif key == "spark.memory.fraction":
                fraction = float(value)
                if not 0 < fraction < 1:
                    raise ValueError("must be between 0 and 1")
            elif key == "input.scale":
                new.scale_ratio = float(value)
                if new.scale_ratio <= 0:
                    raise ValueError("must be positive")
            else:
                close = difflib.get_close_matches(key, SUPPORTED_KEYS, n=1, cutoff=0.85)  # a typo, not any spark.* key
                hint = f"did you mean {close[0]}? " if close else ""
                raise ModelError(f"cannot predict a change of {key!r}; {hint}supported keys: {', '.join(SUPPORTED_KEYS)}")
        except ValueError as exc:
            raise ModelError(f"bad value for {key}: {value!r} ({exc})") from None
        if new.cores < 1:
            raise ModelError(f"bad value for {key}: {value!r} (cores must be at least 1)")
    new.memory_per_core_mb = heap * fraction / new.cores / 1024**2
    ignored = sorted(key for key in changes if key in SQL_KEYS)
    if ignored and runs_no_sql(profile):
        observed = config_of(run)
        new.shuffle_partitions, new.aqe_enabled = observed.shuffle_partitions, observed.aqe_enabled
        new.broadcast_threshold_bytes = observed.broadcast_threshold_bytes
        caveats.append(f"this application ran no SQL or DataFrame query, so {', '.join(ignored)} does not change it")
    return _Change(config=new, executors=executors, heap_bytes=heap, caveats=caveats)


def _range_caveats(model: RuntimeModel, run: RunFeatures, new: ConfigChange) -> list[str]:
    r = model.training_range
    caveats = []

    def outside(value: float, span: tuple[float, float]) -> bool:
        return value < span[0] * 0.999 or value > span[1] * 1.001

    if new.shuffle_partitions != run.shuffle_partitions and outside(new.shuffle_partitions, r.shuffle_partitions):
        caveats.append(
            f"spark.sql.shuffle.partitions={new.shuffle_partitions} is outside the trained range "
            f"{r.shuffle_partitions[0]:g}..{r.shuffle_partitions[1]:g}"
        )
    if new.cores != run.cores and (outside(new.cores, r.cores) or outside(run.cores, r.cores)):
        caveats.append(f"cores {run.cores} -> {new.cores} is outside the trained range {r.cores[0]:g}..{r.cores[1]:g}")
    memory_ratio = new.memory_per_core_mb / run.memory_per_core_mb if run.memory_per_core_mb else 1.0
    if abs(memory_ratio - 1) > 1e-9 and outside(memory_ratio, r.memory_ratio):
        caveats.append(
            f"memory per core x{memory_ratio:.2f} is outside the trained range "
            f"x{r.memory_ratio[0]:.2f}..x{r.memory_ratio[1]:.2f}"
        )
    if new.scale_ratio != 1 and outside(new.scale_ratio, r.scale_ratio):
        caveats.append(
            f"input scale x{new.scale_ratio:g} is outside the trained range "
            f"x{r.scale_ratio[0]:g}..x{r.scale_ratio[1]:g}"
        )
    if outside(run.duration_ms, r.observed_duration_ms):
        caveats.append(
            f"the observed run ({human_duration(run.duration_ms)}) is outside the trained runtimes "
            f"({human_duration_range(*r.observed_duration_ms)}, small local runs); "
            "effect sizes may not transfer"
        )
    return caveats


def predict_runtime(profile: AppProfile, changes: dict[str, str], model_path: Path | None = None,
                    pricing: Pricing | None = None) -> Prediction:
    """Estimated runtime of `profile`'s application with `changes` applied (Spark property -> value), and its
    cost under `pricing` when given."""
    from tools.simulate import observed_resources, simulate, what_if_curve

    run = run_features(profile)
    change = _parse_change(run, profile, changes)
    new, executors = change.config, change.executors
    model_part = new != config_of(run)
    log_point = log_low = log_high = 0.0
    caveats: list[str] = list(change.caveats)
    executors_ratio = 1.0
    curve = what_if_curve(profile, factors=(1.0,))
    sim_error = curve.error_pct
    if model_part:
        model = load_model(model_path)
        log_point, log_low, log_high = model.predict_log_ratio(run, new)
        caveats += _range_caveats(model, run, new)
    if executors is not None:
        resources = observed_resources(profile)
        local = local_master(profile.master_url)
        if resources.executors == 1 and executors != 1 and local is not None and not local.cluster:
            raise ModelError("local mode has one executor; change spark.master=local[N] (cores) instead")
        base = simulate(profile, resources.executors, new.cores)
        moved = simulate(profile, executors, new.cores)
        sim_log = math.log(moved.estimated_duration_ms / base.estimated_duration_ms)
        spread = math.log1p(min(max(abs(sim_error or 0.0) / 100.0, 0.1), 1.0))
        log_point += sim_log
        log_low += sim_log - spread
        log_high += sim_log + spread
        ratio = executors_ratio = executors / resources.executors
        if ratio < 0.25 or ratio > 4:
            caveats.append(f"{executors} executors is x{ratio:.2g} the observed {resources.executors}; the simulator "
                           "ignores network and shuffle costs that grow with the cluster")
        caveats += [c for c in curve.caveats if c not in caveats]
    component = {(False, False): "none", (True, False): "model", (False, True): "simulator",
                 (True, True): "simulator+model"}[(model_part, executors is not None)]
    observed = run.duration_ms
    estimate, low, high = observed * math.exp(log_point), observed * math.exp(log_low), observed * math.exp(log_high)
    floor = driver_floor_ms(run, new)
    if estimate < floor:
        caveats.append(f"bounded below by the {human_duration(floor)} in which no Spark job ran: driver-side time "
                       "these settings do not shorten")
    estimate, low, high = max(estimate, floor), max(low, floor), max(high, floor)  # the interval too, silently
    prediction = Prediction(
        app_id=profile.app_id,
        changes=dict(changes),
        observed_duration_ms=observed,
        estimated_duration_ms=estimate,
        low_ms=low,
        high_ms=high,
        component=component,
        speedup=observed / estimate if estimate > 0 else 1.0,
        simulator_error_pct=sim_error,
        caveats=caveats,
    )
    if pricing is not None:
        _add_costs(prediction, profile, pricing, executors_ratio, new.cores / run.cores if run.cores else 1.0,
                   change.heap_bytes)
    return prediction


def driver_floor_ms(run: RunFeatures, new: ConfigChange) -> float:
    """The least runtime a change can reach: the time with no Spark job running, which executor-side settings
    do not shorten (a driver-bound run predicted 9.5 min -> 7.8 min from AQE with 5 s of jobs). Less input may
    also shrink driver-side work (collects, listings), so a smaller input scale has no floor."""
    return 0.0 if new.scale_ratio < 1 else max(run.driver_time_ms, 0.0)


def _add_costs(prediction: Prediction, profile: AppProfile, pricing: Pricing, executors_ratio: float,
               cores_ratio: float, heap: float) -> None:
    """Fill the prediction's costs: the observed run's cost with its executors, cores, memory and runtime scaled."""
    from tools.cost import app_cost, changed_cost, container_memory_gb

    role = task_jvm_role(profile)
    before_gb = container_memory_gb(profile, role)
    memory_ratio = container_memory_gb(profile, role, heap / 1024**2) / before_gb if before_gb else 1.0
    observed = app_cost(profile, pricing)
    prediction.currency = observed.currency
    prediction.observed_cost = observed.total_cost
    for field, runtime in (("estimated_cost", prediction.estimated_duration_ms), ("low_cost", prediction.low_ms),
                           ("high_cost", prediction.high_ms)):
        ratio = runtime / prediction.observed_duration_ms if prediction.observed_duration_ms else 1.0
        setattr(prediction, field, changed_cost(observed, pricing, ratio, executors_ratio, cores_ratio, memory_ratio))


def parse_assignments(items: list[str]) -> dict[str, str]:
    """`key=value` strings (from `--set`) to a dict; a malformed one is a ModelError."""
    changes: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ModelError(f"--set expects key=value, got {item!r}")
        changes[key.strip()] = value.strip()
    return changes


def predict_from_log(log_path: Path, changes: dict[str, str], model_path: Path | None = None,
                     pricing: Pricing | None = None) -> Prediction:
    """Load the event log and predict its runtime (and cost) under `changes` (the `copilot predict` command)."""
    from tools.eventlog import load_profile

    return predict_runtime(load_profile(log_path), changes, model_path, pricing)
