"""`--reports`: the graph's whole offline analysis per log, its Report and predictions stored beside the findings."""

from __future__ import annotations

import shutil

import pytest

from copilot.batch import run_batch
from copilot.store import Store
from graph.report import Report

pytestmark = pytest.mark.slow

LOGS = ("apache__spark/spark-events/application_1538416563558_0014", "qubole__sparklens/local-1532512550423")


@pytest.fixture(autouse=True)
def shared_knowledge_index(copilot_home, tmp_path_factory, monkeypatch):
    """The session's one knowledge index (the graph tests' location; built once, cards only, no JVM)."""
    monkeypatch.setenv("COPILOT_CHROMA_DIR", str(tmp_path_factory.getbasetemp() / "copilot-knowledge-index"))
    monkeypatch.setenv("COPILOT_KNOWLEDGE__CONFIG_CATALOG", "false")
    from copilot.settings import get_settings

    get_settings.cache_clear()


def test_full_reports_store_the_graph_report_its_findings_and_predictions(eventlog_fixtures, tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    for name in LOGS:
        shutil.copy(eventlog_fixtures / name, folder)
    store = Store(tmp_path / "s.duckdb")
    summary = run_batch(str(folder), store, workers=2, full_reports=True)
    assert (summary.analyzed, summary.failed) == (len(LOGS), 0), summary.failures
    with store.connect() as con:
        reports = con.execute(
            "SELECT a.app_id, a.analyzer, r.report_json FROM reports r JOIN applications a USING (log_hash)"
        ).fetchall()
        findings = dict(con.execute(
            "SELECT a.app_id, list(f.rule_id ORDER BY f.rank) FROM findings f JOIN applications a USING (log_hash) "
            "GROUP BY a.app_id").fetchall())
        what_if = dict(con.execute(
            "SELECT a.app_id, count(*) FROM predictions p JOIN applications a USING (log_hash) "
            "WHERE p.kind = 'what_if' GROUP BY a.app_id").fetchall())
    assert len(reports) == len(LOGS)
    for app_id, analyzer, report_json in reports:
        report = Report.model_validate_json(report_json)
        assert analyzer == f"graph/{report.path}"
        assert [item.finding.rule_id for item in report.findings] == findings.get(app_id, [])
        assert what_if.get(app_id, 0) == sum(len(a.what_if) for a in report.apps)
