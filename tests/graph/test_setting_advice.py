"""Which setting a value question asks about, and which values the answer compares."""

from __future__ import annotations

import pytest

from graph.setting_advice import MAX_CANDIDATES, asked_setting, candidate_values, spark_default


@pytest.mark.parametrize(("question", "key"), [
    ("what should I set spark.sql.shuffle.partitions to?", "spark.sql.shuffle.partitions"),
    ("how many shuffle partitions should i use for this job?", "spark.sql.shuffle.partitions"),
    ("what's the best broadcast threshold", "spark.sql.autoBroadcastJoinThreshold"),
    ("how much executor memory should i give it?", "spark.executor.memory"),
    ("should i enable aqe?", "spark.sql.adaptive.enabled"),
    ("recommended value for spark.memory.fraction?", "spark.memory.fraction"),
])
def test_a_question_asking_for_a_value_names_its_setting(question: str, key: str) -> None:
    assert asked_setting(question) == key


@pytest.mark.parametrize("question", [
    "what does spark.sql.adaptive.skewJoin.enabled do?",  # an explanation: the documentation answers it
    "how many executors should i use?",  # the executor curve answers it
    "why is it slow?",
])
def test_other_questions_name_no_setting(question: str) -> None:
    assert asked_setting(question) is None


def test_partition_candidates_keep_the_current_and_recommended_counts_and_stay_few() -> None:
    values = candidate_values("spark.sql.shuffle.partitions", "2000", ["7"], cores=48)
    assert "2000" in values and "7" in values and len(values) == MAX_CANDIDATES
    assert [int(v) for v in values] == sorted(int(v) for v in values)


def test_size_candidates_keep_the_runs_spelling_of_its_own_value() -> None:
    """10485760 bytes is the default 10MB: one row, spelled as the run set it, so it is marked as now."""
    assert candidate_values("spark.sql.autoBroadcastJoinThreshold", "10485760", [], cores=4) == ["-1", "10485760", "100MB"]
    assert candidate_values("spark.executor.memory", "4g", ["1751m"], cores=4) == ["1751m", "2048m", "4g", "8192m"]


@pytest.mark.parametrize(("version", "default"), [("3.1.1", "false"), ("3.2.0", "true"), ("4.0.0", "true"), (None, None)])
def test_the_aqe_default_follows_the_version_that_wrote_the_log(version: str | None, default: str | None) -> None:
    assert spark_default("spark.sql.adaptive.enabled", version) == default
