"""Cost of real applications (public event logs), checked against computations made here from the profile."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tools.cost import PricingSettings, app_cost, cost_report, load_pricing, price_findings, pricing_from_settings
from tools.errors import ConfigurationError
from tools.eventlog import discover_applications, load_profile

HOUR_MS = 3_600_000
YARN_LOG = "apache__spark/spark-events/application_1628109047826_1317105"  # 10 executors, 6 removed, 4g each
LOCAL_LOG = "qubole__sparklens/local-1532512550423"  # local mode: the driver runs the tasks


@pytest.fixture
def unit_prices(tmp_path):
    """1 per core-hour, nothing for memory: cost equals core-hours."""
    path = tmp_path / "prices.toml"
    path.write_text('currency = "EUR"\nprice_per_core_hour = 1.0\nprice_per_gb_hour = 0.0\n')
    return load_pricing(path)


@pytest.fixture
def memory_prices(tmp_path):
    path = tmp_path / "prices.toml"
    path.write_text("price_per_core_hour = 0.0\nprice_per_gb_hour = 1.0\n")
    return load_pricing(path)


def test_allocated_core_time_matches_the_engines_own_accounting_on_every_fixture(eventlog_fixtures, unit_prices):
    checked = 0
    for ref in discover_applications(eventlog_fixtures):
        profile = load_profile(ref.path)
        if profile.allocated_core_ms is None:
            continue
        cost = app_cost(profile, unit_prices)
        assert cost.allocated_core_hours * HOUR_MS == pytest.approx(profile.allocated_core_ms, rel=1e-9), ref.path
        checked += 1
    assert checked >= 20


def test_executor_cost_is_cores_times_lifetime_at_the_core_price(eventlog_fixtures, unit_prices):
    profile = load_profile(eventlog_fixtures / YARN_LOG)
    end = profile.end_time_ms
    expected = sum(e.cores * ((e.removed_time_ms or end) - e.added_time_ms) for e in profile.executors) / HOUR_MS
    cost = app_cost(profile, unit_prices)
    assert cost.currency == "EUR"
    assert cost.executor_count == 10
    assert cost.executor_cost == pytest.approx(expected)
    assert cost.driver_cost == pytest.approx(profile.duration_ms / HOUR_MS)  # spark.driver.cores unset -> 1 core
    assert cost.total_cost == pytest.approx(expected + profile.duration_ms / HOUR_MS)


def test_executors_that_replaced_each_other_are_counted_with_the_most_alive_at_once(eventlog_fixtures, unit_prices):
    """The MLlib job lost 8 one-core containers one after another; each is charged for its own lifetime, and the
    summary says how many ran at once, as the report does."""
    from copilot.cli import app

    log = eventlog_fixtures / "apache__spark" / "spark-events" / "application_1538416563558_0014"
    cost = app_cost(load_profile(log), unit_prices)
    assert (cost.executor_count, cost.peak_executors) == (9, 2)
    result = CliRunner().invoke(app, ["cost", str(log)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert " · 9 executors, at most 2 at once · " in result.output


def test_idle_cost_is_allocated_minus_used_core_time(eventlog_fixtures, unit_prices):
    profile = load_profile(eventlog_fixtures / YARN_LOG)
    cost = app_cost(profile, unit_prices)
    used = sum(e.task_time_ms for e in profile.executors) / HOUR_MS
    assert cost.used_core_hours == pytest.approx(used)
    assert cost.idle_cost == pytest.approx(cost.allocated_core_hours - used)
    assert 0 < cost.utilization < 1


def test_memory_is_charged_heap_plus_overhead_for_each_executor_lifetime(eventlog_fixtures, memory_prices):
    profile = load_profile(eventlog_fixtures / YARN_LOG)
    assert profile.property("spark.executor.memory") == "4g"
    container_gb = (4096 + 0.10 * 4096) / 1024  # overhead unset: max(384 MiB, 10%)
    lifetime_h = sum((e.removed_time_ms or profile.end_time_ms) - e.added_time_ms for e in profile.executors) / HOUR_MS
    assert app_cost(profile, memory_prices).executor_cost == pytest.approx(container_gb * lifetime_h)


def test_local_mode_charges_the_driver_once_as_the_executor(eventlog_fixtures, unit_prices):
    profile = load_profile(eventlog_fixtures / LOCAL_LOG)
    cost = app_cost(profile, unit_prices)
    assert [e.executor_id for e in cost.executors] == ["driver"]
    assert cost.driver_cost == 0
    assert cost.total_cost == pytest.approx(profile.allocated_core_ms / HOUR_MS)


def test_instance_type_price_includes_dbus_per_core():
    pricing = load_pricing(instance_type="m5.xlarge")
    core, gb = pricing.rates()
    assert core == pytest.approx((0.192 + 0.69 * 0.15) / 4)
    assert gb == 0


def test_user_pricing_file_adds_instances_and_overrides_defaults(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('currency = "CHF"\nprice_per_dbu = 0.0\n[instances.big]\ncores = 16\nmemory_gb = 64\nprice_per_hour = 1.6\n')
    pricing = load_pricing(path, instance_type="big")
    assert pricing.currency == "CHF"
    assert pricing.rates() == (pytest.approx(0.1), 0.0)
    assert "m5.xlarge" in pricing.instances  # defaults kept


def test_pricing_section_overrides_apply_and_explicit_options_win(tmp_path):
    mine = tmp_path / "mine.toml"
    mine.write_text("[instances.big]\ncores = 16\nmemory_gb = 64\nprice_per_hour = 1.6\n")
    section = PricingSettings(currency="EUR", price_per_core_hour=2.0, instance_type="m5.xlarge")
    assert pricing_from_settings(None) == load_pricing()
    from_section = pricing_from_settings(section)
    assert (from_section.currency, from_section.price_per_core_hour, from_section.instance_type) == ("EUR", 2.0, "m5.xlarge")
    chosen = pricing_from_settings(section, file=mine, instance_type="big")
    assert chosen.instance_type == "big" and chosen.sources[-1] == str(mine)
    assert chosen.rates() == (pytest.approx(0.1), 0.0)


def test_graph_prices_from_the_same_settings_section(monkeypatch):
    from copilot.settings import get_settings
    from graph.adapters import pricing
    from graph.config import GraphConfig

    monkeypatch.setenv("COPILOT_PRICING__PRICE_PER_CORE_HOUR", "3.5")
    get_settings.cache_clear()
    settings = get_settings()
    assert pricing(GraphConfig.from_settings(settings)) == pricing_from_settings(settings.pricing)
    assert pricing_from_settings(settings.pricing).price_per_core_hour == 3.5


@pytest.mark.parametrize(
    ("content", "instance", "message"),
    [
        ("price_per_core_hour = [", None, "not valid TOML"),
        ("price_per_core_hour = -1", None, "bad pricing: price_per_core_hour"),
        ("", "no-such-type", "unknown instance type 'no-such-type'"),
    ],
)
def test_bad_pricing_is_one_clear_error(tmp_path, content, instance, message):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match=message):
        load_pricing(path, instance_type=instance)


def test_findings_are_priced_from_their_core_time_savings(eventlog_fixtures, unit_prices):
    from tools.rules import diagnose

    profile = load_profile(eventlog_fixtures / YARN_LOG)
    findings = diagnose(profile)
    assert any(f.estimated_savings.core_ms > 0 for f in findings)
    priced = price_findings(findings, profile, unit_prices)
    for before, after in zip(findings, priced):
        assert after.estimated_savings.currency == "EUR"
        if before.estimated_savings.core_ms > 0:
            assert after.estimated_savings.cost == pytest.approx(before.estimated_savings.core_ms / HOUR_MS)  # memory is free here
        else:
            assert after.estimated_savings.cost is None  # not estimated stays not estimated
    report = cost_report(profile, unit_prices, findings)
    costs = [f.estimated_savings.cost or 0.0 for f in report.findings]
    assert costs == sorted(costs, reverse=True)


def test_cli_cost_json_uses_pricing_from_settings(eventlog_fixtures, monkeypatch):
    from copilot.cli import app

    monkeypatch.setenv("COPILOT_PRICING__PRICE_PER_CORE_HOUR", "2.0")
    monkeypatch.setenv("COPILOT_PRICING__PRICE_PER_GB_HOUR", "0")
    from copilot.settings import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["cost", str(eventlog_fixtures / YARN_LOG), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    profile = load_profile(eventlog_fixtures / YARN_LOG)
    expected = 2.0 * (profile.allocated_core_ms + profile.duration_ms) / HOUR_MS
    assert data["cost"]["total_cost"] == pytest.approx(expected)
    assert data["findings"] and data["findings"][0]["estimated_savings"]["currency"] == "USD"


def test_memory_savings_are_priced_per_gb_hour_and_not_under_an_instance_price(eventlog_fixtures, memory_prices, tmp_path):
    from tools.findings import Savings
    from tools.rules import diagnose

    profile = load_profile(eventlog_fixtures / "NVIDIA__spark-rapids-tools/join_agg_on_yarn_eventlog.zstd")
    [memory] = [f for f in diagnose(profile) if f.rule_id == "executor_memory_overprovisioned"]
    assert memory.estimated_savings.memory_gb_ms > 0
    [priced] = price_findings([memory], profile, memory_prices)  # 1 per GB-hour, cores free
    assert priced.estimated_savings.cost == pytest.approx(memory.estimated_savings.memory_gb_ms / HOUR_MS)
    def cost_of(savings: Savings) -> float:
        return price_findings([memory.model_copy(update={"estimated_savings": savings})], profile, memory_prices)[0].estimated_savings.cost

    # core time and freed memory add: the core-hour's own memory share plus 2 GB-hours
    assert cost_of(Savings(core_ms=HOUR_MS, memory_gb_ms=2 * HOUR_MS)) == pytest.approx(cost_of(Savings(core_ms=HOUR_MS)) + 2.0)
    instance = load_pricing(None, instance_type="m5.xlarge")  # memory is part of the instance price
    [priced] = price_findings([memory], profile, instance)
    assert priced.estimated_savings.cost is None


def test_cli_cost_never_rounds_a_little_use_to_zero_percent(eventlog_fixtures):
    """jdbc_eventlog used 0.006 of 2.531 allocated core-hours: the summary read "(0%)"."""
    from copilot.cli import app
    from graph.units import percent

    log = eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "jdbc_eventlog.zstd"
    data = json.loads(CliRunner().invoke(app, ["cost", str(log), "--json"]).output)
    utilization = data["cost"]["utilization"]
    assert 0 < utilization < 0.005
    result = CliRunner().invoke(app, ["cost", str(log)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert f"({percent(utilization)})" in result.output and "(0%)" not in result.output


def test_cli_cost_shows_findings_in_the_reports_units(eventlog_fixtures):
    """`copilot cost` printed its findings with a formatter of its own: "idle / allocated core time: 0.9992 share
    (threshold 0.5)", "idle core time: 9,102,649 ms"; `copilot diagnose` and the report read "99.92% (threshold 50%)"
    and "2.5 h"."""
    from copilot.cli import app

    log = eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "jdbc_eventlog.zstd"
    result = CliRunner().invoke(app, ["cost", str(log)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    # the finding and the cost summary count used core time the same way (cores held by tasks): 99.8% + 0.2%
    assert "- idle / allocated core time: 99.8% (threshold 50%)" in result.output
    assert "- idle core time: 2.5 h (threshold 60.0 min)" in result.output
    assert " share (threshold" not in result.output and " ms" not in result.output
    assert "2.53 core-h allocated, 0.0055 used (0.2%)" in result.output
