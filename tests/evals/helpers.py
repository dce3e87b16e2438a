"""Tiny labeled case sets written in tmp from the real public event logs in tests/fixtures."""

from __future__ import annotations

import json
from pathlib import Path

UDF_LOG = "NVIDIA__spark-rapids-tools/python_udf_eventlog"
QUIET_LOG = "NVIDIA__spark-rapids-tools/spark2-eventlog.zstd"


def write_case(cases_dir: Path, name: str, log: Path, must_find: list[str], must_not_find: list[str]) -> Path:
    cases_dir.mkdir(parents=True, exist_ok=True)
    path = cases_dir / f"{name}.yaml"
    path.write_text(
        f"name: {name}\nsource: public\nlog: {log}\n"
        f"must_find: {json.dumps(must_find)}\nmust_not_find: {json.dumps(must_not_find)}\n"
    )
    return path
