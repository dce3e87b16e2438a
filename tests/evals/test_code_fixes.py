"""The code-advice check: a finding's code change, applied to its real PySpark workload, removes what it measured."""

from __future__ import annotations

import inspect

import pytest

from evals.code_fixes import FIXES, check_fix
from evals.workloads.problems import WORKLOADS
from tools.rules import load_rules


def test_every_fixed_workload_names_a_rule_and_says_what_it_changes() -> None:
    rules = load_rules()
    for name, (rule_id, _) in FIXES.items():
        function = WORKLOADS[name][0]
        assert rule_id in rules and "fixed" in inspect.signature(function).parameters, name
        assert "`fixed`:" in (function.__doc__ or ""), name


@pytest.mark.slow
def test_passing_the_schema_removes_the_inference_jobs() -> None:
    """inferred_schema as it is and with both readers given the schema, once each."""
    result = check_fix("inferred_schema", repeat=1)
    assert result.fires_before == 1 and result.fires_after == [0] and result.resolved
    # the inference jobs (5-6 s on 2 cores) are gone: the jobs ran for less time than as it is
    assert result.job_s_after[0] < result.job_s_before[0] - 2
    assert result.change.startswith("both readers are given the schema")


@pytest.mark.slow
def test_clustering_the_table_lets_the_reader_skip_for_the_customer_query() -> None:
    """unclustered_filter as it is and fixed (written ordered by customer_id, the day as a raw ts range), once each:
    the customer query's finding goes; the day query's stays (pushed now, but the files are not ordered by ts)."""
    result = check_fix("unclustered_filter", repeat=1)
    assert result.fires_before == 2 and result.fires_after == [1]
    assert result.named_sql_s_after[0] < result.named_sql_s_before[0]
