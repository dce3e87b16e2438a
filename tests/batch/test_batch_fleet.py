"""`copilot batch` over a folder of real logs: everything analyzed once, bad logs recorded, re-runs idempotent."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from copilot.batch import run_batch
from copilot.cli import app
from copilot.settings import get_settings
from copilot.store import Store

from batch_fleet import CORRUPT_NAME, good_logs


def _scalar(store: Store, sql: str):
    with store.connect() as con:
        return con.execute(sql).fetchall()[0][0]


def test_every_good_log_is_stored_and_the_corrupt_one_recorded_with_its_reason(fleet, tmp_path):
    store = Store(tmp_path / "s.duckdb")
    summary = run_batch(str(fleet), store, workers=2)
    assert summary.discovered == good_logs() + 1
    assert (summary.analyzed, summary.failed, summary.skipped) == (good_logs(), 1, 0)
    [failure] = summary.failures
    assert failure.log_path.endswith(CORRUPT_NAME)
    assert failure.reason and "\n" not in failure.reason
    assert _scalar(store, "SELECT count(*) FROM applications") == good_logs()
    assert _scalar(store, "SELECT count(DISTINCT app_id) FROM applications") == good_logs()
    assert _scalar(store, "SELECT reason FROM batch_failures") == failure.reason
    assert _scalar(store, "SELECT status FROM batch_runs") == "complete"


def test_the_fleet_summary_ranks_savings_problems_and_slow_apps(fleet, tmp_path):
    store = Store(tmp_path / "s.duckdb")
    summary = run_batch(str(fleet), store, workers=2, top_n=5)
    fleet_view = summary.fleet
    assert fleet_view.apps == good_logs()
    savings = [s.savings_core_hours for s in fleet_view.top_savings]
    assert savings and savings == sorted(savings, reverse=True)
    assert fleet_view.top_savings[0].savings_core_hours * 3_600_000 == _scalar(
        store, "SELECT max(savings_core_ms) FROM findings"
    )
    top_rule = fleet_view.frequent_problems[0]
    assert top_rule.apps == _scalar(
        store, f"SELECT count(DISTINCT log_hash) FROM findings WHERE rule_id = '{top_rule.rule_id}'"
    )
    durations = [a.duration_ms for a in fleet_view.slowest_apps]
    assert durations[0] == _scalar(store, "SELECT max(duration_ms) FROM applications")
    assert durations == sorted(durations, reverse=True)


def test_a_rerun_skips_stored_logs_and_force_reanalyzes_them(fleet, tmp_path):
    store = Store(tmp_path / "s.duckdb")
    run_batch(str(fleet), store, workers=2)
    again = run_batch(str(fleet), store, workers=2)
    assert (again.analyzed, again.failed, again.skipped) == (0, 0, good_logs() + 1)
    assert again.fleet.apps == good_logs()
    forced = run_batch(str(fleet), store, workers=2, force=True)
    assert (forced.analyzed, forced.failed) == (good_logs(), 1)
    assert _scalar(store, "SELECT count(*) FROM applications") == good_logs()
    retried = run_batch(str(fleet), store, workers=1, retry_failed=True)
    assert (retried.analyzed, retried.failed, retried.skipped) == (0, 1, good_logs())


def test_a_copied_or_touched_log_is_recognized_by_its_content(fleet, tmp_path):
    store = Store(tmp_path / "s.duckdb")
    run_batch(str(fleet), store, workers=2)
    moved = tmp_path / "moved"
    shutil.copytree(fleet, moved)
    summary = run_batch(str(moved), store, workers=2)
    assert summary.analyzed == 0 and summary.skipped == good_logs() + 1
    assert _scalar(store, "SELECT count(*) FROM applications") == good_logs()


def test_in_progress_logs_are_left_alone_unless_asked_for(fleet, tmp_path, eventlog_fixtures):
    running = fleet / "local-1430917381534.inprogress"
    data = (eventlog_fixtures / "apache__spark/spark-events/local-1430917381534").read_bytes()
    running.write_bytes(data[: len(data) // 2])
    store = Store(tmp_path / "s.duckdb")
    summary = run_batch(str(fleet), store, workers=2)
    assert summary.discovered == good_logs() + 1
    with_running = run_batch(str(fleet), store, workers=2, include_incomplete=True)
    assert with_running.analyzed == 1
    assert _scalar(store, "SELECT complete FROM applications WHERE app_id = 'local-1430917381534'") is False


def test_the_batch_command_prints_a_json_summary(fleet):
    result = CliRunner().invoke(app, ["batch", str(fleet), "--workers", "2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["analyzed"], summary["failed"]) == (good_logs(), 1)
    assert summary["store_path"] == str(get_settings().store_path)
    assert summary["fleet"]["top_savings"]


def test_the_batch_command_renders_the_summary_for_people(fleet):
    result = CliRunner().invoke(app, ["batch", str(fleet), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert f"{good_logs()} analyzed" in result.output
    assert "Failed logs" in result.output and "corrupt zstd data" in result.output
    assert "…" not in result.output  # paths fold at 80 columns, never cut
    assert "Biggest savings across the fleet" in result.output
    again = CliRunner().invoke(app, ["batch", str(fleet), "--json"])  # everything stored: the same fleet view
    top = json.loads(again.output)["fleet"]["top_savings"]
    assert top
    for item in top:  # 80 columns (no terminal): each finding reads as text, not one word per line
        assert " ".join(item["title"].split()[:3]) in result.output, item["title"]
        assert f"({item['rule_id']})" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    runs = CliRunner().invoke(app, ["history", "runs"])  # 80 columns: the run id (and its source) whole
    assert runs.exit_code == 0, runs.output
    assert json.loads(again.output)["run_id"] in runs.output and "…" not in runs.output
    assert max(len(line) for line in runs.output.splitlines()) <= 80


def test_a_missing_folder_is_one_line_and_exit_2(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "copilot.cli", "batch", str(tmp_path / "nowhere")],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("copilot: error:") and result.stderr.strip().count("\n") == 0


def test_batch_says_nothing_about_an_llm_it_does_not_use(fleet, monkeypatch):
    """Batch analysis is offline by design: the chat/analyze "offline mode" notice (once per worker) is not shown."""
    import subprocess
    import sys

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = subprocess.run([sys.executable, "-m", "copilot.cli", "batch", str(fleet), "--workers", "2"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "analyzed" in result.stdout
    assert "offline mode" not in result.stderr and "LLM" not in result.stderr, result.stderr


def test_history_runs_lists_the_batch_and_the_failed_log_with_its_reason(fleet):
    first = CliRunner().invoke(app, ["batch", str(fleet), "--workers", "2", "--json"])
    assert first.exit_code == 0, first.output
    result = CliRunner().invoke(app, ["history", "runs", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    [run] = listed["runs"]
    assert (run["status"], run["analyzed"], run["failed"]) == ("complete", good_logs(), 1)
    [failure] = listed["failures"]
    assert failure["log_path"].endswith(CORRUPT_NAME) and "corrupt zstd data" in failure["reason"]
