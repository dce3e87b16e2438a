"""The human-readable model card (MODEL_CARD.md), rendered from the machine-readable card JSON.

Written next to the model by every training run, so the figures in the card are the
ones measured for that model and cannot drift from the JSON.
"""

from __future__ import annotations

FORMULATION = """\
## What it predicts, and why this formulation

The model answers "how long will this application take if I change X?", where X is a
setting the executor-count simulator cannot reason about: `spark.sql.shuffle.partitions`,
`spark.sql.adaptive.enabled`, `spark.sql.autoBroadcastJoinThreshold`, executor cores,
executor memory / `spark.memory.fraction`, and the input size (`input.scale`).

It is an **application-level ratio model**: for two runs *i* (observed) and *j* (new) of
the same workload, it predicts `log(duration_j / duration_i)` from run *i*'s profile and
run *j*'s configuration. Why:

- A ratio transfers across jobs of very different sizes: the absolute runtime of the
  user's job is already known (it is in the log), only the effect of the change is
  needed. Absolute-runtime models must learn cluster speed, data size and code cost,
  which no feature table of a few hundred runs can cover.
- Application level, not stage level: AQE and broadcast changes rewrite the stage DAG
  (stages appear, disappear, merge), so there is no stable stage to pair across runs.
- Physics as a feature, trees decide: each pair carries a physical first guess
  (`prior_log_ratio`: driver time fixed, map-side work x input scale, shuffle-side
  work x scale re-cut into the new partition count with the observed per-task cost,
  all spread over the new slot count, AQE coalescing toward the slot count) as one
  feature among the profile's shape features and the configuration deltas. An earlier
  version started the trees from the prior (init score); on clean runs that was worse
  on held-out shapes (40.1% vs 28.7% median APE): the prior over-predicts the gain from
  more cores and from AQE coalescing on small runs, and as an init score that bias
  stays in every prediction. `params.prior_init` switches between the two.
- Joins a broadcast-threshold change converts: `broadcast_shuffle_change` is the share of
  the run's shuffled records that the new threshold adds (broadcast joins shuffled instead)
  or removes (sort-merge joins whose smaller side, from the plan's exchange sizes, now fits).
  Without it a threshold change that converts nothing looked like one that converts a join.
- Monotone: the point model is constrained to be non-decreasing in `log_scale_ratio`,
  in the prior and in `broadcast_shuffle_change`, so more data (or more shuffling) never
  predicts a faster run, all else equal.
- Anchored: a prediction is the booster output for the change minus its output for no
  change, so asking for the observed configuration returns the observed runtime.
- The 80% interval comes from two quantile boosters (alpha 0.1 and 0.9) on the same
  inputs, widened (in log space, around the point) by the factor that gives 80% coverage
  on the leave-one-shape-out predictions (`interval_scale` in the JSON); quantile models
  fitted in-sample are over-confident on a shape they never saw. LightGBM cannot
  constrain quantile objectives, so the bounds are only made to contain the point.
- Host load: each run records a fixed CPU probe taken just before it
  (`spark.copilot.hostProbeMs`); training targets compare the new run at the observed
  run's host load, so other tenants' load is not learned as a configuration effect.
  Errors are reported both ways. The shipped table was made with the suite's process
  group given CPU priority over everything else on the machine (see "Training data" in
  docs/runtime.md), so the correction is small.

Executor-count changes are answered by the simulator (`tools/simulate.py`); when both
kinds of change are requested, the two log ratios add.
"""

LIMITS = """\
## Limits

- Trained on small local runs (seconds, local[1..2], generated data). Effect sizes for
  hour-long cluster jobs are extrapolations; every prediction outside the trained
  runtime range says so in its caveats.
- Memory effects are weak in the training data (no run spilled much); memory changes
  are answered, with the trained range in the caveats.
- A workload the suite does not resemble (streaming, heavy I/O to remote storage,
  caching) is outside what the held-out-shape figures measure.
- Retrain on your own history: `copilot models dataset LOG_DIR --out runs.parquet` then
  `copilot models train runs.parquet --out DIR` and point `COPILOT_MODEL_PATH` at DIR.
  Runs are paired by application name (or `shape=` in it), scale by input bytes.
"""


def _row(name: str, split: dict, key: str) -> str:
    e = split[key]
    return f"| {name} | {e['median_ape_pct']:.1f}% | {e['mean_ape_pct']:.1f}% | {e['p90_ape_pct']:.1f}% |"


TARGET_MEDIAN_APE_PCT = 15.0


