"""The workload-shape suite writes real event logs that become feature rows (real local Spark)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.workloads.shapes import SHAPES, run_plan, run_suite
from models.dataset import dataset_from_logs


def test_plan_is_balanced_over_shapes_and_reproducible():
    runs = len(SHAPES) * 4 * 2  # two full rounds over every shape x 4 scales
    plan = run_plan(runs, seed=7)
    assert plan == run_plan(runs, seed=7)
    cells = {(s.shape, s.scale) for s in plan}
    assert len(cells) == len(SHAPES) * 4
    assert all(sum((s.shape, s.scale) == cell for s in plan) == 2 for cell in cells)
    assert all(s.conf["spark.sql.shuffle.partitions"] in {"2", "8", "32", "200"} for s in plan)


def test_plan_over_chosen_shapes_keeps_to_them():
    chosen = ["rollup", "join"]
    plan = run_plan(16, seed=7, shapes=chosen)
    assert {s.shape for s in plan} == set(chosen)
    assert sum(s.shape == "rollup" for s in plan) == 8
    assert run_plan(16, seed=7, shapes=chosen) == plan


@pytest.mark.slow
def test_two_suite_runs_become_feature_rows(tmp_path: Path):
    logs = run_suite(tmp_path / "logs", runs=2, seed=7)
    assert len(logs) == 2
    manifest = [json.loads(line) for line in (tmp_path / "logs" / "manifest.jsonl").read_text().splitlines()]
    assert [m["log"] for m in manifest] == [p.name for p in logs]
    result = dataset_from_logs(tmp_path / "logs", tmp_path / "runs.parquet")
    assert not result.skipped
    plan = run_plan(2, seed=7)
    by_scale = {(r.workload, r.scale): r for r in result.rows}
    for spec, manifest_row in zip(plan, manifest, strict=True):
        row = by_scale[(spec.shape, spec.scale)]
        assert row.cores == spec.cores
        assert row.shuffle_partitions == int(spec.conf["spark.sql.shuffle.partitions"])
        assert row.host_probe_ms == pytest.approx(manifest_row["probe_before_ms"], abs=0.1)
        assert row.exchanges >= 1 and row.tasks > 0
