"""Structured-streaming advice from the query progress in an event log, and Kafka topic partition counts.

From `AppProfile.streaming` (input vs processing rate, batch duration vs trigger, state
size) it recommends `maxOffsetsPerTrigger`, `minPartitions` and the trigger interval.
With a bootstrap server, it asks the Kafka cluster how many partitions each subscribed
topic has (the upper bound of a Kafka source's read parallelism without `minPartitions`).
"""

from __future__ import annotations

import math
import re

from pydantic import BaseModel, Field

from tools.errors import ConfigurationError
from tools.eventlog.master import local_master
from tools.eventlog.model import AppProfile, StreamingProgress
from tools.findings import ConfigChange, Evidence, Finding, Severity, advice_finding
from tools.rules.thresholds import RuleThresholds
from tools.units import human_size

ROCKSDB_PROVIDER = "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider"
_SUBSCRIBE = re.compile(r"Subscribe\[([^\]]*)\]")
_ASSIGN_TOPIC = re.compile(r"([\w.\-]+)-\d+")
KAFKA_TIMEOUT_MS = 10_000


class StreamingThresholds(BaseModel):
    # processed / input rows per second below this = falling behind
    falling_behind_ratio: float = RuleThresholds().streaming_falling_behind_ratio
    min_batches: int = RuleThresholds().streaming_min_batches
    state_memory_bytes: int = int(RuleThresholds().streaming_state_memory_bytes)  # above this, prefer RocksDB
    # median batch duration / time between batch starts at or above this = no idle time (None: not judged; with
    # the default trigger, batches run back to back by design)
    busy_ratio: float | None = 0.9
    headroom: float = 0.8  # size batches to this fraction of what the query can process

    @classmethod
    def from_rules(cls, rules: RuleThresholds, busy_ratio: float | None = 0.9) -> StreamingThresholds:
        """The streaming thresholds the user set for the rules (`COPILOT_RULES__STREAMING_*`), one source for both."""
        return cls(falling_behind_ratio=rules.streaming_falling_behind_ratio, min_batches=rules.streaming_min_batches,
                   state_memory_bytes=int(rules.streaming_state_memory_bytes), busy_ratio=busy_ratio)


class StreamingAdvice(BaseModel):
    query_id: str
    name: str | None = None
    batches: int
    input_rows_per_second: float | None
    processed_rows_per_second: float | None
    batch_duration_ms_median: float | None
    trigger_interval_ms: float | None
    state_memory_bytes_max: int | None
    kafka_topics: list[str] = Field(default_factory=list)
    topic_partitions: dict[str, int] = Field(default_factory=dict)  # filled when a bootstrap server was given
    total_cores: int | None = None
    findings: list[Finding] = Field(default_factory=list)


def kafka_topics(sources: list[str]) -> list[str]:
    """Topics named by Kafka source descriptions (`KafkaV2[Subscribe[a,b]]`, `Assign[t-0, t-1]`)."""
    topics: list[str] = []
    for description in sources:
        if "kafka" not in description.lower():
            continue
        for match in _SUBSCRIBE.finditer(description):
            topics.extend(t.strip() for t in match.group(1).split(",") if t.strip())
        if "Assign[" in description:
            topics.extend(_ASSIGN_TOPIC.findall(description.split("Assign[", 1)[1]))
    return list(dict.fromkeys(topics))