def metrics_markdown(card: dict) -> str:
    """The held-out accuracy tables (also pasted into docs/runtime.md)."""
    lines: list[str] = []
    splits = card.get("metrics", {}).get("splits", [])
    shapes = [s for s in splits if s["split"] == "held-out shape"]
    if shapes:
        shape = shapes[0]
        met = shape["model"]["median_ape_pct"] <= TARGET_MEDIAN_APE_PCT
        beats = all(shape["model"]["median_ape_pct"] < shape[b]["median_ape_pct"] for b in ("simulator", "naive"))
        lines += [
            f"Aim: median APE <= {TARGET_MEDIAN_APE_PCT:g}% on held-out shapes and better than both baselines. "
            f"This model: {shape['model']['median_ape_pct']:.1f}% ({'met' if met else 'NOT met'}); "
            f"{'better' if beats else 'NOT better'} than the simulator and naive baselines by median APE. "
            "Read it against the noise floor below.",
            "",
        ]
    for split in card.get("metrics", {}).get("splits", []):
        lines += [
            f"### {split['split']} ({split['pairs']} run pairs)",
            "",
            "| predictor | median APE | mean APE | p90 APE |",
            "|---|---|---|---|",
            _row("**model**", split, "model"),
            _row("physical prior alone", split, "prior"),
            _row("simulator alone", split, "simulator"),
            _row("naive (same as observed)", split, "naive"),
            _row("model vs raw runtime (host load left in)", split, "model_raw"),
            _row("naive vs raw runtime", split, "naive_raw"),
            "",
            f"80% interval empirical coverage, raw quantile models: **{split['interval_coverage']:.0%}**; "
            f"widening needed for 80% here: x{split['interval_scale_for_80']:.2f}",
            "",
        ]
        if split.get("interval_coverage_scaled") is not None:
            lines += [
                f"Coverage with the widening calibrated on held-out shapes (as shipped): "
                f"**{split['interval_coverage_scaled']:.0%}**",
                "",
            ]
        if split.get("config_only"):
            lines += ["Configuration-only questions (both runs at the same scale):", "",
                      "| predictor | median APE | mean APE | p90 APE |", "|---|---|---|---|"]
            lines += [_row(name, split["config_only"], name) for name in ("model", "prior", "simulator", "naive")]
            lines.append("")
        if split.get("by_run_length"):
            lines += ["By run length (pairs whose shorter run took at least this long):", "",
                      "| both runs at least | pairs | model median APE | naive median APE |", "|---|---|---|---|"]
            lines += [f"| {b['min_s']:g} s | {b['pairs']} | {b['model']['median_ape_pct']:.1f}% | "
                      f"{b['naive']['median_ape_pct']:.1f}% |" for b in split["by_run_length"]]
            lines.append("")
        if len(split.get("per_group", {})) > 1:
            lines += ["| held-out group | model median APE | model mean APE |", "|---|---|---|"]
            lines += [
                f"| {name} | {e['median_ape_pct']:.1f}% | {e['mean_ape_pct']:.1f}% |"
                for name, e in sorted(split["per_group"].items())
            ]
            lines.append("")
    noise = card.get("metrics", {}).get("replicate_noise")
    if noise and noise.get("pairs"):
        lines += [
            "### Noise floor: identical runs",
            "",
            f"{noise['pairs']} ordered pairs of runs with the identical workload, scale and configuration "
            f"(made minutes apart on the same shared machine) differ by a median of "
            f"**{noise['median_ape_pct']:.1f}%** at equal host load ({noise['median_ape_raw_pct']:.1f}% as measured). "
            "Predicting one run from its own replicate is the best a predictor of single noisy runs can do "
            "without knowing the load to come; the figures above should be read against it.",
            "",
        ]
    return "\n".join(lines) if lines else "_not evaluated (trained with --no-evaluate)_\n"


def render_model_card(card: dict) -> str:
    ranges = card["training_range"]
    files = "\n".join(f"- `{v['file']}` ({k}), sha256 `{v['sha256'][:16]}…`" for k, v in sorted(card["files"].items()))
    versions = ", ".join(f"{k} {v}" for k, v in sorted(card["versions"].items()))
    features = ", ".join(f"`{f}`" for f in card["features"])
    return f"""# Model card: runtime ratio model

{FORMULATION}
## Data

- Provenance: {card['provenance']}; {card['training_rows']} runs of {len(card['workloads'])} workloads
  ({', '.join(card['workloads'])}), {card['training_pairs']} ordered run pairs.
- Runs made by `python -m evals.workloads.shapes` (real local PySpark, data generated in-process).
- Feature table sha256 (canonical row content): `{card['feature_table_sha256']}`
- Trained range: shuffle partitions {ranges['shuffle_partitions'][0]:g}..{ranges['shuffle_partitions'][1]:g},
  cores {ranges['cores'][0]:g}..{ranges['cores'][1]:g}, input scale ratio x{ranges['scale_ratio'][0]:g}..x{ranges['scale_ratio'][1]:g},
  memory-per-core ratio x{ranges['memory_ratio'][0]:.2f}..x{ranges['memory_ratio'][1]:.2f}, AQE {ranges['aqe_values']},
  broadcast on/off {ranges['broadcast_values']}, observed runtimes {ranges['observed_duration_ms'][0] / 1000:.1f}..{ranges['observed_duration_ms'][1] / 1000:.1f} s.

## Model

- LightGBM, three boosters sharing inputs: point (L2), 10% and 90% quantiles; seed {card['params']['seed']},
  single-threaded deterministic training (same table + seed = identical model text).
- Parameters: {', '.join(f'{k}={v}' for k, v in sorted(card['params'].items()))}
- Features ({len(card['features'])}): {features}
- Monotone increasing: {', '.join(card['monotone_increasing'])}
- Files:
{files}
- Trained {card['trained_at']} with {versions}

## Held-out accuracy

Absolute percentage error of the predicted runtime of the new run. "Held-out shape":
the model is retrained without any run of the shape it predicts (leave one shape out).
"Held-out scale": trained on pairs below the largest scale, predicts runs at the largest.
"Held-out runs": every shape seen, a fifth of the runs held out at a time; each held-out run is
predicted from a training run of its shape (what to expect after retraining on your own jobs).

{metrics_markdown(card)}
{LIMITS}"""
