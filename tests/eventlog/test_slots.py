"""Executors and task slots alive at once: what the report header, the rules and the chat count."""

from __future__ import annotations

import pytest

from tests.eventlog.logs import YARN_APP, events
from tests.simulate.builders import app
from tools.eventlog import load_profile
from tools.eventlog.model import ExecutorProfile
from tools.eventlog.slots import peak_alive, peak_cores, peak_executors


def executor(name: str, cores: int | None, added: int | None, removed: int | None = None) -> ExecutorProfile:
    return ExecutorProfile(executor_id=name, cores=cores, added_time_ms=added, removed_time_ms=removed)


def test_replacements_one_after_another_never_add_up():
    # each container is lost and replaced: three executors, never more than one alive
    chain = [executor("1", 4, 0, 100), executor("2", 4, 100, 200), executor("3", 4, 200)]
    assert peak_alive(chain) == 4
    assert peak_alive(chain, weight=lambda e: 1) == 1


def test_overlaps_count_and_windows_select():
    execs = [executor("1", 2, 0, 300), executor("2", 3, 100, 200), executor("3", 1, 250)]
    assert peak_alive(execs) == 5  # 1 and 2 during 100..200
    assert peak_alive(execs, 210, 400) == 3  # 1 and 3
    assert peak_alive(execs, 500, 600) == 1  # only 3 is left


def test_an_executor_without_an_added_time_makes_every_executor_count():
    assert peak_alive([executor("1", 2, 0, 100), executor("2", 2, None)]) == 4


@pytest.mark.parametrize(
    ("master", "properties", "expected"),
    [
        ("local[3]", {}, 3),
        ("yarn", {"spark.executor.cores": "4", "spark.executor.instances": "5"}, 20),
        ("yarn", {"spark.executor.cores": "four", "spark.executor.instances": "5"}, None),
        ("yarn", {}, None),
    ],
)
def test_peak_cores_without_executor_events_come_from_the_master_or_the_settings(master, properties, expected):
    assert peak_cores(app([], duration_ms=1000, master=master, spark_properties=properties)) == expected


def test_a_real_log_that_lost_and_replaced_executors():
    """The MLlib job lost 8 one-core containers: 9 executors over the run; the peak, swept independently over the
    log's own ExecutorAdded / ExecutorRemoved events, is what the profile says."""
    changes = []
    for event in events(YARN_APP):
        if event["Event"] == "SparkListenerExecutorAdded":
            changes.append((event["Timestamp"], 1, event["Executor Info"]["Total Cores"]))
        elif event["Event"] == "SparkListenerExecutorRemoved":
            changes.append((event["Timestamp"], -1, None))
    alive = peak = 0
    for _, delta, _ in sorted(changes, key=lambda c: (c[0], c[1])):
        alive += delta
        peak = max(peak, alive)
    cores = {c for _, delta, c in changes if delta > 0}

    profile = load_profile(YARN_APP)
    assert len(profile.executors) == 9 and cores == {1}
    assert peak_executors(profile.executors) == peak == 2
    assert peak_cores(profile) == 2
