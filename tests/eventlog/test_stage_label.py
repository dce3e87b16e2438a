"""Stages named by what they ran: the SQL operators whose metrics their tasks updated, else Spark's call site."""

from __future__ import annotations

from tests.conftest import FIXTURES_DIR
from tools.eventlog import load_profile
from tools.eventlog.model import StageProfile, stage_label

WORKLOADS = FIXTURES_DIR / "workloads"


def test_aqe_stages_are_named_by_their_operators_not_sparks_thread():
    profile = load_profile(WORKLOADS / "skewed_join.zstd")
    stages = {s.stage_id: s for s in profile.stages}
    assert stages[4].name.startswith("$anonfun$withThreadLocalCaptured$1")  # what Spark calls it
    assert stage_label(stages[4]) == "SQL 0: Sort, SortMergeJoin, HashAggregate"
    assert stage_label(stages[0]) == "SQL 0: Range, Filter"
    assert stage_label(stages[8]) == "SQL 0: HashAggregate"  # the exchange it reads is left out of the name
    skipped = [s for s in profile.stages if s.status == "skipped"]
    # ran nothing, and Spark's name for them is its thread's: no label rather than '$anonfun$...'
    assert skipped and all(not s.operators and stage_label(s) == "" for s in skipped)


def test_rdd_stages_keep_their_call_site():
    profile = load_profile(WORKLOADS / "lost_shuffle_files.zstd")
    assert profile.stages and all(not s.operators for s in profile.stages)
    assert [stage_label(s) for s in profile.stages] == [s.name for s in profile.stages]
    assert stage_label(profile.stages[0]).startswith("reduceByKey at ")


def test_a_call_site_in_user_code_is_kept_before_the_operators():
    stage = StageProfile(stage_id=3, name="save at Etl.scala:42", sql_execution_id=3,
                         operators=["Scan parquet db.orders", "Filter", "Project", "Exchange"])
    assert stage_label(stage) == "save at Etl.scala:42; SQL 3: Scan parquet db.orders, Filter, Project"
    pyspark = stage.model_copy(update={"name": "save at NativeMethodAccessorImpl.java:0"})
    assert stage_label(pyspark) == "SQL 3: Scan parquet db.orders, Filter, Project"


def test_long_operator_lists_are_cut_and_a_stage_that_only_moves_data_says_so():
    many = StageProfile(stage_id=1, name="$anonfun$x at FutureTask.java:264", sql_execution_id=0,
                        operators=["Scan csv", "Filter", "Project", "Expand", "HashAggregate"])
    assert stage_label(many) == "SQL 0: Scan csv, Filter, Project, Expand, ..."
    moves = StageProfile(stage_id=2, name="$anonfun$x at FutureTask.java:264", sql_execution_id=0,
                         operators=["AQEShuffleRead", "Exchange"])
    assert stage_label(moves) == "SQL 0: AQEShuffleRead, Exchange"
