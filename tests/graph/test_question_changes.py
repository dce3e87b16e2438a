"""What-if questions in plain words become the Spark properties the runtime model answers."""

from __future__ import annotations

import pytest

from graph.question_changes import changes_in


@pytest.mark.parametrize(("question", "changes"), [
    ("what if I use 400 shuffle partitions?", {"spark.sql.shuffle.partitions": "400"}),
    ("set shuffle partitions to 64", {"spark.sql.shuffle.partitions": "64"}),
    ("with AQE off and 2x the data?", {"spark.sql.adaptive.enabled": "false", "input.scale": "2"}),
    ("enable adaptive query execution", {"spark.sql.adaptive.enabled": "true"}),
    ("what if I turn off broadcast joins", {"spark.sql.autoBroadcastJoinThreshold": "-1"}),
    ("raise the broadcast threshold to 50 MB", {"spark.sql.autoBroadcastJoinThreshold": "50mb"}),
    ("4 cores per executor and 8g executor memory", {"spark.executor.cores": "4", "spark.executor.memory": "8g"}),
    ("what if the input data were 10x", {"input.scale": "10"}),
    ("with half the data", {"input.scale": "0.5"}),
    ("double the data with 20 executors", {"input.scale": "2", "spark.executor.instances": "20"}),
    ("spark.sql.autoBroadcastJoinThreshold=100m, please", {"spark.sql.autoBroadcastJoinThreshold": "100m"}),
    ("what if I set spark.executor.memory to 8g?", {"spark.executor.memory": "8g"}),
    ("set spark.sql.shuffle.partitions to 64.", {"spark.sql.shuffle.partitions": "64"}),
])
def test_settings_named_in_words_or_as_properties(question: str, changes: dict[str, str]) -> None:
    assert changes_in(question) == changes


@pytest.mark.parametrize("question", [
    "what if I double the executors?",  # the simulator's executor curve answers this one
    "with 20 executors?",
    "why is it slow?",
    "how is the data skewed",
    "docs about adaptive query execution",
    "what does spark.sql.adaptive.skewJoin.enabled do?",  # a question about the key: the docs answer it
    "what should I set spark.sql.shuffle.partitions to for this job?",  # asks for a value, names none
])
def test_questions_without_a_model_setting_name_no_change(question: str) -> None:
    assert changes_in(question) == {}
