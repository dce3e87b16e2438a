"""--table: the delta specialist inspects a real table on disk and its layout findings join the report."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import graph


@pytest.fixture(scope="module")
def small_file_delta_table(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Delta table written in 40 tiny appends (the classic streaming / micro-batch small-file layout)."""
    from deltalake import write_deltalake

    path = tmp_path_factory.mktemp("tables") / "events"
    for batch in range(40):
        rows = pa.table({"event_id": list(range(batch * 50, batch * 50 + 50)), "amount": [float(batch)] * 50})
        write_deltalake(str(path), rows, mode="append")
    return str(path)


def test_table_findings_and_summary_come_with_the_report(yarn_log: str, small_file_delta_table: str) -> None:
    report = graph.analyze([yarn_log], table=small_file_delta_table)
    assert report.table is not None and report.table.format == "delta"
    assert report.table.file_count == 40 and report.table.small_files == 40
    delta = next(s for s in report.specialists if s.name == "delta")
    assert delta.reason == "a table path was given"
    assert any(c.startswith("inspect_table") for c in delta.tool_calls)
    table_findings = [f for f in report.findings if f.specialist == "delta"]
    assert table_findings and any("small" in f.finding.title.lower() or f.finding.category == "small_files" for f in table_findings)


def test_a_missing_table_is_a_clear_error(yarn_log: str, tmp_path: Path) -> None:
    from tools.errors import CopilotError

    with pytest.raises(CopilotError):
        graph.analyze([yarn_log], table=str(tmp_path / "no-such-table"))


def test_the_model_cannot_steer_table_reads_away_from_the_given_table(yarn_log: str, small_file_delta_table: str,
                                                                       tmp_path: Path) -> None:
    from graph.adapters import ToolUnavailable, load_profiles
    from graph.config import GraphConfig
    from graph.tools import Toolbox

    toolbox = Toolbox(load_profiles(yarn_log, GraphConfig())[0], GraphConfig(), table=small_file_delta_table)
    assert toolbox.inspect_table(small_file_delta_table).format == "delta"
    with pytest.raises(ToolUnavailable):
        toolbox.inspect_table(str(tmp_path))
    assert "only the table given by the user" in toolbox.call("diagnose_table", {"path": "/etc"})
