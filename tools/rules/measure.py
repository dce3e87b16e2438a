"""Small measurements and formatting shared by the rules (ratios, byte sizes, plan-node lookups)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tools.eventlog.model import AppProfile, PlanNode, Quantiles, SqlExecution, StageProfile, base_operator
from tools.findings import Evidence
from tools.units import count, one_line

EXPRESSION_ID = re.compile(r"#\d+L?\b")  # `value#1L`, `pythonUDF0#7`: ids Spark renumbers per plan
# the files a scan reads, in its description or the plan text: 'Location: InMemoryFileIndex(1 paths)[s3://b/t]'
SCAN_LOCATION = re.compile(r"Location: \w+(?:\(\d+ paths?\))?\s*\[([^\]\n]*)\]")
_READ_SCHEMA = "ReadSchema: struct<"
MiB = 1024 * 1024
GIB = 1024 * MiB

# Call sites that name the Py4J bridge instead of the user's code (PySpark)
PY4J_BRIDGE = ("NativeMethodAccessorImpl", "DirectMethodHandleAccessor", "GeneratedMethodAccessor")


def spark_size(value: float) -> str:
    """A byte count as a Spark size string, rounded up to whole MiB ('12m' style keys accept '12MB')."""
    mib = max(1, int(-(-value // MiB)))
    return f"{mib}MB"


def call_site(description: str) -> str:
    """A Spark call site ('save at etl.py:41') as written, or only its method ('save') where PySpark logged its Py4J
    bridge instead of the user's code."""
    if any(bridge in description for bridge in PY4J_BRIDGE):
        return description.split(" at ")[0]
    return description


def action_label(execution_id: int, description: str) -> str:
    """'SQL 2 (save at etl.py:41)', or 'SQL 2 (save)' where PySpark logged its Py4J bridge as the call site."""
    description = call_site(description)
    return f"SQL {execution_id} ({one_line(description, 60)})" if description else f"SQL {execution_id}"


PARTITION_FILTERS = re.compile(r"PartitionFilters: \[([^\]]*)\]")  # a file scan's partition filters, as listed


def descend(children: dict[int, list[PlanNode]], node: PlanNode, through: tuple[str, ...]) -> PlanNode:
    """The first node at or below `node`, down a chain of only children, whose name is not one of `through` (or an
    operator of `through` with other than one child): what such operators pass on, e.g. the scan under a filter."""
    while node.name.startswith(through) and len(children.get(node.node_id, [])) == 1:
        node = children[node.node_id][0]
    return node


def stages_running_only(execution: SqlExecution, inside: set[int]) -> list[int]:
    """The execution's stages that ran nothing but the plan nodes `inside` (every node listing the stage is one)."""
    listed: dict[int, set[int]] = {}
    for node in execution.nodes:
        for stage_id in node.stage_ids:
            listed.setdefault(stage_id, set()).add(node.node_id)
    return sorted(s for s, ids in listed.items() if ids <= inside)


def runs_label(executions: list[SqlExecution], shown: int = 5) -> str:
    """'8 runs, SQL 1 to 8 (collect at etl.py:12)' when every run has one call site, else the first few action
    labels."""
    sites = {call_site(x.description) for x in executions}
    if len(sites) == 1:
        first, last = executions[0].execution_id, executions[-1].execution_id
        span = f"SQL {first} to {last}" if last - first + 1 == len(executions) else f"between SQL {first} and {last}"
        return f"{count(len(executions), 'run')}, {span} ({one_line(sites.pop(), 60)})"
    return "; ".join(action_label(x.execution_id, x.description) for x in executions[:shown])


def cached_subtree(execution: SqlExecution) -> set[int]:
    """Ids of the nodes below an InMemoryTableScan: the plan of the cached data, which Spark shows under every query
    that reads the cache, with the metrics of the run that built it."""
    return {n.node_id for scan in execution.nodes if scan.name.startswith("InMemoryTableScan")
            for n in execution.below(scan)}


def max_to_median(q: Quantiles | None) -> float | None:
    """max / median of a distribution (a zero median counts as 1 unit); None when absent, empty or all zero."""
    if q is None or q.count == 0 or q.max <= 0:
        return None
    return q.max / max(q.median, 1.0)


