"""The one parser of local master URLs and what the engine, rules, simulator and cost read from it."""

from __future__ import annotations

import pytest

from tests.simulate.builders import app, stage
from tools.cost import app_cost, load_pricing
from tools.eventlog.master import LocalMaster, local_master
from tools.rules.registry import RuleContext
from tools.rules.thresholds import RuleThresholds
from tools.simulate import simulate


@pytest.mark.parametrize(
    ("master", "expected"),
    [
        ("local", LocalMaster(executors=1, cores=1)),
        ("local[4]", LocalMaster(executors=1, cores=4)),
        (" local[4] ", LocalMaster(executors=1, cores=4)),
        ("local[*]", LocalMaster(executors=1, cores=None)),
        ("local[4,3]", LocalMaster(executors=1, cores=4)),
        ("local[*, 2]", LocalMaster(executors=1, cores=None)),
        ("local-cluster[2,3,1024]", LocalMaster(executors=2, cores=3, cluster=True)),
        ("local-cluster[ 2 , 3 , 1024 ]", LocalMaster(executors=2, cores=3, cluster=True)),
        ("yarn", None),
        ("spark://host:7077", None),
        ("localhost", None),
        ("local[x]", None),
        ("", None),
        (None, None),
    ],
)
def test_local_master_forms(master, expected):
    assert local_master(master) == expected


def test_total_cores_multiply_workers_by_their_cores_and_are_unknown_for_star():
    assert local_master("local-cluster[2,3,1024]").total_cores == 6
    assert local_master("local[8]").total_cores == 8
    assert local_master("local[*]").total_cores is None


@pytest.mark.parametrize(("master", "slots"), [("local[3]", 3), ("local", 1), ("local-cluster[2,3,1024]", 6)])
def test_rules_simulator_and_cost_count_the_same_slots_without_executor_events(tmp_path, master, slots):
    profile = app([stage(0, [100.0] * 12, 0, 1000)], duration_ms=3_600_000, master=master)
    assert RuleContext(profile, RuleThresholds()).total_cores == slots
    assert simulate(profile).slots == slots
    prices = tmp_path / "prices.toml"
    prices.write_text("price_per_core_hour = 1.0\nprice_per_gb_hour = 0.0\n")
    # no executor events: the local layout is charged as one executor with every slot for the hour
    assert app_cost(profile, load_pricing(prices), include_driver=False).total_cost == pytest.approx(slots)
