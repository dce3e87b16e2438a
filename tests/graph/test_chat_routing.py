"""Which offline answer a chat question gets: the first intent whose words it shows."""

from __future__ import annotations

import pytest

from graph.intents import INTENTS


def handler_for(question: str) -> str | None:
    """The intent's handler name; None: no intent, the overview and the findings."""
    text = question.lower()
    return next((handler.__name__ for matches, handler in INTENTS if matches(text)), None)


@pytest.mark.parametrize(("question", "handler"), [
    ("how do I fix the skew?", "topic"),  # the findings' fix, not a documentation page
    ("how do I read a stage page?", "docs"),
    ("did anything spill?", "topic"),
    ("how much data was shuffled?", "topic"),
    ("which executor was busiest?", "topic"),
    ("how many executors were lost?", "topic"),
    ("where did the time go?", "topic"),
    ("how much would I save?", "savings"),
    ("how much money would fixing it save?", "savings"),
    ("what did it cost?", "cost"),
    ("what if I double the executors?", "what_if"),
    ("how many shuffle partitions should I use?", "setting_value"),
    ("is it worth enabling AQE?", "setting_value"),
    ("is it worth fixing the skew?", "savings"),
    ("what if I use 400 shuffle partitions?", "predicted"),
    ("why is stage 4 slow?", "stage"),
    ("compare the two runs", "compare"),
    ("why is this run slower than the previous one?", "compare"),
    ("what changed since yesterday?", "compare"),
    ("what's the difference between the two runs?", "compare"),
    ("how much data came from the first stage?", "stage"),  # that stage's figures: input, shuffle, output
    ("what does SQL 3 do?", "sql_execution"),
    ("what does job 2 do?", "job"),
    ("which job took the longest?", "slowest_jobs"),
    ("which job failed?", "slowest_jobs"),
    ("which tables were read?", "sources"),
    ("what files did it read from?", "sources"),
    ("how much data was read?", "topic"),
    ("what spark version is this?", "overview"),
    ("how long did it run?", "overview"),
    ("show me the plan of query #3", "sql_execution"),
    ("why is execution 12 slow?", "sql_execution"),
    ("which query is the slowest?", "sql_queries"),
    ("show me the physical plan", "sql_queries"),
    ("what sql ran?", "sql_queries"),
    ("what does spark.sql.adaptive.enabled do?", "docs"),  # a key with "sql" in it is not a question about SQL
    ("what if I set spark.sql.shuffle.partitions to 400?", "predicted"),
    ("what's wrong?", "findings"),
    ("can I make it cheaper?", "savings"),
    ("how do I reduce the cost?", "savings"),  # the findings' savings, not a documentation page
    ("how do I save a dataframe as parquet?", "docs"),  # 'save' here is no saving
    ("why is utilization so low?", "topic"),
    ("why are my cores idle?", "topic"),
    ("what is taking the most time?", "topic"),
    # a caching question: the run's persisted data and findings, then the documentation (topic appends it)
    ("what is the difference between cache and persist?", "topic"),
    # a repartition question: the run's shuffles and findings, then the documentation (topic appends it)
    ("when should I use coalesce instead of repartition?", "topic"),
    ("what does checkpoint do?", "docs"),
    ("what is this app?", "overview"),
    ("what is wrong with it?", "findings"),
    ("how much memory do executors need?", "topic"),  # memory figures, not the executor-count curve
    ("do the executors spill?", "topic"),
    ("how many executors should I use?", "what_if"),
    ("what if I add more executors?", "what_if"),
    ("would it be faster with fewer executors?", "what_if"),
    ("did it use dynamic allocation?", "setting_used"),  # the run's state, not the overview
    ("was AQE on?", "setting_used"),
    ("is speculation enabled?", "setting_used"),
    ("was spark.sql.adaptive.skewJoin.enabled set?", "setting_used"),
    ("should I enable AQE?", "setting_value"),
    ("does AQE help with skew?", "topic"),  # 'help' in a question is not a request for the help text
    ("what is the bottleneck?", "topic"),  # where the time went, not a documentation search
    ("are there too many partitions?", "topic"),  # the partitions' sizes, not the overview
    ("how big were the partitions?", "topic"),
    ("what should I change first?", "config"),
    ("is the stream keeping up?", "topic"),  # the streaming queries' progress, not the overview
    ("how long do the micro-batches take?", "topic"),
    ("is it falling behind?", "topic"),
    ("how much data was collected to the driver?", "topic"),  # results sent to the driver, not its idle time
    ("why was the first job slow?", "job"),  # a job by its place in the run
    ("what did the last stage do?", "stage"),
    ("how do i make it faster?", "findings"),  # the run's findings, not a documentation search
    ("is 9g of executor memory too much?", "setting_value"),  # the run's value and the finding's, not a what-if
    ("can i use smaller executors?", "setting_value"),
    ("were there any speculative tasks?", "topic"),  # the copies the run launched, not the overview
    ("what joins ran?", "topic"),  # the plans' joins, not the overview
    ("which join was the slowest?", "topic"),
])
def test_a_question_goes_to_the_answer_its_words_ask_for(question: str, handler: str) -> None:
    assert handler_for(question) == handler


