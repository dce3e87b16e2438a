"""The typed, compact profile of one Spark application (the hinge of the system).

Every later stage (rules, simulator, model, cost, graph) reads an `AppProfile`;
none re-reads the log. Its size grows with stages and executors, never with the
number of tasks or log bytes. A metric that the log does not carry (old Spark
versions) is `None`, which means "not measured", never zero.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

AQE_DEFAULT_ON_SINCE = (3, 2)  # spark.sql.adaptive.enabled defaults to true from this release
# Parquet's vectored reads (on in the Spark 4 releases measured) fetch column chunks on threads the task's input
# metric does not count; the metric is taken as missing them below this share of the files the scans read
VECTORED_IO_SINCE = (4, 0)
VECTORED_IO_KEY = "parquet.hadoop.vectored.io.enabled"
INPUT_MISSED_SHARE = 0.05


def spark_release(spark_version: str | None) -> tuple[int, int]:
    """(major, minor) of a Spark version string ('3.3.0-amzn-0' -> (3, 3)); (0, 0) when unknown."""
    match = re.match(r"(\d+)\.(\d+)", spark_version or "")
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


PYTHON_TRACEBACK = "Traceback (most recent call last):"
# Lines of a failure message that are not the exception itself: traceback headers and Spark's own trailers
_NOT_THE_EXCEPTION = ("Traceback", "During handling of the above exception", "The above exception was the direct cause")
_END_OF_PYTHON_PART = ("Driver stacktrace", "\tat ")


def failure_line(text: str, limit: int = 2000) -> str:
    """The line of a failure message that says what went wrong: its first line, except that a Python traceback
    announced at its end ('[PYTHON_EXCEPTION] ... Traceback (most recent call last):') gives way to the exception the
    traceback ends with ('... ValueError: bad record in partition 0'), the last one when exceptions are chained."""
    lines = text.strip().split("\n")
    first = lines[0].rstrip()
    if first.endswith(PYTHON_TRACEBACK):
        exception = None
        for line in lines[1:]:
            if line.startswith(_END_OF_PYTHON_PART):
                break
            if line[:1] not in ("", " ", "\t") and not line.startswith(_NOT_THE_EXCEPTION):
                exception = line.strip()
        if exception:
            first = f"{first[:-len(PYTHON_TRACEBACK)].rstrip()} {exception}"
    return first[:limit]


def task_cpus(spark_properties: dict[str, str]) -> float:
    """Cores each task holds (spark.task.cpus, default 1)."""
    try:
        return float(spark_properties.get("spark.task.cpus") or 1) or 1.0
    except ValueError:
        return 1.0


def interactive_shell(app_name: str, spark_properties: dict[str, str]) -> str | None:
    """The interactive shell an application was, or None for a submitted job.

    The Scala REPL (spark-shell, and notebooks and Livy sessions built on it) sets spark.repl.class.uri;
    spark-shell and the pyspark shell name the application "Spark shell" and "PySparkShell" unless told otherwise.
    """
    if app_name == "PySparkShell":
        return "pyspark shell"
    if app_name == "Spark shell":
        return "spark-shell"
    if spark_properties.get("spark.repl.class.uri") or spark_properties.get("spark.repl.class.outputDir"):
        return "Scala REPL"
    return None


class Quantiles(BaseModel):
    """Distribution of one task metric over the tasks of a stage."""

    count: int
    sum: float
    min: float
    p25: float
    median: float
    p75: float
    p95: float
    max: float


class TaskMetricDistributions(BaseModel):
    """Per-stage distributions over successful task attempts; None = metric absent in the log."""

    duration_ms: Quantiles | None = None
    executor_run_time_ms: Quantiles | None = None
    executor_cpu_time_ms: Quantiles | None = None
    executor_deserialize_time_ms: Quantiles | None = None
    jvm_gc_time_ms: Quantiles | None = None
    result_serialization_time_ms: Quantiles | None = None
    scheduler_delay_ms: Quantiles | None = None
    input_bytes: Quantiles | None = None
    input_records: Quantiles | None = None
    output_bytes: Quantiles | None = None
    output_records: Quantiles | None = None
    shuffle_read_bytes: Quantiles | None = None
    shuffle_read_records: Quantiles | None = None
    shuffle_remote_bytes_read: Quantiles | None = None
    shuffle_fetch_wait_ms: Quantiles | None = None
    shuffle_write_bytes: Quantiles | None = None
    shuffle_write_records: Quantiles | None = None
    shuffle_write_time_ms: Quantiles | None = None
    memory_bytes_spilled: Quantiles | None = None
    disk_bytes_spilled: Quantiles | None = None
    peak_execution_memory_bytes: Quantiles | None = None
    result_size_bytes: Quantiles | None = None


class StageProfile(BaseModel):
    """One attempt of one stage."""

    stage_id: int
    attempt_id: int = 0
    name: str = ""
    details: str = ""  # call site, first lines only
    num_tasks: int = 0  # as declared by the scheduler
    parent_ids: list[int] = Field(default_factory=list)
    job_ids: list[int] = Field(default_factory=list)
    rdd_names: list[str] = Field(default_factory=list)
    submission_time_ms: int | None = None
    completion_time_ms: int | None = None
    duration_ms: int | None = None  # completion - submission
    status: str = "unknown"  # complete | failed | skipped | active | unknown
    failure_reason: str | None = None  # first line
    tasks_succeeded: int = 0
    tasks_failed: int = 0
    tasks_killed: int = 0
    tasks_speculative: int = 0
    task_failure_reasons: dict[str, int] = Field(default_factory=dict)  # reason class -> count
    task_failure_time_ms: dict[str, float] = Field(default_factory=dict)  # reason class -> attempt time, launch to end
    metrics: TaskMetricDistributions = Field(default_factory=TaskMetricDistributions)
    duration_sample_ms: list[float] = Field(default_factory=list)  # <= 512 evenly spaced order statistics
    task_time_by_executor_ms: dict[str, float] = Field(default_factory=dict)
    accumulables: dict[str, float] = Field(default_factory=dict)  # named stage accumulables (final values)
    # the SQL execution whose operators ran in this stage, and those operators (wrappers left out) in the order the
    # data flows through them: the plan nodes whose SQL metrics this stage's tasks updated
    sql_execution_id: int | None = None
    operators: list[str] = Field(default_factory=list)


class ExecutorProfile(BaseModel):
    executor_id: str
    host: str = ""
    cores: int | None = None
    max_memory_bytes: int | None = None  # block manager storage memory
    added_time_ms: int | None = None
    removed_time_ms: int | None = None
    removed_reason: str | None = None
    resource_profile_id: int | None = None
    task_count: int = 0
    failed_task_count: int = 0
    task_time_ms: float = 0.0
    gc_time_ms: float = 0.0
    input_bytes: float = 0.0
    shuffle_read_bytes: float = 0.0
    shuffle_write_bytes: float = 0.0
    memory_bytes_spilled: float = 0.0
    disk_bytes_spilled: float = 0.0
    peak_jvm_heap_bytes: int | None = None
    peak_jvm_offheap_bytes: int | None = None
    peak_execution_memory_bytes: int | None = None  # on-heap + off-heap execution
    peak_python_memory_bytes: int | None = None
    peak_rss_bytes: int | None = None  # ProcessTree metrics when enabled


class JobProfile(BaseModel):
    job_id: int
    submission_time_ms: int | None = None
    completion_time_ms: int | None = None
    duration_ms: int | None = None
    stage_ids: list[int] = Field(default_factory=list)
    status: str = "unknown"  # succeeded | failed | unknown
    failure_reason: str | None = None
    sql_execution_id: int | None = None
    description: str | None = None


SCAN_OPERATORS = ("Scan ", "FileScan ", "BatchScan ")  # plan operators that read a data source
# Plan nodes that only wrap their child (adaptive execution, codegen boundaries, query-stage markers).
PLAN_WRAPPERS = ("AdaptiveSparkPlan", "InputAdapter", "WholeStageCodegen", "ShuffleQueryStage", "BroadcastQueryStage",
                 "ResultQueryStage", "TableCacheQueryStage", "ReusedQueryStage")
# AQE's read of a shuffle (coalesced, split or local partitions): its name from Spark 3.2, and before
AQE_READS = ("AQEShuffleRead", "CustomShuffleReader")
SHUFFLED_JOINS = ("SortMergeJoin", "ShuffledHashJoin")  # joins that shuffle both sides
AGGREGATES = ("HashAggregate", "ObjectHashAggregate", "SortAggregate")  # the operators of groupBy().agg()
# Operators that run Python code on rows: scalar UDFs row at a time or in Arrow batches (one output column each),
# then the pandas / Arrow functions given whole partitions or groups
ROW_UDF = ("BatchEvalPython",)
SCALAR_ARROW_UDF = ("ArrowEvalPython",)
PYTHON_EVALS = (*ROW_UDF, *SCALAR_ARROW_UDF)
VECTORIZED_UDF = (*SCALAR_ARROW_UDF, "FlatMapGroupsInPandas", "FlatMapCoGroupsInPandas", "MapInPandas", "MapInArrow",
                  "PythonMapInArrow", "AggregateInPandas", "WindowInPandas", "FlatMapGroupsInArrow")


def base_operator(name: str) -> str:
    """An operator name without AQE's marker: 'SortMergeJoin(skew=true)' (a join whose skewed partitions AQE split)
    is a 'SortMergeJoin'."""
    return name.split("(")[0]


# Operators that only move rows between stages or formats; a stage's label names the work around them.
_DATA_MOVES = ("Exchange", "ShuffleExchange", "BroadcastExchange", *AQE_READS, "ColumnarToRow", "RowToColumnar")
# Call sites that say where Spark's own threads submitted a stage (AQE, broadcasts, PySpark's reflection), not the
# user's code: '$anonfun$withThreadLocalCaptured$1 at CompletableFuture.java:1768'.
_SPARK_CALL_SITE = re.compile(r"^\$anonfun\$|\bat (?:NativeMethodAccessorImpl|DirectMethodHandleAccessor|CompletableFuture"
                              r"|FutureTask|ThreadPoolExecutor|Thread)\.java:")
LABEL_OPERATORS = 4


class PlanNode(BaseModel):
    """A physical plan operator with the final values of its SQL metrics."""

    node_id: int | None = None
    parent_id: int | None = None  # node_id of the operator this one feeds (None for the root)
    name: str  # Spark's nodeName, secrets redacted, without the trailing space a scan naming no table has
    description: str = ""  # simpleString, truncated
    metrics: dict[str, float] = Field(default_factory=dict)  # metric name -> final value
    stage_ids: list[int] = Field(default_factory=list)  # stages whose tasks updated its metrics (where it ran)


class SqlExecution(BaseModel):
    execution_id: int
    description: str = ""
    details: str = ""
    physical_plan: str = ""  # text, secrets redacted, truncated to a bounded size
    start_time_ms: int | None = None
    end_time_ms: int | None = None
    duration_ms: int | None = None
    job_ids: list[int] = Field(default_factory=list)
    nodes: list[PlanNode] = Field(default_factory=list)
    error: str | None = None

    def children(self) -> dict[int, list[PlanNode]]:
        """Node id -> its child nodes, left to right."""
        out: dict[int, list[PlanNode]] = {}
        for node in self.nodes:
            if node.parent_id is not None:
                out.setdefault(node.parent_id, []).append(node)
        return out

    def above(self, node: PlanNode, skip: tuple[str, ...] = ()) -> PlanNode | None:
        """The operator `node` feeds, past those whose name starts with one of `skip` (None at the root)."""
        by_id = {n.node_id: n for n in self.nodes if n.node_id is not None}
        parent = by_id.get(node.parent_id) if node.parent_id is not None else None
        while parent is not None and skip and parent.name.startswith(skip):
            parent = by_id.get(parent.parent_id) if parent.parent_id is not None else None
        return parent

    def below(self, node: PlanNode, stop: tuple[str, ...] = ()) -> list[PlanNode]:
        """Every node under `node`, not entering (nor listing) those whose name starts with one of `stop`."""
        children = self.children()
        out, stack = [], list(children.get(node.node_id, []))
        while stack:
            child = stack.pop()
            if stop and child.name.startswith(stop):
                continue
            out.append(child)
            stack.extend(children.get(child.node_id, []))
        return out


def stage_label(stage: StageProfile) -> str:
    """What a stage did, for people: 'SQL 0: Sort, SortMergeJoin, HashAggregate' from the operators that ran in it,
    after the call site when that names the user's code ('save at Etl.scala:42; SQL 3: Scan parquet, Project');
    the call site alone when no SQL operator is known (RDD stages, logs without SQL metrics); '' for a stage that ran
    nothing (skipped) and that Spark named after its own AQE or broadcast thread, a name that says nothing."""
    name = stage.name.strip()
    if not stage.operators:
        return "" if name.startswith("$anonfun$") else name
    work = [op for op in stage.operators if not op.startswith(_DATA_MOVES)] or stage.operators
    shown = ", ".join(work[:LABEL_OPERATORS]) + (", ..." if len(work) > LABEL_OPERATORS else "")
    ran = f"SQL {stage.sql_execution_id}: {shown}" if stage.sql_execution_id is not None else shown
    return f"{name}; {ran}" if name and not _SPARK_CALL_SITE.search(name) else ran


def executions_with_jobs(executions: list[SqlExecution]) -> list[SqlExecution]:
    """The executions that ran Spark jobs (all of them when none did). Spark 3.4+ logs a job-less parent execution
    around a nested one (each streaming micro-batch's write), whose plan and metrics mirror the nested one's."""
    return [x for x in executions if x.job_ids] or executions


class CachedData(BaseModel):
    """A persisted RDD or cached DataFrame / table: how it was stored and which work had it in its lineage."""

    rdd_id: int
    name: str = ""  # the RDD's name; for a cached DataFrame, the plan it stores (redacted, truncated)
    callsite: str = ""  # where the RDD was created, as Spark logs it (redacted)
    storage_level: str  # as the Spark UI's Storage tab words it, e.g. "Disk Memory Deserialized 1x Replicated"
    partitions: int = 0
    # stages that ran with it in their lineage: the first computes and stores it, later ones read it back
    stage_ids: list[int] = Field(default_factory=list)
    job_ids: list[int] = Field(default_factory=list)
    sql_execution_ids: list[int] = Field(default_factory=list)
    actions: int = 0  # what ran it: its SQL executions, plus its jobs outside any SQL execution (RDD code)
    unpersisted: bool = False  # the application released it (an UnpersistRDD event)
    # the largest sizes a stage reported; None when none did (logs of Spark 2.3+ do not track them)
    cached_partitions: int | None = None
    memory_bytes: int | None = None
    disk_bytes: int | None = None


class StreamingProgress(BaseModel):
    """Summary of one structured-streaming query's progress events."""

    query_id: str
    name: str | None = None
    batches: int = 0
    input_rows_per_second_mean: float | None = None
    processed_rows_per_second_mean: float | None = None
    batch_duration_ms_median: float | None = None
    batch_duration_ms_max: float | None = None
    trigger_interval_ms: float | None = None
    state_rows_max: int | None = None
    state_memory_bytes_max: int | None = None
    sources: list[str] = Field(default_factory=list)
    sinks: list[str] = Field(default_factory=list)
    num_input_rows_total: int = 0
    terminated: bool = False  # the log has the query's end: stopped, or failed with `exception`
    exception: str | None = None  # what it failed with (the line that says what went wrong, redacted)


class LogSource(BaseModel):
    """Where the profile came from."""

    path: str
    parts: list[str] = Field(default_factory=list)
    codec: str = "none"
    bytes_read: int = 0  # compressed bytes on disk
    bytes_decoded: int = 0
    events: int = 0
    unknown_events: int = 0
    bad_lines: int = 0


class AppProfile(BaseModel):
    """Everything the analysis needs about one application attempt."""

    app_id: str
    attempt_id: str | None = None
    app_name: str = ""
    user: str | None = None
    spark_version: str | None = None
    master: str | None = None
    start_time_ms: int | None = None
    end_time_ms: int | None = None
    duration_ms: int | None = None
    complete: bool = True  # false when the log has no ApplicationEnd or was cut mid-line
    spark_properties: dict[str, str] = Field(default_factory=dict)  # secrets redacted
    hadoop_properties: dict[str, str] = Field(default_factory=dict)  # secrets redacted
    system_properties: dict[str, str] = Field(default_factory=dict)  # secrets redacted
    executors: list[ExecutorProfile] = Field(default_factory=list)  # driver excluded
    jobs: list[JobProfile] = Field(default_factory=list)
    stages: list[StageProfile] = Field(default_factory=list)  # one per attempt
    sql_executions: list[SqlExecution] = Field(default_factory=list)
    streaming: list[StreamingProgress] = Field(default_factory=list)
    cached: list[CachedData] = Field(default_factory=list)  # persisted RDDs / cached DataFrames, by RDD id
    # time accounting
    driver_time_ms: int | None = None  # wall time with no job running
    executor_time_ms: int | None = None  # wall time with at least one job running
    critical_path_ms: int | None = None  # longest stage chain through the DAG
    allocated_core_ms: float | None = None  # sum over executors of cores x lifetime
    used_core_ms: float | None = None  # core time held by tasks: every attempt, launch to finish, x spark.task.cpus
    total_tasks: int = 0
    failed_tasks: int = 0
    killed_tasks: int = 0
    warnings: list[str] = Field(default_factory=list)
    source: LogSource | None = None

    @property
    def release(self) -> tuple[int, int]:
        """(major, minor) of the Spark that wrote the log; (0, 0) when unknown."""
        return spark_release(self.spark_version)

    @property
    def task_cpus(self) -> float:
        """Cores each task holds (spark.task.cpus, default 1)."""
        return task_cpus(self.spark_properties)

    @property
    def interactive_shell(self) -> str | None:
        """"spark-shell", "pyspark shell" or "Scala REPL" for an interactive session, None for a submitted job."""
        return interactive_shell(self.app_name, self.spark_properties)

    @property
    def master_url(self) -> str:
        """The master URL the application ran with: the environment's, else the spark.master property ("" when
        the log says neither)."""
        return (self.master or self.spark_properties.get("spark.master") or "").strip()

    def property(self, key: str, default: str | None = None) -> str | None:
        """A Spark property as set in the application (redacted values stay redacted)."""
        return self.spark_properties.get(key, default)

    def delta_configured(self) -> bool:
        """Delta Lake is set up in the session (its SQL extension or its catalog)."""
        return any("delta" in (self.property(key) or "").lower()
                   for key in ("spark.sql.extensions", "spark.sql.catalog.spark_catalog"))

    def int_property(self, key: str) -> int | None:
        """A Spark property read as an integer; None when unset or not a whole number."""
        value = self.spark_properties.get(key)
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    def stage(self, stage_id: int, attempt_id: int | None = None) -> StageProfile | None:
        """The given attempt of a stage, or its last attempt."""
        matches = [s for s in self.stages if s.stage_id == stage_id]
        if attempt_id is not None:
            matches = [s for s in matches if s.attempt_id == attempt_id]
        return max(matches, key=lambda s: s.attempt_id) if matches else None

    def stages_of(self, stage_ids: list[int]) -> list[StageProfile]:
        """The last attempt of each of these stages the log has, in the order given."""
        return [s for s in (self.stage(i) for i in stage_ids) if s is not None]

    def sql_execution(self, execution_id: int | None) -> SqlExecution | None:
        """The SQL execution with this id (None for None or an id the log does not have)."""
        return next((x for x in self.sql_executions if execution_id is not None and x.execution_id == execution_id), None)

    def stage_nodes(self, stage_id: int) -> list[PlanNode]:
        """The plan nodes of the stage's SQL execution that ran in it (its tasks updated their metrics), pre-order."""
        stage = self.stage(stage_id)
        execution = self.sql_execution(stage.sql_execution_id) if stage is not None else None
        return [n for n in execution.nodes if stage_id in n.stage_ids] if execution is not None else []

    def input_bytes(self, stage: StageProfile) -> float | None:
        """The bytes a stage read as input: the Parquet files its tasks' input metric missed (`missed_parquet_bytes`),
        else that metric; None when nothing was measured."""
        missed = self.missed_parquet_bytes(stage)
        if missed is not None:
            return missed
        return stage.metrics.input_bytes.sum if stage.metrics.input_bytes is not None else None

    def missed_parquet_bytes(self, stage: StageProfile) -> float | None:
        """The size of the Parquet files the stage's scans read where its tasks' input metric holds under 5% of it
        on a Spark with Parquet's vectored reads on, else None. Those reads run on threads other than the task's,
        whose Hadoop counters the metric sums: Spark 4.3 logged 21 KB of input for 210 MB of Parquet files read
        whole, and 212 MB with the vectored reads off."""
        if not self.vectored_parquet_reads():
            return None
        files = sum(n.metrics.get("size of files read", 0.0) for n in self.stage_nodes(stage.stage_id)
                    if n.name.startswith("Scan parquet"))
        measured = stage.metrics.input_bytes.sum if stage.metrics.input_bytes is not None else 0.0
        return files if files and measured < INPUT_MISSED_SHARE * files else None

    def vectored_parquet_reads(self) -> bool:
        """Whether Parquet read with vectored IO: Spark 4+ unless the application switched it off."""
        setting = (self.spark_properties.get(f"spark.hadoop.{VECTORED_IO_KEY}")
                   or self.hadoop_properties.get(VECTORED_IO_KEY))
        return self.release >= VECTORED_IO_SINCE and (setting or "true").strip().lower() != "false"


class LogRef(BaseModel):
    """One application's event log found on storage; `load_profile(ref.path)` reads it."""

    path: str  # local path or fsspec URL of the file or directory
    app_key: str  # application id (attempt included) as named on storage
    parts: list[str] = Field(default_factory=list)  # files in read order (URLs when `path` is one)
    codec: str = "none"
    total_bytes: int = 0
    incomplete: bool = False  # still being written (.inprogress) by its name or status marker