def topic_partition_counts(bootstrap_servers: str, topics: list[str], timeout_ms: int = KAFKA_TIMEOUT_MS) -> dict[str, int]:
    """Partition count of each topic, asked of the Kafka cluster at `bootstrap_servers` (kafka-python)."""
    from kafka import KafkaConsumer
    from kafka.errors import KafkaError

    try:
        consumer = KafkaConsumer(
            bootstrap_servers=[s.strip() for s in bootstrap_servers.split(",") if s.strip()],
            request_timeout_ms=timeout_ms + 1,
            api_version_auto_timeout_ms=timeout_ms,
            enable_auto_commit=False,
        )
    except (KafkaError, ValueError, OSError) as exc:
        raise ConfigurationError(f"cannot reach Kafka at {bootstrap_servers}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
    try:
        counts = {}
        for topic in topics:
            partitions = consumer.partitions_for_topic(topic)
            if partitions:
                counts[topic] = len(partitions)
        return counts
    finally:
        consumer.close()


def total_cores(profile: AppProfile) -> int | None:
    cores = sum(e.cores or 0 for e in profile.executors if e.removed_time_ms is None) or sum(e.cores or 0 for e in profile.executors)
    if cores:
        return cores
    local = local_master(profile.master)
    return local.total_cores if local is not None else None


def advise_streaming(
    profile: AppProfile,
    bootstrap_servers: str | None = None,
    thresholds: StreamingThresholds | None = None,
) -> list[StreamingAdvice]:
    """One `StreamingAdvice` per streaming query in `profile`, each with its findings."""
    thresholds = thresholds or StreamingThresholds()
    cores = total_cores(profile)
    advice = []
    for query in profile.streaming:
        topics = kafka_topics(query.sources)
        partitions = topic_partition_counts(bootstrap_servers, topics) if bootstrap_servers and topics else {}
        findings = [
            failed_query(query),
            falling_behind(query, thresholds, cores, partitions),
            large_state(query, profile, thresholds),
            _kafka_parallelism(query, cores, partitions),
        ]
        advice.append(
            StreamingAdvice(
                query_id=query.query_id,
                name=query.name,
                batches=query.batches,
                input_rows_per_second=query.input_rows_per_second_mean,
                processed_rows_per_second=query.processed_rows_per_second_mean,
                batch_duration_ms_median=query.batch_duration_ms_median,
                trigger_interval_ms=query.trigger_interval_ms,
                state_memory_bytes_max=query.state_memory_bytes_max,
                kafka_topics=topics,
                topic_partitions=partitions,
                total_cores=cores,
                findings=[f for f in findings if f is not None],
            )
        )
    return advice


def _label(query: StreamingProgress) -> str:
    return query.name or query.query_id[:8]


def falling_behind(query: StreamingProgress, t: StreamingThresholds, cores: int | None, partitions: dict[str, int]) -> Finding | None:
    """Behind = processing slower than arrival, or batches running back to back (no idle time between them).

    What bounds a batch (`maxOffsetsPerTrigger` for Kafka, `maxFilesPerTrigger` for files, `minPartitions`) is
    an option of the query's source, so it is given as code on `readStream`, not as a Spark setting."""
    incoming, processed = query.input_rows_per_second_mean, query.processed_rows_per_second_mean
    batch, interval = query.batch_duration_ms_median, query.trigger_interval_ms
    if query.batches < t.min_batches:
        return None
    slower = bool(incoming) and processed is not None and processed < incoming * t.falling_behind_ratio
    busy = t.busy_ratio is not None and bool(batch and interval) and batch >= interval * t.busy_ratio
    if not (slower or busy):
        return None
    trigger_s = max(1, math.ceil((batch or interval or 1000) * 1.25 / 1000))
    evidence = [
        Evidence(name="median batch duration", value=batch or 0, unit="ms",
                 threshold=round((interval or 0) * t.busy_ratio) if interval and t.busy_ratio is not None else None),
        Evidence(name="median time between batch starts", value=interval or 0, unit="ms"),
        Evidence(name="batches", value=query.batches, unit="count"),
    ]
    if query.batch_duration_ms_max is not None:
        evidence.append(Evidence(name="longest batch", value=query.batch_duration_ms_max, unit="ms"))
    if incoming is not None:
        evidence.append(Evidence(name="input rows per second (mean)", value=round(incoming, 2), unit="rows/s"))
    if processed is not None:
        evidence.append(Evidence(name="processed rows per second (mean)", value=round(processed, 2), unit="rows/s", threshold=round(incoming * t.falling_behind_ratio, 2) if incoming else None))
    is_kafka = bool(kafka_topics(query.sources))
    is_files = any("FileStreamSource" in s or "FileSource" in s for s in query.sources)
    options = []
    if processed and is_kafka:
        options.append(f'.option("maxOffsetsPerTrigger", "{max(1, int(processed * trigger_s * t.headroom))}")')
    if cores and partitions and sum(partitions.values()) < cores:
        options.append(f'.option("minPartitions", "{cores}")')
    trigger = f'.trigger(processingTime="{trigger_s} seconds")'
    code = trigger + (f' on writeStream; {" ".join(options)} on the Kafka readStream' if options else "")
    bound = ("maxOffsetsPerTrigger" if is_kafka else "maxFilesPerTrigger" if is_files
             else "maxOffsetsPerTrigger / maxFilesPerTrigger")
    if slower:
        title = f"Query {_label(query)} processes {processed:,.0f} rows/s but receives {incoming:,.0f} rows/s: its backlog grows"
        summary = (f"Each micro-batch reads what arrived while the one before it ran, so with {processed:,.0f} rows/s "
                   f"processed of {incoming:,.0f} arriving every batch starts further behind. Make the batches cheaper "
                   f"(see the findings on its stages) or add processing capacity (more executor cores"
                   f"{', minPartitions above the topic partition count' if is_kafka else ''}); meanwhile a trigger of "
                   f"about {trigger_s} s and a {bound} bound on the source keep each batch's latency predictable.")
    else:
        title = (f"Query {_label(query)} runs batches back to back ({(batch or 0) / 1000:.1f} s each, every "
                 f"{(interval or 0) / 1000:.1f} s): it has no headroom and any burst becomes backlog")
        summary = (f"Set a trigger of about {trigger_s} s and bound each batch to what the query processes in it "
                   f"({bound}, with {int(t.headroom * 100)}% headroom), then add processing capacity (more executor "
                   f"cores{', minPartitions above the topic partition count' if is_kafka else ''}) to catch up.")
    return advice_finding(
        rule_id="streaming_falling_behind",
        category="streaming",
        severity=Severity.severe if slower and processed is not None and incoming and processed < incoming * 0.5 else Severity.moderate,
        title=title,
        evidence=evidence,
        summary=summary,
        code_change=code,
        savings_method="latency, not cost: keeps batches within the trigger",
        doc_query="structured streaming falling behind input rate processed rate trigger maxOffsetsPerTrigger backlog",
    )


def failed_query(query: StreamingProgress) -> Finding | None:
    """A query whose log ends with the error it stopped on: nothing is written until it is fixed and restarted."""
    if not query.exception:
        return None
    return advice_finding(
        rule_id="streaming_query_failed",
        category="streaming",
        severity=Severity.severe,
        title=f"Query {_label(query)} stopped with an error after {query.batches} micro-batch"
              + ("" if query.batches == 1 else "es"),
        evidence=[
            Evidence(name="error", value=query.exception),
            Evidence(name="micro-batches completed", value=query.batches, unit="count"),
        ],
        summary="Fix the error the query stopped with, then restart it with the same checkpoint location: it resumes "
                "after the last committed micro-batch (no input skipped with a replayable source; a sink that is not "
                "idempotent may see the failed batch's rows again).",
        code_change='.option("checkpointLocation", "<the same path>").start() once the error is fixed (a job retry policy '
                    'restarts it the same way)',
        savings_method="availability: the query writes nothing while it is down",
        doc_query="streaming query stopped with an error: what to do, restart with the same checkpoint location",
    )


def large_state(query: StreamingProgress, profile: AppProfile, t: StreamingThresholds) -> Finding | None:
    state = query.state_memory_bytes_max
    provider = profile.property("spark.sql.streaming.stateStore.providerClass") or ""
    if not state or state < t.state_memory_bytes or "RocksDB" in provider:
        return None
    return advice_finding(
        rule_id="streaming_large_state",
        category="memory_underprovisioned",
        severity=Severity.moderate,
        title=f"Query {_label(query)} keeps {human_size(state)} of state in executor memory",
        evidence=[
            Evidence(name="state memory (max)", value=state, unit="bytes", threshold=t.state_memory_bytes),
            Evidence(name="state rows (max)", value=query.state_rows_max or 0, unit="rows"),
        ],
        summary="Keep large state in RocksDB instead of the JVM heap, and bound it with a watermark on the stateful operator.",
        config_changes=[ConfigChange(key="spark.sql.streaming.stateStore.providerClass", value=ROCKSDB_PROVIDER, current=provider or None)],
        code_change='.withWatermark("event_time", "1 hour")',
        savings_method="stability: less GC and no executor OOM",
        doc_query="RocksDB state store provider streaming state watermark",
    )


def _kafka_parallelism(query: StreamingProgress, cores: int | None, partitions: dict[str, int]) -> Finding | None:
    if not partitions or not cores:
        return None
    total = sum(partitions.values())
    if total >= cores:
        return None
    return advice_finding(
        rule_id="streaming_kafka_partitions_few",
        category="too_few_partitions",
        severity=Severity.low,
        title=f"Query {_label(query)} reads {total} Kafka partitions with {cores} cores: {cores - total} cores idle while reading",
        evidence=[
            Evidence(name="topic partitions", value=total, unit="count", threshold=cores),
            Evidence(name="executor cores", value=cores, unit="count"),
            *[Evidence(name=f"partitions of {topic}", value=count, unit="count") for topic, count in partitions.items()],
        ],
        summary="Let Spark split Kafka partitions into more read tasks with minPartitions (or add topic partitions).",
        code_change=f'.option("minPartitions", "{cores}") on the Kafka readStream',
        savings_method="latency: uses the idle cores while reading",
        doc_query="Kafka source minPartitions structured streaming parallelism",
    )
