"""The CI gate reads evals/thresholds.toml and fails on any score below its floor or above its ceiling."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.harness.errors import EvalInputError
from evals.harness.gate import DEFAULT_THRESHOLDS, check_gate, load_thresholds
from evals.harness.scorecard import Metric, SuiteResult


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "thresholds.toml"
    path.write_text(text)
    return path


def _detection(f1: float) -> SuiteResult:
    return SuiteResult(suite="detection", status="ok", metrics=[Metric(name="f1", value=f1)])


def test_the_shipped_thresholds_file_parses() -> None:
    thresholds = load_thresholds(DEFAULT_THRESHOLDS)
    assert set(thresholds) == {"detection", "retrieval", "runtime", "report"}


def test_score_below_floor_fails_and_names_metric(tmp_path: Path) -> None:
    path = _write(tmp_path, "[detection.min]\nf1 = 0.9\n")
    gate = check_gate([_detection(0.8)], load_thresholds(path), path)
    assert not gate.passed
    assert gate.violations[0].metric == "f1"
    assert "below the floor 0.9" in gate.violations[0].message


def test_score_at_floor_passes(tmp_path: Path) -> None:
    path = _write(tmp_path, "[detection.min]\nf1 = 0.9\n")
    gate = check_gate([_detection(0.9)], load_thresholds(path), path)
    assert gate.passed and gate.checked == 1


def test_error_above_ceiling_fails(tmp_path: Path) -> None:
    path = _write(tmp_path, '[runtime.max]\n"model.median_ape" = 0.15\n')
    result = SuiteResult(suite="runtime", status="ok", metrics=[Metric(name="model.median_ape", value=0.2, better="lower")])
    gate = check_gate([result], load_thresholds(path), path)
    assert [v.kind for v in gate.violations] == ["max"]


def test_threshold_on_unreported_metric_fails(tmp_path: Path) -> None:
    path = _write(tmp_path, "[detection.min]\nrecall = 0.9\n")
    gate = check_gate([_detection(0.95)], load_thresholds(path), path)
    assert [v.kind for v in gate.violations] == ["missing"]


def test_unavailable_suite_fails_only_when_required(tmp_path: Path) -> None:
    missing = SuiteResult(suite="runtime", status="not_available", reason="not built")
    optional = _write(tmp_path, "[runtime]\nrequired = false\n")
    assert check_gate([missing], load_thresholds(optional), optional).passed
    required = _write(tmp_path, "[runtime]\nrequired = true\n")
    gate = check_gate([missing], load_thresholds(required), required)
    assert [v.kind for v in gate.violations] == ["unavailable"]


def test_suite_error_always_fails(tmp_path: Path) -> None:
    path = _write(tmp_path, "")
    broken = SuiteResult(suite="report", status="error", reason="KeyError: 'x'")
    assert not check_gate([broken], load_thresholds(path), path).passed


@pytest.mark.parametrize(
    "text, fragment",
    [("[detection\nf1 = 1", "not valid TOML"), ("[detection]\nflor = 1\n", "detection.flor"),
     ('[detection.min]\nf1 = "high"\n', "detection.min.f1")],
)
def test_malformed_thresholds_file_is_one_clear_error(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(EvalInputError, match=fragment):
        load_thresholds(_write(tmp_path, text))
