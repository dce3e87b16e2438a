"""`copilot predict`, `copilot whatif` and `copilot models` as a user runs them (real process, real logs)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from models.dataset import read_table, table_hash, write_table


def copilot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "copilot.cli", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_predict_json(sql_cluster_log: Path):
    done = copilot("predict", str(sql_cluster_log), "--set", "spark.sql.shuffle.partitions=64",
                   "--set", "spark.executor.instances=4", "--json")
    assert done.returncode == 0, done.stderr
    prediction = json.loads(done.stdout)
    assert prediction["component"] == "simulator+model"
    assert prediction["changes"] == {"spark.sql.shuffle.partitions": "64", "spark.executor.instances": "4"}
    assert prediction["low_ms"] <= prediction["estimated_duration_ms"] <= prediction["high_ms"]
    spans = prediction["low_ms"] < prediction["observed_duration_ms"] < prediction["high_ms"]
    assert (prediction["direction"] == "uncertain") is spans


def test_predict_says_when_its_interval_includes_no_change(sql_cluster_log: Path):
    done = copilot("predict", str(sql_cluster_log), "--set", "spark.sql.adaptive.enabled=false", "--json")
    prediction = json.loads(done.stdout)
    assert prediction["low_ms"] < prediction["observed_duration_ms"] < prediction["high_ms"]  # a 4x-wide interval
    text = copilot("predict", str(sql_cluster_log), "--set", "spark.sql.adaptive.enabled=false",
                   env={"COLUMNS": "200"}).stdout
    assert "; the interval includes the observed runtime)" in text, text


def test_predict_for_people_shows_the_interval(sql_cluster_log: Path):
    done = copilot("predict", str(sql_cluster_log), "--set", "spark.sql.adaptive.enabled=false")
    assert done.returncode == 0, done.stderr
    assert "80% interval" in done.stdout and "answered by" in done.stdout
    assert re.search(r"predicted .*\((\d+\.\d\dx (faster|slower)|about the same)[;)]", done.stdout), done.stdout


def test_predicted_change_reads_as_faster_or_slower():
    from graph.units import speed_change

    assert speed_change(2.0) == "2.00x faster"
    assert speed_change(0.8) == "1.25x slower"
    assert speed_change(1.001) == "about the same"


def test_a_prediction_whose_interval_holds_todays_runtime_has_no_direction():
    from tools.units import runtime_direction

    assert runtime_direction(100.0, 50.0) == "faster"
    assert runtime_direction(100.0, 50.0, 40.0, 90.0) == "faster"
    assert runtime_direction(100.0, 50.0, 40.0, 170.0) == "uncertain"
    assert runtime_direction(100.0, 120.0, 105.0, 150.0) == "slower"
    assert runtime_direction(100.0, 120.0, 90.0, 150.0) == "uncertain"
    assert runtime_direction(100.0, 100.2) == "unchanged"
    assert runtime_direction(100.0, 100.0, 100.0, 130.0) == "unchanged"  # an end at today's runtime is not across it


def test_predict_bad_setting_is_one_error_line(cluster_log: Path):
    done = copilot("predict", str(cluster_log), "--set", "spark.sql.shuffle.partitions")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["copilot: error: --set expects key=value, got 'spark.sql.shuffle.partitions'"]


def test_predict_unknown_key_is_one_error_line(cluster_log: Path):
    done = copilot("predict", str(cluster_log), "--set", "spark.foo=1")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "supported keys" in done.stderr


def test_predict_missing_log_is_one_error_line(tmp_path: Path):
    done = copilot("predict", str(tmp_path / "nope"), "--set", "spark.sql.shuffle.partitions=8")
    assert done.returncode == 2
    assert done.stderr.startswith("copilot: error:") and len(done.stderr.strip().splitlines()) == 1


def test_whatif_json_curve(cluster_log: Path):
    done = copilot("whatif", str(cluster_log), "--json")
    assert done.returncode == 0, done.stderr
    curve = json.loads(done.stdout)
    assert [p["executors"] for p in curve["points"]] == sorted(p["executors"] for p in curve["points"])
    at_observed = [p for p in curve["points"] if p["factor"] == 1.0]
    assert at_observed and abs(at_observed[0]["estimated_duration_ms"] - curve["observed_duration_ms"]) < 1e-6


def test_models_dataset_on_public_logs(eventlog_fixtures: Path, tmp_path: Path):
    logs = eventlog_fixtures / "apache__spark" / "spark-events"
    table = tmp_path / "public.csv"
    done = copilot("models", "dataset", str(logs), "--out", str(table), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    rows = read_table(table)
    assert summary["rows"] == len(rows) >= 15
    assert "application_1555004656427_0144" in summary["skipped"]  # no task timings in that log
    assert summary["table_sha256"] == table_hash(rows)


def test_models_dataset_reads_several_folders(eventlog_fixtures: Path, tmp_path: Path):
    first, second = tmp_path / "cluster-a", tmp_path / "cluster-b"
    first.mkdir()
    second.mkdir()
    spark_events = eventlog_fixtures / "apache__spark" / "spark-events"
    (first / "local-1426633911242").write_bytes((spark_events / "local-1426633911242").read_bytes())
    (second / "local-1642039451826").write_bytes((spark_events / "local-1642039451826").read_bytes())
    done = copilot("models", "dataset", str(first), str(second), "--out", str(tmp_path / "t.csv"), "--json")
    assert done.returncode == 0, done.stderr
    assert sorted(r.app_id for r in read_table(tmp_path / "t.csv")) == ["local-1426533911241", "local-1642039451826"]

    missing = copilot("models", "dataset", str(first), str(tmp_path / "nope"), "--out", str(tmp_path / "u.csv"))
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [f"copilot: error: {tmp_path / 'nope'} is not a directory of event logs"]
    assert not (tmp_path / "u.csv").exists()


def test_models_train_on_a_small_table(small_rows, tmp_path: Path):
    table = write_table(small_rows, tmp_path / "small.parquet")
    done = copilot("models", "train", str(table), "--out", str(tmp_path / "m"), "--no-evaluate", "--json")
    assert done.returncode == 0, done.stderr
    card = json.loads(done.stdout)
    assert card["training_rows"] == len(small_rows)
    assert (tmp_path / "m" / "runtime_p50.txt").is_file()


def test_models_train_refuses_a_table_without_repeated_workloads(small_rows, tmp_path: Path):
    single = [r.model_copy(update={"workload": f"w{i}"}) for i, r in enumerate(small_rows)]
    table = write_table(single, tmp_path / "single.csv")
    done = copilot("models", "train", str(table), "--out", str(tmp_path / "m"), "--no-evaluate")
    assert done.returncode == 2
    assert "training pairs" in done.stderr


def test_model_path_setting_overrides_the_shipped_model(sql_cluster_log: Path, tmp_path: Path):
    done = copilot("predict", str(sql_cluster_log), "--set", "spark.sql.shuffle.partitions=64",
                   env={"COPILOT_MODEL_PATH": str(tmp_path)})
    assert done.returncode == 2
    assert done.stderr.startswith("copilot: error: no runtime model at") and len(done.stderr.strip().splitlines()) == 1


def test_predict_for_people_shows_the_cost_now_and_after(cluster_log: Path):
    done = copilot("predict", str(cluster_log), "--set", "spark.executor.instances=4",
                   env={"COPILOT_PRICING__PRICE_PER_CORE_HOUR": "1", "COPILOT_PRICING__PRICE_PER_GB_HOUR": "0"})
    assert done.returncode == 0, done.stderr
    assert re.search(r"cost\s+│ \$[\d.,]+ now -> \$[\d.,]+ +\(\$[\d.,]+ to \$[\d.,]+\)", done.stdout), done.stdout
    as_json = json.loads(copilot("predict", str(cluster_log), "--set", "spark.executor.instances=4", "--json").stdout)
    assert as_json["estimated_cost"] > 0 and as_json["currency"] == "USD"


def test_models_train_evaluates_a_small_history_on_the_splits_it_allows(small_rows, tmp_path: Path):
    """Two workloads x 5 runs of your own: too few to train without the largest scale, enough for the rest."""
    own = [r for r in small_rows if r.workload == "join"][:5] + [r for r in small_rows if r.workload == "sort"][:5]
    table = write_table(own, tmp_path / "own.parquet")
    done = copilot("models", "train", str(table), "--out", str(tmp_path / "m"), "--json")
    assert done.returncode == 0, done.stderr
    splits = [s["split"] for s in json.loads(done.stdout)["metrics"]["splits"]]
    assert splits == ["held-out shape", "held-out runs (5 folds, every shape seen)"]
    assert "### held-out runs" in (tmp_path / "m" / "MODEL_CARD.md").read_text()
