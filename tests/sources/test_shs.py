"""The History Server client against a real Spark History Server (installed pyspark) on loopback."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tools.errors import ConfigurationError
from tools.eventlog import load_profile
from tools.sources.shs import fetch_event_log, list_applications, parse_shs_url, resolve

pytestmark = pytest.mark.slow


def test_lists_every_application_with_its_attempts(history_server):
    apps = {a.id: a for a in list_applications(history_server["url"])}
    local_app = load_profile(history_server["local_log"]).app_id
    assert {"application_1628109047826_1317105", "local-1430917381535", "local-1623876083964", local_app} <= set(apps)
    assert sorted(a.attempt_id for a in apps["local-1430917381535"].attempts) == ["1", "2"]
    assert apps[local_app].completed
    assert apps[local_app].name == "shs-fixture"


def test_fetched_log_profiles_like_the_original(history_server, tmp_path):
    original = load_profile(history_server["local_log"])
    fetched_path = resolve(f"{history_server['url']}/{original.app_id}", tmp_path)
    assert fetched_path.is_file() and fetched_path.parents[2] == tmp_path / "shs"
    fetched = load_profile(fetched_path)
    assert (fetched.app_id, fetched.app_name, len(fetched.stages), fetched.total_tasks) == (
        original.app_id, original.app_name, len(original.stages), original.total_tasks
    )


def test_rolling_log_arrives_as_an_eventlog_v2_directory(history_server, tmp_path):
    path = resolve(f"{history_server['url']}/local-1623876083964", tmp_path)
    assert path.is_dir() and path.name == "eventlog_v2_local-1623876083964"
    assert load_profile(path).app_id == "local-1623876083964"


def test_one_attempt_is_fetched_by_its_id(history_server, tmp_path):
    first = load_profile(fetch_event_log(history_server["url"], "local-1430917381535", tmp_path, attempt_id="1"))
    assert first.attempt_id == "1"
    last = load_profile(resolve(f"{history_server['url']}/local-1430917381535", tmp_path))
    assert last.attempt_id == "2"


def test_completed_logs_are_served_from_the_cache(history_server, tmp_path):
    url = f"{history_server['url']}/application_1628109047826_1317105"
    path = resolve(url, tmp_path)
    stamp = path.stat().st_mtime_ns
    assert resolve(url, tmp_path) == path
    assert path.stat().st_mtime_ns == stamp


def test_unknown_application_and_unreachable_server_are_one_clear_error(history_server, tmp_path):
    with pytest.raises(ConfigurationError, match="does not know"):
        resolve(f"{history_server['url']}/app-does-not-exist", tmp_path)
    with pytest.raises(ConfigurationError, match="cannot reach the History Server"):
        resolve("shs://127.0.0.1:9/app-1", tmp_path)


def test_cli_shs_list_and_profile_of_a_shs_url(history_server):
    from copilot.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["shs", "list", history_server["url"], "--json"])
    assert listed.exit_code == 0, listed.output
    assert "local-1623876083964" in {a["id"] for a in json.loads(listed.output)}
    profiled = runner.invoke(app, ["profile", f"{history_server['url']}/application_1628109047826_1317105", "--json"])
    assert profiled.exit_code == 0, profiled.output
    assert json.loads(profiled.output)["app_id"] == "application_1628109047826_1317105"
    http_url = history_server["url"].replace("shs://", "http://")
    by_option = runner.invoke(app, ["profile", "local-1623876083964", "--history-server", http_url, "--json"])
    assert by_option.exit_code == 0, by_option.output
    assert json.loads(by_option.output)["app_id"] == "local-1623876083964"


def test_parse_shs_url_forms():
    target = parse_shs_url("shs+https://bob:pw@history.example:18480/app-1/2")
    assert (target.base_url, target.app_id, target.attempt_id, target.username) == ("https://history.example:18480", "app-1", "2", "bob")
    assert parse_shs_url("http://h:18080/api/v1/applications/app-7").app_id == "app-7"
    with pytest.raises(ConfigurationError, match="not a History Server URL"):
        parse_shs_url("ftp://h/app")


def test_fetch_applications_brings_every_completed_log(history_server, tmp_path):
    from tools.sources.shs import fetch_applications

    paths = fetch_applications(history_server["url"], tmp_path)
    assert len(paths) == 4
    assert {load_profile(p).app_id for p in paths} >= {"local-1623876083964", "application_1628109047826_1317105"}
    assert len(fetch_applications(history_server["url"], tmp_path, limit=2)) == 2


def test_cost_and_streaming_commands_take_shs_urls(history_server):
    from copilot.cli import app

    runner = CliRunner()
    cost = runner.invoke(app, ["cost", f"{history_server['url']}/application_1628109047826_1317105", "--json"])
    assert cost.exit_code == 0, cost.output
    assert json.loads(cost.output)["cost"]["app_id"] == "application_1628109047826_1317105"
    streaming = runner.invoke(app, ["streaming", f"{history_server['url']}/local-1623876083964", "--json"])
    assert streaming.exit_code == 0, streaming.output
    assert json.loads(streaming.output) == []
