"""`copilot analyze` keeps its report in the history store (once per log content), unless told not to."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from copilot.cli import app
from copilot.settings import get_settings
from copilot.store.db import Store
from graph.report import Report

runner = CliRunner()


def _stored(sql: str) -> list[tuple]:
    with Store(get_settings().store_path).connect() as con:
        return con.execute(sql).fetchall()


def test_the_report_is_kept_once_per_log_and_history_shows_it(yarn_log):
    first = runner.invoke(app, ["analyze", yarn_log, "--format", "json"])
    again = runner.invoke(app, ["analyze", yarn_log, "--format", "json"])
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    report = Report.model_validate_json(first.stdout)
    app_id = report.apps[0].app_id
    assert _stored("SELECT app_id, analyzer FROM applications") == [(app_id, f"analyze/{report.path}")]
    (stored_json,) = _stored("SELECT report_json FROM reports")[0]
    assert Report.model_validate_json(stored_json).findings[0].finding.rule_id == report.findings[0].finding.rule_id
    stored_rules = sorted(rule for (rule,) in _stored("SELECT rule_id FROM findings"))
    assert stored_rules == sorted(item.finding.rule_id for item in report.findings)
    listed = runner.invoke(app, ["history", "list", "--json"])
    assert [row["app_id"] for row in json.loads(listed.output)] == [app_id]
    for columns in (80, 150):  # the id `history show` takes is never cut off
        shown = runner.invoke(app, ["history", "list"], env={"COLUMNS": str(columns)})
        assert max(len(line) for line in shown.stdout.splitlines()) <= columns
        first_column = [line.split("│")[1].strip() for line in shown.stdout.splitlines() if line.startswith("│")]
        assert app_id in (first_column[0], "".join(first_column[:2])), shown.stdout  # whole, or folded once
        assert report.apps[0].app_name in shown.stdout


def test_no_save_keeps_nothing(yarn_log):
    result = runner.invoke(app, ["analyze", yarn_log, "--format", "json", "--no-save"])
    assert result.exit_code == 0, result.output
    assert _stored("SELECT count(*) FROM applications") == [(0,)]


def test_a_store_that_cannot_be_written_costs_a_warning_not_the_report(yarn_log, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the store's directory should be")
    monkeypatch.setenv("COPILOT_STORE_PATH", str(blocker / "history.duckdb"))
    get_settings.cache_clear()
    result = runner.invoke(app, ["analyze", yarn_log, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert Report.model_validate_json(result.stdout).apps
    assert "report not kept in the history store" in result.stderr


def test_a_remote_log_is_read_once_and_reported_and_kept_under_its_url(yarn_log, copilot_home):
    from pathlib import Path

    import remote_fs

    from copilot.batch.identity import log_identity
    from tools.eventlog import discover_applications

    url = remote_fs.upload(Path(yarn_log))
    try:
        result = runner.invoke(app, ["analyze", url, "--format", "json"])
        assert result.exit_code == 0, result.output
        assert remote_fs.reads() == {f"/logs/{Path(yarn_log).name}": 1}, "downloaded once: profile and hash"
    finally:
        remote_fs.remove()
    report = Report.model_validate_json(result.stdout)
    assert [a.log_path for a in report.apps] == [url]
    (local,) = discover_applications(yarn_log)
    assert _stored("SELECT log_path, log_hash FROM applications") == [(url, log_identity(local).log_hash)]
    downloads = Path(get_settings().home) / "cache" / "downloads"
    assert not downloads.exists() or not any(downloads.iterdir()), "the downloaded copy is deleted"


def test_an_app_name_with_brackets_prints_as_written_in_the_report_and_history(eventlog_fixtures, tmp_path):
    """Names are data: "[/etl]" must neither vanish nor crash rich's markup parser (it raised MarkupError)."""
    source = eventlog_fixtures / "qubole__sparklens" / "local-1532512550423"
    name = "nightly [/etl] [bold]orders[/bold]"
    log = tmp_path / "local-1532512550423"
    log.write_text(source.read_text().replace('"App Name":"Spark shell"', json.dumps({"App Name": name})[1:-1], 1))
    report = runner.invoke(app, ["analyze", str(log)])
    assert report.exit_code == 0, report.output
    assert name in report.stdout.replace("\n", " ")
    for command in (["history", "list"], ["history", "show", "local-1532512550423"], ["batch", str(tmp_path), "--force"]):
        shown = runner.invoke(app, command, env={"COLUMNS": "250"})
        assert shown.exit_code == 0, shown.output
        assert name in shown.stdout, shown.stdout
