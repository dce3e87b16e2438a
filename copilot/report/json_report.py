"""The report as JSON: the `Report` model's own schema (documented in docs/report-schema.md)."""

from __future__ import annotations

import json

from graph.report import Report


def render_json(report: Report) -> str:
    return report.model_dump_json(indent=2)


def json_schema() -> str:
    """The JSON Schema of the report as written (serialization mode, so computed fields such as a predicted
    effect's `direction` are in it), for programs that consume it."""
    return json.dumps(Report.model_json_schema(mode="serialization"), indent=2)
