"""The batch's default analysis is the analysis graph's findings depth: same findings, effects and what-if, no index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import graph
from copilot.batch import run_batch
from copilot.settings import get_settings
from copilot.store import Store

LOGS = (
    "NVIDIA__spark-rapids-tools/join_agg_on_yarn_eventlog.zstd",
    "apache__spark/spark-events/application_1538416563558_0014",
    "qubole__sparklens/local-1532512550423",
    "NVIDIA__spark-rapids-tools/eventlog_v2_local-1623876083964",
)


def _folder(eventlog_fixtures: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    for name in LOGS:
        source = eventlog_fixtures / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, folder / source.name)
    return folder


def test_batch_stores_exactly_the_graph_findings_effects_and_what_if(eventlog_fixtures, tmp_path, monkeypatch):
    chroma = tmp_path / "no-index-here"
    monkeypatch.setenv("COPILOT_CHROMA_DIR", str(chroma))
    get_settings.cache_clear()
    folder = _folder(eventlog_fixtures, tmp_path)
    store = Store(tmp_path / "s.duckdb")
    summary = run_batch(str(folder), store, workers=2)
    assert (summary.analyzed, summary.failed) == (len(LOGS), 0), summary.failures
    with store.connect() as con:
        paths = dict(con.execute("SELECT log_path, log_hash FROM applications").fetchall())
        analyzers = {r[0] for r in con.execute("SELECT DISTINCT analyzer FROM applications").fetchall()}
        assert con.execute("SELECT count(*) FROM reports").fetchone()[0] == 0
        for name in LOGS:
            path = str(folder / Path(name).name)
            report = graph.analyze([path], depth="findings")
            stored = con.execute(
                "SELECT rule_id, severity, stage_ids, savings_core_ms, finding_json FROM findings "
                "WHERE log_hash = ? ORDER BY rank", [paths[path]]).fetchall()
            assert [(r[0], r[1], list(r[2])) for r in stored] == [
                (f.finding.rule_id, f.finding.severity.value, f.finding.stage_ids) for f in report.findings]
            assert [json.loads(r[4])["evidence"] for r in stored] == [
                [e.model_dump(mode="json") for e in f.finding.evidence] for f in report.findings]
            assert [r[3] for r in stored] == [f.finding.estimated_savings.core_ms for f in report.findings]
            what_if = con.execute(
                "SELECT executors, runtime_ms FROM predictions WHERE log_hash = ? AND kind = 'what_if' "
                "ORDER BY executors, runtime_ms", [paths[path]]).fetchall()
            assert what_if == sorted((p.executors, p.runtime_ms) for a in report.apps for p in a.what_if)
            effects = con.execute(
                "SELECT subject, runtime_ms FROM predictions WHERE log_hash = ? AND kind = 'effect' ORDER BY subject",
                [paths[path]]).fetchall()
            assert effects == sorted((f.finding.rule_id, f.predicted_effect.runtime_after_ms)
                                     for f in report.findings if f.predicted_effect is not None)
    assert analyzers == {"graph/findings"}
    assert not chroma.exists(), "the default batch must not build or open the knowledge index"