def run_time_ms(stage: StageProfile) -> float | None:
    """Summed executor run time of a stage's successful tasks (falls back to task durations)."""
    q = stage.metrics.executor_run_time_ms or stage.metrics.duration_ms
    return q.sum if q is not None else None


def task_time_ms(stages: list[StageProfile]) -> float:
    """The stages' summed executor run time (stages without the metric count nothing)."""
    return sum(run_time_ms(stage) or 0.0 for stage in stages)


def processed_bytes(profile: AppProfile, stage: StageProfile) -> float | None:
    """Bytes a stage consumed: input (`AppProfile.input_bytes`) plus shuffle read; None when neither was measured."""
    shuffled = stage.metrics.shuffle_read_bytes.sum if stage.metrics.shuffle_read_bytes is not None else None
    parts = [x for x in (profile.input_bytes(stage), shuffled) if x is not None]
    return sum(parts) if parts else None


def missed_input(profile: AppProfile, stages: list[StageProfile]) -> list[Evidence]:
    """The tasks' input metric as evidence where `AppProfile.input_bytes` took the Parquet files' size instead (the
    metric missed Parquet's vectored reads); empty where it did not."""
    missed = [s for s in stages if profile.missed_parquet_bytes(s) is not None]
    if not missed:
        return []
    logged = sum(s.metrics.input_bytes.sum for s in missed if s.metrics.input_bytes is not None)
    return [ev("task input metric, which misses Parquet's vectored reads (the files' size is used)", logged, "bytes",
               stage_id=missed[0].stage_id if len(missed) == 1 else None)]


def reading_stages(exchange: PlanNode) -> list[int]:
    """The stages that read what an exchange wrote: of the stages that updated its metrics, all but the first, which
    wrote it (Spark numbers a stage's parents before it)."""
    return exchange.stage_ids[1:]


def nodes(execution: SqlExecution, *prefixes: str) -> Iterator[PlanNode]:
    """Plan nodes whose operator name starts with one of `prefixes`."""
    for node in execution.nodes:
        if node.name.startswith(prefixes):
            yield node


def operator_name(node: PlanNode) -> str:
    """The operator's name without AQE's marker (see `base_operator`)."""
    return base_operator(node.name)


def reads_shuffle(stage: StageProfile) -> bool:
    """The stage's tasks read shuffle data (it runs after an exchange)."""
    return stage.metrics.shuffle_read_bytes is not None and stage.metrics.shuffle_read_bytes.sum > 0


def writes_shuffle(stage: StageProfile) -> bool:
    """The stage's tasks wrote shuffle data (it feeds an exchange)."""
    return stage.metrics.shuffle_write_bytes is not None and stage.metrics.shuffle_write_bytes.sum > 0


def metric(node: PlanNode, *names: str) -> float | None:
    """The first of `names` present among the node's SQL metrics."""
    for name in names:
        if name in node.metrics:
            return node.metrics[name]
    return None


def ev(name: str, value: float | str, unit: str = "", threshold: float | str | None = None, stage_id: int | None = None) -> Evidence:
    """Shorthand for an Evidence row (floats rounded to keep reports readable)."""
    if isinstance(value, float):
        value = round(value, 4)
    if isinstance(threshold, float):
        threshold = round(threshold, 4)
    return Evidence(name=name, value=value, unit=unit, threshold=threshold, stage_id=stage_id)


def read_schema(scan: PlanNode) -> list[str] | None:
    """The top-level column names a file scan's ReadSchema lists ('struct<a:bigint,b:struct<c:int>>' -> a, b): the
    data columns it read, partition columns left out; None when the description has none or is cut inside it."""
    start = scan.description.find(_READ_SCHEMA)
    if start < 0:
        return None
    names, depth, field = [], 1, ""
    for char in scan.description[start + len(_READ_SCHEMA):]:
        depth += (char == "<") - (char == ">")
        if depth == 0 or (char == "," and depth == 1):
            names.append(field.split(":", 1)[0].strip("` "))
            field = ""
            if depth == 0:
                return [name for name in names if name]
        else:
            field += char
    return None
