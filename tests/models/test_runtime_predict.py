"""The shipped runtime model answering questions about real public event logs, offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from models import predict_runtime
from models.predict import DEFAULT_MODEL_DIR, load_model, parse_assignments
from tools.errors import ModelError
from tools.eventlog import load_profile


@pytest.fixture(scope="module")
def cluster_profile(cluster_log: Path):
    return load_profile(cluster_log)


@pytest.fixture(scope="module")
def sql_cluster_profile(sql_cluster_log: Path):
    return load_profile(sql_cluster_log)


@pytest.fixture(scope="module")
def local_profile(local_log: Path):
    return load_profile(local_log)


def test_shipped_model_predicts_a_shuffle_partition_change(sql_cluster_profile):
    prediction = predict_runtime(sql_cluster_profile, {"spark.sql.shuffle.partitions": "64"})
    assert prediction.component == "model"
    assert prediction.low_ms <= prediction.estimated_duration_ms <= prediction.high_ms
    assert 0.2 < prediction.estimated_duration_ms / prediction.observed_duration_ms < 5


def test_no_change_predicts_the_observed_runtime(cluster_profile):
    prediction = predict_runtime(cluster_profile, {})
    assert prediction.component == "none"
    assert prediction.estimated_duration_ms == pytest.approx(prediction.observed_duration_ms)


def test_executor_change_is_answered_by_the_simulator(cluster_profile):
    more = predict_runtime(cluster_profile, {"spark.executor.instances": "4"})
    fewer = predict_runtime(cluster_profile, {"spark.executor.instances": "1"})
    assert more.component == fewer.component == "simulator"
    assert more.estimated_duration_ms <= more.observed_duration_ms <= fewer.estimated_duration_ms


def test_executor_and_config_change_combine_both(sql_cluster_profile):
    both = predict_runtime(sql_cluster_profile, {"spark.executor.instances": "4", "spark.sql.adaptive.enabled": "false"})
    assert both.component == "simulator+model"


def test_more_input_never_predicts_faster(local_profile):
    estimates = [
        predict_runtime(local_profile, {"input.scale": str(s)}).estimated_duration_ms for s in (0.25, 0.5, 1, 2, 4, 8)
    ]
    assert estimates == sorted(estimates)
    assert estimates[-1] > estimates[0]


def test_more_input_never_predicts_faster_with_other_changes(sql_cluster_profile):
    base = {"spark.sql.shuffle.partitions": "8", "spark.sql.adaptive.enabled": "false"}
    estimates = [
        predict_runtime(sql_cluster_profile, {**base, "input.scale": str(s)}).estimated_duration_ms for s in (0.5, 1, 2, 4)
    ]
    assert estimates == sorted(estimates)


def test_out_of_range_requests_are_flagged(local_profile):
    inside = predict_runtime(local_profile, {"spark.sql.shuffle.partitions": "32"})
    outside = predict_runtime(local_profile, {"spark.sql.shuffle.partitions": "5000", "input.scale": "100"})
    assert not any("shuffle.partitions" in c for c in inside.caveats)
    assert any("spark.sql.shuffle.partitions=5000 is outside the trained range" in c for c in outside.caveats)
    assert any("input scale x100 is outside the trained range" in c for c in outside.caveats)


def test_unknown_key_is_a_clear_error(local_profile):
    with pytest.raises(ModelError, match="supported keys") as unknown:
        predict_runtime(local_profile, {"spark.foo.bar": "1"})
    assert "did you mean" not in str(unknown.value)
    with pytest.raises(ModelError, match=r"'spark.sql.shufle.partitions'; did you mean spark.sql.shuffle.partitions\? "):
        predict_runtime(local_profile, {"spark.sql.shufle.partitions": "8"})  # a typo: the key it resembles


def test_bad_value_is_a_clear_error(local_profile):
    with pytest.raises(ModelError, match="bad value for spark.sql.shuffle.partitions"):
        predict_runtime(local_profile, {"spark.sql.shuffle.partitions": "many"})


def test_malformed_assignment_is_a_clear_error():
    with pytest.raises(ModelError, match="key=value"):
        parse_assignments(["spark.sql.shuffle.partitions"])


def test_missing_model_file_is_a_model_error(tmp_path: Path, sql_cluster_profile):
    with pytest.raises(ModelError, match="no runtime model"):
        predict_runtime(sql_cluster_profile, {"spark.sql.shuffle.partitions": "64"}, model_path=tmp_path)


def test_damaged_model_file_is_a_model_error(tmp_path: Path, sql_cluster_profile):
    for item in DEFAULT_MODEL_DIR.iterdir():
        if item.suffix in {".txt", ".json"}:
            shutil.copy(item, tmp_path / item.name)
    (tmp_path / "runtime_p50.txt").write_text("tree\nnot a model\n")
    with pytest.raises(ModelError, match="damaged"):
        predict_runtime(sql_cluster_profile, {"spark.sql.shuffle.partitions": "64"}, model_path=tmp_path)


def test_model_trained_on_other_features_is_a_model_error(tmp_path: Path, sql_cluster_profile):
    for item in DEFAULT_MODEL_DIR.iterdir():
        if item.suffix in {".txt", ".json"}:
            shutil.copy(item, tmp_path / item.name)
    card = json.loads((tmp_path / "runtime_model.json").read_text())
    card["features"] = card["features"][:-1]  # as written by a version that computed one feature less
    (tmp_path / "runtime_model.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="trained on other features"):
        predict_runtime(sql_cluster_profile, {"spark.sql.shuffle.partitions": "64"}, model_path=tmp_path)


def test_shipped_card_describes_the_model():
    model = load_model()
    card = model.card
    assert card["training_rows"] >= 200
    assert set(card["workloads"]) >= {"aggregation", "join", "skewed_join", "window", "sort", "wide_scan", "python_udf"}
    assert card["monotone_increasing"] == ["broadcast_shuffle_change", "log_scale_ratio", "prior_log_ratio"]
    assert {s["split"].split(" (")[0] for s in card["metrics"]["splits"]} == {"held-out shape", "held-out scale",
                                                                                "held-out runs"}


@pytest.fixture(scope="module")
def memory_only_prices(tmp_path_factory):
    """Cores free, 1 per GB-hour: a cost is GB-hours, checkable by hand."""
    from tools.cost import load_pricing

    path = tmp_path_factory.mktemp("prices") / "prices.toml"
    path.write_text("price_per_core_hour = 0.0\nprice_per_gb_hour = 1.0\n")
    return load_pricing(path)


def test_priced_prediction_of_no_change_costs_what_the_run_cost(cluster_profile):
    from tools.cost import app_cost, load_pricing

    prices = load_pricing()
    prediction = predict_runtime(cluster_profile, {}, pricing=prices)
    assert prediction.observed_cost == pytest.approx(app_cost(cluster_profile, prices).total_cost)
    assert prediction.estimated_cost == pytest.approx(prediction.observed_cost)
    assert predict_runtime(cluster_profile, {}).estimated_cost is None  # no prices, no cost


def test_smaller_executor_heap_costs_its_container_memory_for_the_predicted_runtime(cluster_profile, memory_only_prices):
    from tools.cost import app_cost, memory_mib

    prediction = predict_runtime(cluster_profile, {"spark.executor.memory": "1g"}, pricing=memory_only_prices)
    observed = app_cost(cluster_profile, memory_only_prices)
    heap = memory_mib(cluster_profile.property("spark.executor.memory"))
    memory_ratio = (1024 + 384) / (heap + max(384, 0.1 * heap))  # heap + overhead, after / before
    executor_gb_h = sum(e.allocated_gb_hours for e in observed.executors)
    runtime_ratio = prediction.estimated_duration_ms / prediction.observed_duration_ms
    expected = runtime_ratio * (observed.driver_cost + executor_gb_h * memory_ratio)
    assert prediction.estimated_cost == pytest.approx(expected)
    assert prediction.low_cost <= prediction.estimated_cost <= prediction.high_cost


def test_doubling_executors_doubles_their_cost_per_unit_of_runtime(cluster_profile):
    from tools.cost import app_cost, load_pricing
    from tools.simulate import observed_resources

    prices = load_pricing()
    resources = observed_resources(cluster_profile)
    prediction = predict_runtime(cluster_profile, {"executors": str(2 * resources.executors)}, pricing=prices)
    observed = app_cost(cluster_profile, prices)
    runtime_ratio = prediction.estimated_duration_ms / prediction.observed_duration_ms
    expected = runtime_ratio * (observed.driver_cost + 2 * observed.executor_cost)
    assert prediction.estimated_cost == pytest.approx(expected)


def test_a_memory_setting_that_sizes_no_task_heap_predicts_no_change(local_profile):
    """Local mode runs tasks in the driver: spark.executor.memory changes nothing there."""
    prediction = predict_runtime(local_profile, {"spark.executor.memory": "8g"})
    assert prediction.component == "none"
    assert prediction.estimated_duration_ms == pytest.approx(prediction.observed_duration_ms)
    assert any("spark.executor.memory does not size the heap" in c for c in prediction.caveats)
    assert predict_runtime(local_profile, {"spark.driver.memory": "8g"}).component == "model"


def test_a_driver_bound_run_is_never_predicted_below_its_driver_only_time(eventlog_fixtures: Path):
    """jdbc_eventlog: 9.5 min with 5 s of jobs. AQE was predicted to make it 7.8 min; settings that change how the
    jobs run cannot shorten the time in which no job ran."""
    profile = load_profile(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "jdbc_eventlog.zstd")
    assert profile.driver_time_ms > 0.95 * profile.duration_ms
    p = predict_runtime(profile, {"spark.sql.adaptive.enabled": "true"})
    assert p.estimated_duration_ms >= profile.driver_time_ms and p.low_ms >= profile.driver_time_ms
    assert p.low_ms <= p.estimated_duration_ms <= p.high_ms
    assert any("no Spark job ran" in c for c in p.caveats)
    smaller = predict_runtime(profile, {"input.scale": "0.5"})  # less input may shrink driver-side work too
    assert not any("no Spark job ran" in c for c in smaller.caveats)


def test_the_interval_never_reaches_below_the_driver_only_time_and_only_a_bounded_point_says_so(eventlog_fixtures):
    """dsAndDf_eventlog: 4.7 s of its 16.3 s ran no job; with 400 shuffle partitions the 10% quantile booster
    goes below that (3.4 s), the point does not."""
    profile = load_profile(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "dsAndDf_eventlog.zstd")
    p = predict_runtime(profile, {"spark.sql.shuffle.partitions": "400"})
    assert p.component == "model"
    assert p.low_ms == pytest.approx(profile.driver_time_ms)
    assert p.estimated_duration_ms > profile.driver_time_ms
    assert not any("no Spark job ran" in c for c in p.caveats)


def test_sql_settings_do_not_change_an_application_without_sql(cluster_profile):
    """An RDD application (Spark 3.0, no SQL execution in its log): the model used to predict an effect of
    spark.sql.* settings Spark never reads for it."""
    prediction = predict_runtime(cluster_profile, {"spark.sql.shuffle.partitions": "64", "spark.sql.adaptive.enabled": "true"})
    assert prediction.component == "none"
    assert prediction.estimated_duration_ms == pytest.approx(prediction.observed_duration_ms)
    assert any(c.startswith("this application ran no SQL or DataFrame query, so spark.sql.adaptive.enabled, "
                            "spark.sql.shuffle.partitions does not change it") for c in prediction.caveats)
    with_executors = predict_runtime(cluster_profile, {"spark.sql.shuffle.partitions": "64", "spark.executor.instances": "4"})
    assert with_executors.component == "simulator"
