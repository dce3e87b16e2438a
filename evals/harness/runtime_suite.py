"""The runtime suite: the runtime engineer's `evaluate_runtime` (held-out shapes and scales) vs both baselines."""

from __future__ import annotations

from evals.harness.registry import SuiteContext, import_part
from evals.harness.scorecard import Metric, ResultTable, SuiteResult

# (metric name, RuntimeScore field, better)
METRICS = [
    ("shape.model.median_ape_pct", "shape_model_median_ape_pct", "lower"),
    ("shape.model.mean_ape_pct", "shape_model_mean_ape_pct", "lower"),
    ("shape.interval_coverage", "shape_interval_coverage", "higher"),
    ("shape.simulator.median_ape_pct", "shape_simulator_median_ape_pct", "lower"),
    ("shape.naive.median_ape_pct", "shape_naive_median_ape_pct", "lower"),
    ("scale.model.median_ape_pct", "scale_model_median_ape_pct", "lower"),
    ("scale.model.mean_ape_pct", "scale_model_mean_ape_pct", "lower"),
    ("scale.interval_coverage", "scale_interval_coverage", "higher"),
    ("scale.simulator.median_ape_pct", "scale_simulator_median_ape_pct", "lower"),
    ("scale.naive.median_ape_pct", "scale_naive_median_ape_pct", "lower"),
    ("simulator.observed_median_abs_error_pct", "simulator_observed_median_abs_error_pct", "lower"),
]


def run_runtime(context: SuiteContext) -> SuiteResult:
    runtime_eval = import_part("evals.runtime_eval", "runtime engineer")
    score = runtime_eval.evaluate_runtime(progress=context.advance)
    metrics = [
        Metric(name=name, value=getattr(score, field), better=better, unit="percent" if name.endswith("_pct") else "ratio")
        for name, field, better in METRICS
    ]
    table = ResultTable(
        title="held-out split: model vs baselines (median / mean APE %)",
        columns=["split", "pairs", "model median", "model mean", "simulator median", "naive median", "80% interval coverage"],
        rows=[
            ["by shape", score.shape_pairs, score.shape_model_median_ape_pct, score.shape_model_mean_ape_pct,
             score.shape_simulator_median_ape_pct, score.shape_naive_median_ape_pct, score.shape_interval_coverage],
            ["by scale", score.scale_pairs, score.scale_model_median_ape_pct, score.scale_model_mean_ape_pct,
             score.scale_simulator_median_ape_pct, score.scale_naive_median_ape_pct, score.scale_interval_coverage],
        ],
    )
    tables = [table]
    if score.per_shape:
        columns = sorted({k for row in score.per_shape.values() for k in row})
        tables.append(ResultTable(title="per held-out shape (model)", columns=["shape", *columns],
                                  rows=[[shape, *(row.get(c) for c in columns)] for shape, row in score.per_shape.items()]))
    return SuiteResult(suite="runtime", status="ok", items=score.runs, metrics=metrics, tables=tables,
                       misses=list(score.misses))
