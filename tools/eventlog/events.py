"""Typed views of the Spark listener events the engine reads (msgspec Structs).

Each Struct declares only the fields the profile needs, under the names Spark's
JsonProtocol writes. Every field has a default, so events from Spark 1.4 to 4.x
(which add, drop and rename fields) decode; unknown fields are skipped by msgspec.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Struct, field

Number = int | float
NAN = float("nan")  # "not measured": metric fields the log lacks decode to NaN, never to 0
# What decoding a damaged line raises (invalid UTF-8 inside a string is a UnicodeDecodeError).
DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)

# ---------------------------------------------------------------- task end (hot path)


# Every TaskMetrics field is a float, defaults too: `stages.task_block` reads them as fixed-size records.
# Fields are declared in the order Spark writes them: msgspec finds each next key at the expected position.
class ShuffleReadMetrics(Struct, gc=False):
    fetch_wait_ms: float = field(name="Fetch Wait Time", default=0.0)
    remote_bytes_read: float = field(name="Remote Bytes Read", default=0.0)
    local_bytes_read: float = field(name="Local Bytes Read", default=0.0)
    records_read: float = field(name="Total Records Read", default=NAN)


class ShuffleWriteMetrics(Struct, gc=False):
    bytes_written: float = field(name="Shuffle Bytes Written", default=0.0)
    write_time_ns: float = field(name="Shuffle Write Time", default=0.0)
    records_written: float = field(name="Shuffle Records Written", default=NAN)


class InputMetrics(Struct, gc=False):
    bytes_read: float = field(name="Bytes Read", default=0.0)
    records_read: float = field(name="Records Read", default=NAN)


class OutputMetrics(Struct, gc=False):
    bytes_written: float = field(name="Bytes Written", default=0.0)
    records_written: float = field(name="Records Written", default=NAN)


class TaskMetrics(Struct, gc=False):
    deserialize_ms: float = field(name="Executor Deserialize Time", default=NAN)
    run_ms: float = field(name="Executor Run Time", default=NAN)
    cpu_ns: float = field(name="Executor CPU Time", default=NAN)
    peak_execution_memory: float = field(name="Peak Execution Memory", default=NAN)
    result_size: float = field(name="Result Size", default=NAN)
    gc_ms: float = field(name="JVM GC Time", default=NAN)
    result_serialization_ms: float = field(name="Result Serialization Time", default=NAN)
    memory_spilled: float = field(name="Memory Bytes Spilled", default=NAN)
    disk_spilled: float = field(name="Disk Bytes Spilled", default=NAN)
    # Absent groups (older Spark) default to all-NaN instances, so attribute paths always resolve.
    shuffle_read: ShuffleReadMetrics = field(name="Shuffle Read Metrics", default_factory=lambda: ABSENT[ShuffleReadMetrics])
    shuffle_write: ShuffleWriteMetrics = field(name="Shuffle Write Metrics", default_factory=lambda: ABSENT[ShuffleWriteMetrics])
    input: InputMetrics = field(name="Input Metrics", default_factory=lambda: ABSENT[InputMetrics])
    output: OutputMetrics = field(name="Output Metrics", default_factory=lambda: ABSENT[OutputMetrics])


class TaskInfo(Struct, gc=False):
    launch_time: int = field(name="Launch Time", default=0)
    executor_id: str = field(name="Executor ID", default="")
    speculative: bool = field(name="Speculative", default=False)
    getting_result_time: int = field(name="Getting Result Time", default=0)
    finish_time: int = field(name="Finish Time", default=0)
    failed: bool = field(name="Failed", default=False)
    killed: bool = field(name="Killed", default=False)


class TaskEndReason(Struct, gc=False):
    reason: str = field(name="Reason", default="Success")
    class_name: str | None = field(name="Class Name", default=None)
    description: str | None = field(name="Description", default=None)
    kill_reason: str | None = field(name="Kill Reason", default=None)
    loss_reason: str | None = field(name="Loss Reason", default=None)


class ExecutorMetricsPeaks(Struct, gc=False):
    """Executor memory peaks (Spark 3+), on TaskEnd and in stage/heartbeat executor metrics."""

    jvm_heap: int = field(name="JVMHeapMemory", default=0)
    jvm_offheap: int = field(name="JVMOffHeapMemory", default=0)
    onheap_execution: int = field(name="OnHeapExecutionMemory", default=0)
    offheap_execution: int = field(name="OffHeapExecutionMemory", default=0)
    jvm_rss: int = field(name="ProcessTreeJVMRSSMemory", default=0)
    python_rss: int = field(name="ProcessTreePythonRSSMemory", default=0)


class TaskEnd(Struct, gc=False):
    stage_id: int = field(name="Stage ID", default=-1)
    stage_attempt_id: int = field(name="Stage Attempt ID", default=0)
    end_reason: TaskEndReason | None = field(name="Task End Reason", default=None)
    info: TaskInfo | None = field(name="Task Info", default=None)
    metrics: TaskMetrics | None = field(name="Task Metrics", default=None)
    # None when absent (before Spark 3): a default factory would cost a Python call per decoded task.
    executor_metrics: ExecutorMetricsPeaks | None = field(name="Task Executor Metrics", default=None)


def _absent(struct_type: type[Struct]) -> Struct:
    """An instance whose every field is NaN: 'not measured' for a metric group the log lacks."""
    return struct_type(**{name: NAN for name in struct_type.__struct_fields__})


# One shared, never-mutated instance per group (built once: the factories run per decoded task).
ABSENT = {t: _absent(t) for t in (ShuffleReadMetrics, ShuffleWriteMetrics, InputMetrics, OutputMetrics, ExecutorMetricsPeaks)}


# ---------------------------------------------------------------- stages and jobs


class Accumulable(Struct, gc=False):
    id: int = field(name="ID", default=-1)
    name: str | None = field(name="Name", default=None)
    value: Any = field(name="Value", default=None)


class RddInfo(Struct):
    rdd_id: int = field(name="RDD ID", default=-1)
    name: str = field(name="Name", default="")
    callsite: str = field(name="Callsite", default="")
    storage_level: dict[str, Any] | None = field(name="Storage Level", default=None)
    partitions: int = field(name="Number of Partitions", default=0)
    # Spark fills these three only while it tracks block updates (logs before 2.3); later logs write zeros
    cached_partitions: int = field(name="Number of Cached Partitions", default=0)
    memory_bytes: int = field(name="Memory Size", default=0)
    disk_bytes: int = field(name="Disk Size", default=0)


class UnpersistRdd(Struct):
    rdd_id: int = field(name="RDD ID", default=-1)


class StageInfo(Struct):
    stage_id: int = field(name="Stage ID", default=-1)
    attempt_id: int = field(name="Stage Attempt ID", default=0)
    name: str = field(name="Stage Name", default="")
    num_tasks: int = field(name="Number of Tasks", default=0)
    rdds: list[RddInfo] = field(name="RDD Info", default_factory=list)
    parent_ids: list[int] = field(name="Parent IDs", default_factory=list)
    details: str = field(name="Details", default="")
    submission_time: int | None = field(name="Submission Time", default=None)
    completion_time: int | None = field(name="Completion Time", default=None)
    failure_reason: str | None = field(name="Failure Reason", default=None)
    accumulables: list[Accumulable] = field(name="Accumulables", default_factory=list)


class StageEvent(Struct):
    """StageSubmitted and StageCompleted."""

    info: StageInfo | None = field(name="Stage Info", default=None)
    properties: dict[str, Any] | None = field(name="Properties", default=None)


class JobStart(Struct):
    job_id: int = field(name="Job ID", default=-1)
    submission_time: int | None = field(name="Submission Time", default=None)
    stage_infos: list[StageInfo] = field(name="Stage Infos", default_factory=list)
    stage_ids: list[int] = field(name="Stage IDs", default_factory=list)
    properties: dict[str, Any] | None = field(name="Properties", default=None)


class JobResult(Struct):
    result: str = field(name="Result", default="")
    exception: dict[str, Any] | None = field(name="Exception", default=None)


class JobEnd(Struct):
    job_id: int = field(name="Job ID", default=-1)
    completion_time: int | None = field(name="Completion Time", default=None)
    result: JobResult | None = field(name="Job Result", default=None)


# ---------------------------------------------------------------- application and executors


class LogStart(Struct):
    spark_version: str | None = field(name="Spark Version", default=None)


class ApplicationStart(Struct):
    app_name: str = field(name="App Name", default="")
    app_id: str | None = field(name="App ID", default=None)
    timestamp: int | None = field(name="Timestamp", default=None)
    user: str | None = field(name="User", default=None)
    attempt_id: str | None = field(name="App Attempt ID", default=None)


class ApplicationEnd(Struct):
    timestamp: int | None = field(name="Timestamp", default=None)


class EnvironmentUpdate(Struct):
    spark_properties: Any = field(name="Spark Properties", default=None)
    hadoop_properties: Any = field(name="Hadoop Properties", default=None)
    system_properties: Any = field(name="System Properties", default=None)


class ExecutorInfo(Struct):
    host: str = field(name="Host", default="")
    cores: int | None = field(name="Total Cores", default=None)
    resource_profile_id: int | None = field(name="Resource Profile Identifier", default=None)


class ExecutorAdded(Struct):
    timestamp: int | None = field(name="Timestamp", default=None)
    executor_id: str = field(name="Executor ID", default="")
    info: ExecutorInfo | None = field(name="Executor Info", default=None)


class ExecutorRemoved(Struct):
    timestamp: int | None = field(name="Timestamp", default=None)
    executor_id: str = field(name="Executor ID", default="")
    reason: str | None = field(name="Removed Reason", default=None)


class BlockManagerId(Struct):
    executor_id: str = field(name="Executor ID", default="")
    host: str = field(name="Host", default="")


class BlockManagerAdded(Struct):
    block_manager: BlockManagerId | None = field(name="Block Manager ID", default=None)
    max_memory: int | None = field(name="Maximum Memory", default=None)
    timestamp: int | None = field(name="Timestamp", default=None)


class StageExecutorMetrics(Struct):
    executor_id: str = field(name="Executor ID", default="")
    metrics: ExecutorMetricsPeaks | None = field(name="Executor Metrics", default=None)


class StageMetricsUpdate(Struct):
    metrics: ExecutorMetricsPeaks | None = field(name="Executor Metrics", default=None)


class ExecutorMetricsUpdate(Struct):
    executor_id: str = field(name="Executor ID", default="")
    stage_metrics: list[StageMetricsUpdate] = field(name="Executor Metrics Updated", default_factory=list)


# ---------------------------------------------------------------- SQL and streaming


class PlanMetric(Struct):
    name: str = ""
    accumulator_id: int = field(name="accumulatorId", default=-1)
    metric_type: str = field(name="metricType", default="")


class SparkPlanInfo(Struct):
    node_name: str = field(name="nodeName", default="")
    simple_string: str = field(name="simpleString", default="")
    children: list[SparkPlanInfo] = field(default_factory=list)
    metrics: list[PlanMetric] = field(default_factory=list)


class SqlExecutionStart(Struct):
    execution_id: int = field(name="executionId", default=-1)
    description: str = ""
    details: str = ""
    physical_plan: str = field(name="physicalPlanDescription", default="")
    plan_info: SparkPlanInfo | None = field(name="sparkPlanInfo", default=None)
    time: int | None = None


class SqlAdaptiveExecutionUpdate(Struct):
    execution_id: int = field(name="executionId", default=-1)
    physical_plan: str = field(name="physicalPlanDescription", default="")
    plan_info: SparkPlanInfo | None = field(name="sparkPlanInfo", default=None)


class SqlAdaptiveMetricUpdates(Struct):
    execution_id: int = field(name="executionId", default=-1)
    metrics: list[PlanMetric] = field(name="sqlPlanMetrics", default_factory=list)


class SqlExecutionEnd(Struct):
    execution_id: int = field(name="executionId", default=-1)
    time: int | None = None
    error: str | None = field(name="errorMessage", default=None)


class DriverAccumUpdates(Struct):
    execution_id: int = field(name="executionId", default=-1)
    updates: list[list[Any]] = field(name="accumUpdates", default_factory=list)


class StateOperatorProgress(Struct):
    rows_total: int = field(name="numRowsTotal", default=0)
    memory_used_bytes: int = field(name="memoryUsedBytes", default=0)


class SourceProgress(Struct):
    description: str = ""
    num_input_rows: int = field(name="numInputRows", default=0)
    input_rows_per_second: Number | None = field(name="inputRowsPerSecond", default=None)
    processed_rows_per_second: Number | None = field(name="processedRowsPerSecond", default=None)


class SinkProgress(Struct):
    description: str = ""


class QueryProgress(Struct):
    id: str = ""
    name: str | None = None
    timestamp: str | None = None
    batch_id: int = field(name="batchId", default=-1)
    num_input_rows: int | None = field(name="numInputRows", default=None)
    input_rows_per_second: Number | None = field(name="inputRowsPerSecond", default=None)
    processed_rows_per_second: Number | None = field(name="processedRowsPerSecond", default=None)
    duration_ms: dict[str, Number] | None = field(name="durationMs", default=None)
    state_operators: list[StateOperatorProgress] = field(name="stateOperators", default_factory=list)
    sources: list[SourceProgress] = field(default_factory=list)
    sink: SinkProgress | None = None


class QueryProgressEvent(Struct):
    progress: QueryProgress | None = None


class QueryTerminatedEvent(Struct):
    id: str = ""
    exception: str | None = None  # the error the query failed with; null when it was stopped


class EventName(Struct):
    """Fallback for lines that do not start with `{"Event":"` (re-serialized logs)."""

    event: str = field(name="Event", default="")


def decoder(struct_type: type) -> msgspec.json.Decoder:
    return msgspec.json.Decoder(struct_type)
