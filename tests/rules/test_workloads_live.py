"""The problem workloads, run now on local PySpark, still show their problem (and the healthy one does not)."""

from __future__ import annotations

import pytest

from evals.workloads.problems import WORKLOADS, generate
from tools.eventlog import load_profile
from tools.findings import Severity
from tools.rules import diagnose

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def fresh_logs(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("problem_logs"), ["cross_join", "missed_broadcast", "healthy"])


def test_every_workload_declares_its_problem():
    assert len(WORKLOADS) >= 10
    assert all(spec.description for _, spec in WORKLOADS.values())


def test_fresh_cross_join_is_reported_as_cartesian(fresh_logs):
    findings = diagnose(load_profile(str(fresh_logs["cross_join"])))
    assert "cartesian_join" in {f.category for f in findings}


def test_fresh_missed_broadcast_is_reported(fresh_logs):
    findings = diagnose(load_profile(str(fresh_logs["missed_broadcast"])))
    assert "broadcast_join_opportunity" in {f.category for f in findings}


def test_fresh_healthy_run_has_no_severe_finding(fresh_logs):
    findings = diagnose(load_profile(str(fresh_logs["healthy"])))
    assert not [f for f in findings if f.severity.rank >= Severity.severe.rank]
    assert fresh_logs["healthy"].name == "healthy.zstd" and fresh_logs["healthy"].stat().st_size < 200_000
