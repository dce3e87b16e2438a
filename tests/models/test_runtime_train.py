"""Training is reproducible, respects the monotone constraint and round-trips through the feature table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from models.dataset import read_table, table_hash, write_table
from models.evaluate import held_out_by_shape
from models.features import ConfigChange, pair_vector
from models.predict import load_model
from models.train import MODEL_FILES, TrainingParams, make_pairs, train_and_save

FAST = TrainingParams(num_boost_round=40)


def test_same_seed_gives_identical_model_text(small_rows, tmp_path: Path):
    first = train_and_save(small_rows, tmp_path / "a", FAST)
    second = train_and_save(small_rows, tmp_path / "b", FAST)
    for name in MODEL_FILES.values():
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()
    assert first["files"] == second["files"]


def test_other_seed_gives_another_model(small_rows, tmp_path: Path):
    train_and_save(small_rows, tmp_path / "a", FAST)
    train_and_save(small_rows, tmp_path / "c", FAST.model_copy(update={"seed": 7}))
    assert (tmp_path / "a" / MODEL_FILES["point"]).read_text() != (tmp_path / "c" / MODEL_FILES["point"]).read_text()


def test_pairs_are_within_one_workload_and_target_the_log_ratio(small_rows):
    pairs = make_pairs(small_rows)
    assert len(pairs.target) == 3 * 12 * 11
    assert set(pairs.workload) == {"aggregation", "join", "sort"}
    for target, observed, new in zip(pairs.target[:50], pairs.observed_ms, pairs.new_ms, strict=False):
        assert math.isclose(target, math.log(new / observed))


def test_trained_model_is_monotone_in_input_scale(small_rows, tmp_path: Path):
    train_and_save(small_rows, tmp_path / "m", FAST)
    model = load_model(tmp_path / "m")
    run = small_rows[0]
    base = ConfigChange(shuffle_partitions=64, aqe_enabled=0, broadcast_threshold_bytes=0, cores=2,
                        memory_per_core_mb=run.memory_per_core_mb)
    ratios = [model.predict_log_ratio(run, base.model_copy(update={"scale_ratio": s}))[0] for s in (0.1, 0.5, 1, 2, 8)]
    assert ratios == sorted(ratios)


def test_feature_table_round_trips_with_a_stable_hash(small_rows, tmp_path: Path):
    for suffix in (".parquet", ".csv"):
        path = write_table(small_rows, tmp_path / f"t{suffix}")
        back = read_table(path)
        assert table_hash(back) == table_hash(small_rows)


def test_card_json_records_provenance_and_ranges(small_rows, tmp_path: Path):
    train_and_save(small_rows, tmp_path / "m", FAST, provenance="test table")
    card = json.loads((tmp_path / "m" / "runtime_model.json").read_text())
    assert card["feature_table_sha256"] == table_hash(small_rows)
    assert card["training_range"]["cores"] == [1.0, 2.0]
    assert card["versions"]["lightgbm"]


def test_held_out_shape_evaluation_reports_all_three_predictors(small_rows):
    metrics = held_out_by_shape(small_rows, FAST)
    assert metrics.pairs == 3 * 12 * 11
    assert set(metrics.per_group) == {"aggregation", "join", "sort"}
    assert 0.0 <= metrics.interval_coverage <= 1.0
    assert metrics.naive.median_ape_pct > 0
    lengths = metrics.by_run_length  # every pair at the 0 s floor, fewer as the floor rises
    assert lengths[0].min_s == 0 and lengths[0].pairs == metrics.pairs
    assert lengths[0].model.median_ape_pct == metrics.model.median_ape_pct
    assert [b.pairs for b in lengths] == sorted((b.pairs for b in lengths), reverse=True)


def test_held_out_run_evaluation_predicts_each_held_run_from_seen_runs_of_its_shape(small_rows):
    from models.evaluate import RUN_FOLDS, held_out_by_run

    metrics = held_out_by_run(small_rows, FAST)
    # a held run is predicted from the runs of its workload outside its fold: about (1 - 1/folds) of all pairs
    assert 0.6 * 3 * 12 * 11 < metrics.pairs < 3 * 12 * 11 * (1 - 1 / RUN_FOLDS) * 1.1
    assert metrics.split.startswith("held-out runs") and 0.0 <= metrics.interval_coverage <= 1.0
    assert held_out_by_run(small_rows, FAST).model == metrics.model  # seeded folds: the same figures again


def test_pair_vector_has_no_change_signal_for_an_unchanged_run(small_rows):
    run = small_rows[0]
    same = ConfigChange(shuffle_partitions=run.shuffle_partitions, aqe_enabled=run.aqe_enabled,
                        broadcast_threshold_bytes=run.broadcast_threshold_bytes, cores=run.cores,
                        memory_per_core_mb=run.memory_per_core_mb)
    from models.features import PAIR_FEATURES

    vector = dict(zip(PAIR_FEATURES, pair_vector(run, same), strict=True))
    assert vector["delta_log_shuffle_partitions"] == vector["delta_log_cores"] == vector["log_scale_ratio"] == 0.0
    assert vector["sim_log_ratio"] == 0.0


def test_an_interval_side_the_quantile_booster_put_past_the_point_takes_the_other_sides_width():
    from models.train import interval_widths

    down, up = interval_widths(np.array([0.0, 0.0, 0.0]), np.array([-0.2, 0.1, -0.3]), np.array([0.4, 0.5, -0.1]))
    assert down.tolist() == pytest.approx([0.2, 0.5, 0.3])  # the 10% booster above the point: mirror the top
    assert up.tolist() == pytest.approx([0.4, 0.5, 0.3])  # the 90% booster below the point: mirror the bottom
