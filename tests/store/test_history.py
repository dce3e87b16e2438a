"""History queries and the `copilot history` commands over a store holding real analyses."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from copilot.cli import app
from copilot.store import Store
from copilot.store.history import compare_applications, export_history, list_applications, show_application
from copilot.store.writer import write_outcomes
from graph import units as graph_units
from tools.compare import compare_stages


@pytest.fixture
def store(copilot_home, outcomes) -> Store:
    from copilot.settings import get_settings

    store = Store(get_settings().store_path)
    write_outcomes(store, outcomes, "run-1")
    return store


def test_list_returns_every_stored_application_latest_first(store, outcomes):
    rows = list_applications(store)
    assert {r.app_id for r in rows} == {o.record.app_id for o in outcomes}
    starts = [r.start_time_ms for r in rows if r.start_time_ms is not None]
    assert starts == sorted(starts, reverse=True)


def test_show_finds_an_application_by_id_or_hash_prefix(store, outcomes):
    record = max((o.record for o in outcomes), key=lambda r: len(r.stages))
    by_id = show_application(store, record.app_id)
    by_hash = show_application(store, record.log.log_hash[:10])
    assert by_id.app.log_hash == by_hash.app.log_hash == record.log.log_hash
    assert len(by_id.stages) == len(record.stages)
    assert [f.rule_id for f in by_id.findings] == [f.rule_id for f in record.findings]


def test_compare_pairs_the_stored_stages_by_name(store, outcomes):
    a, b = outcomes[0].record, outcomes[1].record
    result = compare_applications(store, a.app_id, b.app_id)
    deltas, only_a, only_b = compare_stages(a.stages, b.stages)  # what was analyzed is what the store compares
    assert (result.stages, result.stages_only_in_a, result.stages_only_in_b) == (deltas, only_a, only_b)
    ran_a = {s.stage_id for s in a.stages if s.status != "skipped"}
    assert {d.baseline_stage_id if d.baseline_stage_id is not None else d.stage_id for d in deltas} | set(only_a) == ran_a
    assert result.duration_ratio == pytest.approx(b.duration_ms / a.duration_ms)
    assert set(result.findings_only_in_b) == {f.rule_id for f in b.findings} - {f.rule_id for f in a.findings}
    itself = compare_applications(store, a.app_id, a.app_id)
    assert {d.stage_id for d in itself.stages} == ran_a and not itself.stages_only_in_a + itself.stages_only_in_b
    assert all(d.baseline_stage_id is None and d.duration_delta_ms == 0 for d in itself.stages)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_export_writes_every_table_in_the_chosen_format(store, outcomes, tmp_path, fmt):
    files = export_history(store, tmp_path / "out", fmt)
    apps = next(f for f in files if f.stem == "applications")
    findings = next(f for f in files if f.stem == "findings")
    if fmt == "parquet":
        assert pq.read_table(apps).num_rows == len(outcomes)
        assert pq.read_table(findings).num_rows == sum(len(o.record.findings) for o in outcomes)
    elif fmt == "csv":
        assert duckdb.sql(f"SELECT count(*) FROM read_csv('{apps}')").fetchall()[0][0] == len(outcomes)
    else:
        assert len(json.loads(apps.read_text())) == len(outcomes)


def test_history_commands_print_json_for_programs(store, outcomes):
    runner = CliRunner()
    listed = runner.invoke(app, ["history", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {row["app_id"] for row in json.loads(listed.output)} == {o.record.app_id for o in outcomes}
    shown = runner.invoke(app, ["history", "show", outcomes[0].record.app_id, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["app"]["log_hash"] == outcomes[0].log.log_hash
    people = runner.invoke(app, ["history", "show", outcomes[0].record.app_id], env={"COLUMNS": "200"})
    assert outcomes[0].record.app_id in people.output
    findings_table = people.output.split("Findings")[1].split("Slowest stages")[0]
    savings_cells = [cells[4].strip() for line in findings_table.splitlines()
                     if len(cells := line.split("│")) > 5 and cells[4].strip()]
    # one figure per finding, in order; a finding without a time estimate shows "-", not "0.00"
    assert savings_cells == [graph_units.core_hours(f.estimated_savings.core_ms / 3.6e6)
                             for f in outcomes[0].record.findings]
    assert "-" in savings_cells and "0.00" not in savings_cells


def test_show_says_how_many_executors_were_alive_at_once_and_names_a_shell_session(store):
    """The MLlib job lost 8 one-core containers one after another: 9 executors, never more than 2 at once, as the
    report says; app-20161115172038-0000 was a spark-shell session."""
    runner = CliRunner()
    mllib = show_application(store, "application_1538416563558_0014").app
    assert (mllib.executors, mllib.peak_executors, mllib.interactive_shell) == (9, 2, None)
    shown = runner.invoke(app, ["history", "show", "application_1538416563558_0014"], env={"COLUMNS": "200"})
    assert "9 executors, at most 2 at once" in shown.output and "interactive" not in shown.output.split("\n")[0]
    shell = runner.invoke(app, ["history", "show", "app-20161115172038-0000"], env={"COLUMNS": "200"})
    assert "an interactive spark-shell session" in shell.output


def test_an_unknown_application_is_one_line_and_exit_2(store):
    result = subprocess.run([sys.executable, "-m", "copilot.cli", "history", "show", "app-that-never-ran"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "no stored application matches 'app-that-never-ran'" in result.stderr


@pytest.mark.parametrize("columns", [80, 150])
def test_history_tables_keep_every_app_id_whole_at_any_width(store, outcomes, columns):
    """The ids are what `history show` takes: at 80 columns they may fold onto a second line, never end in '…'."""
    runner = CliRunner()
    for command in (["history", "list"], ["history", "trend", "Spark shell"]):
        result = runner.invoke(app, command, env={"COLUMNS": str(columns)})
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= columns
        first_column = "".join(line.split("│")[1].strip() for line in lines if line.startswith("│"))
        shell_apps = [o.record.app_id for o in outcomes if o.record.app_name == "Spark shell"]
        for app_id in (shell_apps if command[1] == "trend" else [o.record.app_id for o in outcomes]):
            assert app_id in first_column, (app_id, result.stdout)
        assert "…" not in result.stdout


def test_compare_names_the_settings_that_differ_between_two_stored_runs(store, outcomes):
    from tools.compare import setting_changes

    a, b = outcomes[0].record, outcomes[1].record
    result = compare_applications(store, a.app_id, b.app_id)
    assert result.settings and result.settings == setting_changes(a.settings, b.settings)
    assert not [c for c in result.settings if c.key in ("spark.app.id", "spark.driver.port", "spark.app.startTime")]
    shown = CliRunner().invoke(app, ["history", "compare", a.app_id, b.app_id], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    first = result.settings[0]
    assert f"  {first.key} " in shown.output.split("settings that differ (A -> B):")[1]


def test_a_run_stored_without_its_settings_is_compared_without_them(store, outcomes):
    a, b = outcomes[0].record, outcomes[1].record
    with store.connect() as con:  # as a row written before the store kept settings
        con.execute("DELETE FROM settings WHERE log_hash = ?", [a.log.log_hash])
    assert compare_applications(store, a.app_id, b.app_id).settings is None
    shown = CliRunner().invoke(app, ["history", "compare", a.app_id, b.app_id], env={"COLUMNS": "200"})
    assert "settings: not compared (a run was stored before the store kept settings" in shown.output


def test_a_regression_names_the_settings_changed_since_its_baseline(store, outcomes):
    from copilot.store.history import job_trend
    from tools.compare import setting_text

    fast, slow = sorted((o.record for o in outcomes[:2]), key=lambda r: r.duration_ms)
    assert slow.duration_ms > 1.5 * fast.duration_ms
    with store.connect() as con:  # two runs of one job, as far as the store can tell
        con.execute("UPDATE applications SET app_name = 'nightly' WHERE log_hash IN (?, ?)", [fast.log.log_hash, slow.log.log_hash])
    [regression] = job_trend(store, "nightly").regressions
    assert regression.app.app_id == slow.app_id and regression.changed_settings
    assert f"Settings changed since that run: {setting_text(regression.changed_settings[0])}" in regression.explanation


def test_stored_settings_keep_no_secret(copilot_home, secret_log_outcome):
    from copilot.settings import get_settings
    from planted_secrets import SECRET_VALUES

    store = Store(get_settings().store_path)
    write_outcomes(store, [secret_log_outcome], "run-secret")
    with store.connect() as con:
        values = [v for (v,) in con.execute("SELECT value FROM settings").fetchall()]
    assert values and not [v for v in values if any(secret in (v or "") for secret in SECRET_VALUES)]


def test_show_names_the_slowest_stages_by_what_ran_in_them(store, outcomes):
    """dsAndDf's SQL stages are stored with the operators that ran in them, and `history show` lists them so."""
    runner = CliRunner()
    sql = next(o for o in outcomes if o.log.log_path.endswith("dsAndDf_eventlog.zstd"))
    stages = [s for s in sql.record.stages if s.status != "skipped"]
    slowest = max(stages, key=lambda s: s.duration_ms or 0)
    assert slowest.what_ran and "; SQL " in slowest.what_ran and slowest.what_ran != slowest.name
    shown = runner.invoke(app, ["history", "show", sql.record.app_id], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert slowest.what_ran[:40] in shown.output.split("Slowest stages")[1]
