"""`copilot eval` end to end on tiny case sets made in tmp from the real public event logs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from copilot.settings import Settings
from evals.harness import EvalOptions, run_eval
from evals.harness.errors import EvalInputError
from tests.evals.helpers import QUIET_LOG, UDF_LOG, write_case


@pytest.fixture
def good_cases(tmp_path: Path, eventlog_fixtures: Path) -> Path:
    """Two cases the rules get right: a Python UDF, and a quiet Spark 2 app."""
    cases = tmp_path / "good"
    write_case(cases, "udf", eventlog_fixtures / UDF_LOG, ["python_udf"], ["cartesian_join", "task_failures"])
    write_case(cases, "quiet", eventlog_fixtures / QUIET_LOG, [], ["skew", "cartesian_join", "executor_loss"])
    return cases


@pytest.fixture
def thresholds(tmp_path: Path) -> Path:
    path = tmp_path / "thresholds.toml"
    path.write_text("[detection]\nrequired = true\n[detection.min]\nrecall = 1.0\nprecision = 1.0\n")
    return path


def add_failing_case(cases_dir: Path, eventlog_fixtures: Path) -> None:
    """A case whose label the log cannot satisfy: the UDF app has no cartesian join, so recall drops."""
    write_case(cases_dir, "must_fail", eventlog_fixtures / UDF_LOG, ["cartesian_join"], [])


def options(cases_dir: Path, thresholds_path: Path, tmp_path: Path, **extra) -> EvalOptions:
    return EvalOptions(
        suites=["detection"], cases_dir=cases_dir, gate=True, thresholds_path=thresholds_path,
        out_dir=tmp_path / "out", progress=False, **extra,
    )


def copilot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "copilot.cli", *args], capture_output=True, text=True, timeout=600)


def test_gate_passes_on_good_cases_and_fails_when_a_case_drops(
    good_cases: Path, thresholds: Path, tmp_path: Path, eventlog_fixtures: Path
) -> None:
    passed = run_eval(options(good_cases, thresholds, tmp_path), Settings())
    assert passed.gate is not None and passed.gate.passed, passed.gate
    assert passed.result("detection").items == 2

    add_failing_case(good_cases, eventlog_fixtures)
    failed = run_eval(options(good_cases, thresholds, tmp_path), Settings())
    detection = failed.result("detection")
    assert detection.metric("recall").value < 1.0
    assert not failed.gate.passed
    assert [v.metric for v in failed.gate.violations] == ["recall"]
    assert "must_fail: missed cartesian_join" in detection.misses


def test_cli_gate_exits_non_zero_on_a_drop(good_cases: Path, thresholds: Path, tmp_path: Path, eventlog_fixtures: Path) -> None:
    add_failing_case(good_cases, eventlog_fixtures)
    done = copilot("eval", "--suite", "detection", "--cases", str(good_cases), "--gate", "--thresholds", str(thresholds),
                   "--out", str(tmp_path / "out"))
    assert done.returncode == 1, done.stderr
    assert "gate FAILED" in done.stdout and "recall" in done.stdout


def test_json_and_markdown_scorecards_are_written(good_cases: Path, thresholds: Path, tmp_path: Path) -> None:
    done = copilot("eval", "--suite", "detection", "--cases", str(good_cases), "--json", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    card = json.loads(done.stdout)
    (detection,) = card["results"]
    assert detection["status"] == "ok" and detection["items"] == 2
    assert {m["name"] for m in detection["metrics"]} >= {"precision", "recall", "f1", "cases_passed"}
    assert detection["tables"][0]["columns"][:2] == ["category", "TP"]
    saved = json.loads(Path(card["outputs"]["json"]).read_text())
    assert saved["run_id"] == card["run_id"]
    markdown = Path(card["outputs"]["markdown"]).read_text()
    assert markdown.startswith(f"# Evaluation scorecard — run `{card['run_id']}`")
    assert "## detection" in markdown and "| recall | 1.000 | higher |" in markdown


def test_compare_shows_the_change_since_the_previous_stored_run(
    good_cases: Path, thresholds: Path, tmp_path: Path, eventlog_fixtures: Path
) -> None:
    first = run_eval(options(good_cases, thresholds, tmp_path), Settings())
    add_failing_case(good_cases, eventlog_fixtures)
    second = run_eval(options(good_cases, thresholds, tmp_path, compare=True), Settings())
    assert second.comparison.previous_run_id == first.run_id
    recall = next(c for c in second.comparison.changes if c.metric == "recall")
    assert recall.previous == 1.0 and recall.verdict == "worse"


def test_cases_option_runs_another_case_set(good_cases: Path, tmp_path: Path, eventlog_fixtures: Path) -> None:
    other = tmp_path / "other"
    write_case(other, "only_udf", eventlog_fixtures / UDF_LOG, ["python_udf"], [])
    card = run_eval(EvalOptions(suites=["detection"], cases_dir=other, out_dir=tmp_path / "out", progress=False), Settings())
    assert card.cases_dir == str(other.resolve())
    assert card.result("detection").items == 1


def test_malformed_case_file_is_one_clear_error_naming_the_file(good_cases: Path, tmp_path: Path) -> None:
    (good_cases / "broken.yaml").write_text("name: broken\nlog: x\nmust_find: [not_a_category]\n")
    done = copilot("eval", "--suite", "detection", "--cases", str(good_cases), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("copilot: error: case file ")
    assert "broken.yaml" in lines[0] and "must_find" in lines[0]


@pytest.mark.parametrize(
    "text, fragment",
    [("name: [unclosed\n", "not valid YAML"), ("- a list\n", "expected a mapping"), ("log: nowhere.zstd\n", "log not found")],
)
def test_case_file_problems_are_reported_before_any_suite_runs(tmp_path: Path, text: str, fragment: str) -> None:
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "bad.yaml").write_text(text)
    with pytest.raises(EvalInputError, match=fragment):
        run_eval(EvalOptions(suites=["detection"], cases_dir=cases, out_dir=tmp_path / "out", progress=False), Settings())


def test_missing_cases_directory_and_unknown_suite_are_clear_errors(tmp_path: Path) -> None:
    missing = copilot("eval", "--suite", "detection", "--cases", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "cases directory not found" in missing.stderr
    unknown = copilot("eval", "--suite", "speed")
    assert unknown.returncode == 2 and "unknown suite 'speed'" in unknown.stderr


def test_missing_question_set_is_a_clear_error(tmp_path: Path) -> None:
    done = copilot("eval", "--suite", "retrieval", "--questions", str(tmp_path / "none.yaml"))
    assert done.returncode == 2 and "question set not found" in done.stderr


@pytest.mark.slow
def test_runtime_suite_reports_model_and_baselines_on_held_out_runs(tmp_path: Path) -> None:
    card = run_eval(EvalOptions(suites=["runtime"], out_dir=tmp_path / "out", progress=False, store=False), Settings())
    result = card.result("runtime")
    assert result.status == "ok", result.reason
    model = result.metric("shape.model.median_ape_pct")
    assert model.unit == "percent" and model.better == "lower" and model.value > 0
    assert result.metric("shape.naive.median_ape_pct") is not None
    assert 0.0 <= result.metric("shape.interval_coverage").value <= 1.0
    assert [row[0] for row in result.tables[0].rows] == ["by shape", "by scale"]