@pytest.mark.parametrize("question", ["what is going on here?", "how does this look?", "what do you think?",
                                      "what is happening?"])
def test_a_vague_question_gets_the_overview_not_the_documentation(question: str) -> None:
    assert handler_for(question) is None  # the overview and the findings


@pytest.mark.parametrize("question", ["what is the difference between cache and persist?",
                                      "how much data came from the first stage?", "compare AQE on and off"])
def test_a_question_that_compares_no_runs_is_not_a_run_comparison(question: str) -> None:
    from graph.intents import _COMPARE

    assert _COMPARE.search(question.lower()) is None


@pytest.mark.parametrize("question", ["help", "/help", "what can you do?", "how can you help me?", "help me"])
def test_a_request_for_help_gets_the_help_text(question: str) -> None:
    asks_for_help = INTENTS[0][0]
    assert asks_for_help(question.lower())
    assert not asks_for_help("does aqe help with skew?") and not asks_for_help("would broadcasting help here?")


@pytest.mark.parametrize(("question", "named", "not_named"), [
    ("what is the first thing to check when a job is slow?", [], ["first", "to", "job"]),
    ("what does first() do?", ["first"], []),  # written as code: the API name
    ("how do i convert with df.to(schema)?", ["to", "convert"], []),
    ("what is the difference between cache and persist?", ["cache", "persist"], ["difference"]),
    ("how do i count the rows?", ["count"], ["rows"]),
])
def test_common_words_are_api_names_only_when_written_as_code(question: str, named: list[str], not_named: list[str]) -> None:
    """'the first thing to check' brought DataFrame.first and DataFrame.to as the answer's first passages."""
    from graph.intents import _api_words

    words = _api_words(question)
    assert all(word in words for word in named) and not any(word in words for word in not_named)


@pytest.mark.parametrize(("question", "per_day"), [
    ("how much would it cost per month if it runs daily?", 1.0), ("what if it ran every 6 hours?", 4.0),
    ("and 3 times a day?", 3.0), ("hourly?", 24.0), ("what did it cost?", None),
])
def test_a_schedule_in_a_cost_question_gives_the_runs_a_day(question: str, per_day: float | None) -> None:
    from graph.intents import runs_per_day

    assert runs_per_day(question) == per_day


@pytest.mark.parametrize("question", ["what was cached?", "is caching helping?", "was anything persisted?",
                                      "did the cache get reused?", "what storage level did it use?"])
def test_caching_questions_get_the_caching_topic(question: str) -> None:
    from graph.topics import topic_of

    assert handler_for(question) == "topic"
    assert topic_of(question.lower()).name == "caching"


@pytest.mark.parametrize(("question", "handler"), [
    ("list the jobs", "listed"), ("what jobs ran?", "listed"), ("how many jobs were there?", "listed"),
    ("show me all stages", "listed"), ("what stages were there?", "listed"),
    ("show the slowest stages", "slowest_stages"), ("which job took the longest?", "slowest_jobs"),
    ("which jobs failed?", "slowest_jobs"), ("how many stages failed?", "topic"),
])
def test_a_request_for_every_job_or_stage_gets_the_list(question: str, handler: str) -> None:
    """'list the jobs' got the overview and every finding; 'what jobs ran?' the longest job in detail."""
    assert handler_for(question) == handler


@pytest.mark.parametrize(("question", "handler"), [
    ("how many executors did it use?", "topic"), ("how many executors were there?", "topic"),
    ("how many cores did it have?", "topic"),  # the run's figures, not the executor-count what-if
    ("how many executors should I use?", "what_if"), ("how many executors does the job need?", "what_if"),
    ("how many cores should I use?", "what_if"),
    ("what was the shuffle partitions setting?", "setting_used"), ("what were the shuffle partitions set to?", "setting_used"),
    ("what was spark.sql.shuffle.partitions?", "setting_used"), ("what was the executor memory?", "setting_used"),
    ("what is spark.sql.shuffle.partitions?", "docs"), ("what were the settings?", "config"),
])
def test_questions_about_what_the_run_had_get_its_figures(question: str, handler: str) -> None:
    """'how many executors did it use?' got the executor-count what-if, 'what was the shuffle partitions setting?'
    the findings' config lines."""
    assert handler_for(question) == handler


