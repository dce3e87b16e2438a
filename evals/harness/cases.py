"""Labeled detection cases, read with the rules engineer's loader and checked up front.

A broken case set is one clear error naming the file (bad YAML, unknown field or
category, missing log), before any suite spends time on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from evals.harness.errors import EvalInputError
from evals.harness.registry import import_part


def detection_module():
    return import_part("evals.detection", "rules engineer")


def log_path(case: Any) -> Path:
    """A case's log: relative paths are taken from the repository root, absolute ones as they are."""
    return Path(detection_module().REPO_ROOT) / case.log


def load_cases(cases_dir: Path) -> list[Any]:
    """Every case of `cases_dir` as the rules engineer's `DetectionCase`, or one clear error."""
    import yaml

    detection = detection_module()
    cases_dir = Path(cases_dir)
    if not cases_dir.is_dir():
        raise EvalInputError(f"cases directory not found: {cases_dir}")
    files = sorted(cases_dir.glob("*.yaml"))
    if not files:
        raise EvalInputError(f"no case files (*.yaml) in {cases_dir}")
    cases = []
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise EvalInputError(f"case file {path}: expected a mapping of fields, found {type(data).__name__}")
            data.setdefault("name", path.stem)
            case = detection.DetectionCase.model_validate(data)
        except yaml.YAMLError as exc:
            raise EvalInputError(f"case file {path} is not valid YAML: {' '.join(str(exc).split())}") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "case"
            raise EvalInputError(f"case file {path}: {where}: {first['msg']}") from None
        if not log_path(case).exists():
            raise EvalInputError(f"case file {path}: log not found: {log_path(case)}")
        cases.append(case)
    return cases
