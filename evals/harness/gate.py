"""The CI gate: scores checked against the floors and ceilings in `evals/thresholds.toml`.

File format, one table per suite:

    [detection]
    required = true            # an unavailable suite fails the gate
    [detection.min]            # score must be >= bound
    f1 = 0.85
    [runtime.max]              # score must be <= bound
    "model.median_ape" = 0.2
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from evals.harness.errors import EvalInputError
from evals.harness.scorecard import GateResult, GateViolation, SuiteResult

DEFAULT_THRESHOLDS = Path(__file__).resolve().parent.parent / "thresholds.toml"


class SuiteThresholds(BaseModel, extra="forbid"):
    required: bool = False
    min: dict[str, float] = Field(default_factory=dict)
    max: dict[str, float] = Field(default_factory=dict)


def load_thresholds(path: Path) -> dict[str, SuiteThresholds]:
    """Parse the thresholds file; any mistake in it is one clear error naming the file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvalInputError(f"thresholds file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise EvalInputError(f"thresholds file {path} is not valid TOML: {exc}") from None
    thresholds: dict[str, SuiteThresholds] = {}
    for suite, table in raw.items():
        try:
            thresholds[suite] = SuiteThresholds.model_validate(table)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in (suite, *first["loc"]))
            raise EvalInputError(f"thresholds file {path}: {where}: {first['msg']}") from None
    return thresholds


def check_gate(results: list[SuiteResult], thresholds: dict[str, SuiteThresholds], thresholds_file: Path) -> GateResult:
    """Every bound of every suite that ran; a suite that errored always fails, a missing one when required."""
    gate = GateResult(thresholds_file=str(thresholds_file))
    for result in results:
        bounds = thresholds.get(result.suite, SuiteThresholds())
        if result.status == "error":
            gate.violations.append(
                GateViolation(suite=result.suite, kind="error", message=f"{result.suite}: suite failed: {result.reason}")
            )
            continue
        if result.status == "not_available":
            if bounds.required:
                gate.violations.append(
                    GateViolation(
                        suite=result.suite,
                        kind="unavailable",
                        message=f"{result.suite}: required suite not available: {result.reason}",
                    )
                )
            continue
        for kind, table in (("min", bounds.min), ("max", bounds.max)):
            for name, bound in table.items():
                gate.checked += 1
                metric = result.metric(name)
                if metric is None:
                    gate.violations.append(
                        GateViolation(
                            suite=result.suite,
                            metric=name,
                            bound=bound,
                            kind="missing",
                            message=f"{result.suite}: metric {name!r} has a threshold but was not reported",
                        )
                    )
                    continue
                failed = metric.value < bound if kind == "min" else metric.value > bound
                if failed:
                    relation = "below the floor" if kind == "min" else "above the ceiling"
                    gate.violations.append(
                        GateViolation(
                            suite=result.suite,
                            metric=name,
                            value=metric.value,
                            bound=bound,
                            kind=kind,  # type: ignore[arg-type]
                            message=f"{result.suite}: {name} = {metric.value:.4g} is {relation} {bound:g}",
                        )
                    )
    return gate