@pytest.mark.parametrize(("question", "handler"), [
    ("what did AQE do?", "topic"), ("did aqe coalesce the partitions?", "topic"), ("was AQE on?", "setting_used"),
    ("should I enable aqe?", "setting_value"), ("docs about adaptive query execution", "docs"),
])
def test_what_adaptive_execution_did_is_the_aqe_topic(question: str, handler: str) -> None:
    from graph.topics import topic_of

    assert handler_for(question) == handler
    if handler == "topic":
        assert topic_of(question.lower()).name == "adaptive execution"


@pytest.mark.parametrize("question", ["what is the batch duration?", "how long did the batch take?"])
def test_a_micro_batch_figure_is_the_streaming_topic(question: str) -> None:
    """'what is the batch duration?' got the overview (its 'duration' asked for the run's)."""
    from graph.topics import topic_of

    assert handler_for(question) == "topic" and topic_of(question).name == "streaming"


@pytest.mark.parametrize(("question", "handler"), [
    ("what did it read?", "sources"), ("what did the job read?", "sources"),
    ("why did it take 9 minutes?", "topic"), ("why did it take so long?", "topic"),
])
def test_what_it_read_and_why_it_took_long_get_their_answers(question: str, handler: str) -> None:
    """Both got the overview and every finding; 'why did it take 9 minutes?' now gets where the time went."""
    from graph.topics import topic_of

    assert handler_for(question) == handler
    if handler == "topic":
        assert topic_of(question).name == "driver time"


@pytest.mark.parametrize(("question", "topic"), [
    ("does a join multiply rows?", "join row explosion"), ("are there duplicate keys?", "join row explosion"),
    ("is there a many-to-many join?", "join row explosion"), ("why did the join explode?", "join row explosion"),
    ("what joins ran?", "joins"), ("were there broadcast joins?", "joins"),
])
def test_row_multiplying_joins_have_their_topic(question: str, topic: str) -> None:
    from graph.topics import topic_of

    assert handler_for(question) == "topic" and topic_of(question).name == topic


@pytest.mark.parametrize("question", ["is any input read twice?", "was the table read more than once?",
                                      "is the data recomputed?", "why does it reread the table?"])
def test_reading_the_same_data_again_is_the_caching_topic(question: str) -> None:
    from graph.topics import topic_of

    assert handler_for(question) == "topic" and topic_of(question).name == "caching"



@pytest.mark.parametrize(("question", "topic"), [
    ("why is the count distinct so slow?", "distinct counts, cubes and exploded arrays"),
    ("should I use approx_count_distinct?", "distinct counts, cubes and exploded arrays"),
    ("does the cube copy rows?", "distinct counts, cubes and exploded arrays"), ("is the rollup expensive?", "distinct counts, cubes and exploded arrays"),
    ("why is explode then groupBy slow?", "distinct counts, cubes and exploded arrays"),
    ("should collect_list rebuild the array?", "distinct counts, cubes and exploded arrays"),
    ("can higher-order functions replace the explode?", "distinct counts, cubes and exploded arrays"),
    ("does the exploding join hurt?", "join row explosion"),
    ("why is df.rdd.map slow?", "python UDFs"), ("is rdd.map a problem here?", "python UDFs"),
    ("does my repartition(64) help?", "repartitions"), ("should I repartition before the groupBy?", "repartitions"),
    ("coalesce or repartition?", "repartitions"), ("is repartitionbyrange needed?", "global sorts"),
    ("does my filter on day prune partitions?", "data skipping"), ("are partition filters used?", "data skipping"),
    ("is my partitionby too fine?", "small files"), ("why did the write make 4,000 files?", "small files"),
    ("which column should i partition the table by?", "small files"),
    ("why does unionbyname read the table 8 times?", "caching"), ("is my union of filtered frames slow?", "caching"),
    ("how many distinct users were there?", None),  # a question about the data, not about DISTINCT aggregates
])
def test_copied_rows_and_python_rdd_code_have_their_topics(question: str, topic: str | None) -> None:
    from graph.topics import topic_of

    found = topic_of(question)
    assert (found.name if found else None) == topic
    if topic is not None:
        assert handler_for(question) == "topic"
