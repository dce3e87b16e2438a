"""One SQL execution as a reader wants it: what it ran, for how long, in which stages, and its operators' figures.

The plan nodes in the profile are in pre-order with the final values of their SQL metrics. `sql_plan`
keeps the operators that do work (the wrappers AQE and whole-stage codegen add are folded into
their child), each with its depth in the tree and the metrics worth reading; `plan_lines` renders
that tree for the chat. Secrets are scrubbed here: descriptions and plan text come from user code.
"""

from __future__ import annotations

import re
from collections import Counter

from pydantic import BaseModel, Field

from graph import units
from tools.eventlog.model import PLAN_WRAPPERS, AppProfile, PlanNode, SqlExecution, executions_with_jobs
from tools.redact import redact_text
from tools.rules.measure import EXPRESSION_ID, SCAN_LOCATION
from tools.units import one_line

# SQL metrics worth showing, in the order shown, with their unit (Spark logs sizes in bytes, these timings in ms).
SHOWN_METRICS = (
    ("number of output rows", "rows"), ("shuffle records written", "records written"), ("data size", "bytes"),
    ("size of files read", "bytes"), ("number of files read", "files"), ("number of partitions", "partitions"),
    ("spill size", "bytes"), ("peak memory", "bytes"), ("time in aggregation build", "ms"), ("sort time", "ms"),
    ("build time", "ms"), ("time to broadcast", "ms"), ("time to execute Python code", "ms"),
    ("time to run Python workers", "ms"),
)
_UNITS = dict(SHOWN_METRICS)
_PLAN_ID = re.compile(r",?\s*\[(?:plan_id=\d+|id=#\d+)\]")  # an exchange's id in the plan: '[plan_id=78]', '[id=#12]'
PLAN_TEXT_LINES = 40
OPERATORS_SHOWN = 40


class PlanOperator(BaseModel):
    depth: int  # 0 for the root operator
    name: str
    detail: str = ""  # the operator's one-line description, shortened
    metrics: dict[str, float] = Field(default_factory=dict)  # the SHOWN_METRICS it has
    stage_ids: list[int] = Field(default_factory=list)  # the stages it ran in (an exchange: writer and reader)


class SqlPlan(BaseModel):
    execution_id: int
    description: str = ""
    duration_ms: int | None = None
    job_ids: list[int] = Field(default_factory=list)
    stage_ids: list[int] = Field(default_factory=list)
    operators: list[PlanOperator] = Field(default_factory=list)
    plan_text: str = ""  # the physical plan's tree, as Spark printed it (first PLAN_TEXT_LINES lines)
    error: str | None = None


def query_executions(profile: AppProfile) -> list[SqlExecution]:
    """The SQL executions that ran Spark jobs (all of them when none did), longest first: commands that run no job
    (temp views, DDL) and the job-less parents of nested executions say nothing about where time went."""
    return sorted(executions_with_jobs(profile.sql_executions), key=lambda x: x.duration_ms or 0, reverse=True)


def sql_plan(profile: AppProfile, execution_id: int) -> SqlPlan | None:
    execution = profile.sql_execution(execution_id)
    if execution is None:
        return None
    jobs = set(execution.job_ids)
    stage_ids = sorted({s for job in profile.jobs if job.job_id in jobs for s in job.stage_ids})
    return SqlPlan(
        execution_id=execution_id, description=redact_text(one_line(execution.description, 160)),
        duration_ms=execution.duration_ms, job_ids=execution.job_ids, stage_ids=stage_ids,
        operators=operators(execution.nodes), plan_text=redact_text(plan_tree(execution.physical_plan)),
        error=redact_text(execution.error[:160]) if execution.error else None)


def operators(nodes: list[PlanNode]) -> list[PlanOperator]:
    """The plan's working operators in pre-order, each at its depth once the wrappers are folded away."""
    depth_of: dict[int | None, int] = {None: -1}
    out: list[PlanOperator] = []
    for node in nodes:
        parent_depth = depth_of.get(node.parent_id, -1)
        if node.name.startswith(PLAN_WRAPPERS):
            depth_of[node.node_id] = parent_depth
            continue
        depth_of[node.node_id] = parent_depth + 1
        detail = readable(node.description) if node.description != node.name else ""
        out.append(PlanOperator(
            depth=parent_depth + 1, name=node.name, detail=redact_text(one_line(detail, 70)),
            metrics={name: node.metrics[name] for name, _ in SHOWN_METRICS if node.metrics.get(name)},
            stage_ids=node.stage_ids))
    return out


def stage_operators(profile: AppProfile, stage_id: int) -> list[PlanOperator]:
    """The working operators that ran in one stage only, with their figures, in the order the data flows through
    them (an exchange, written in one stage and read in the next, is left out: its figures span both)."""
    return [op for op in reversed(operators(profile.stage_nodes(stage_id))) if op.stage_ids == [stage_id] and op.metrics]


def operator_figures(ops: list[PlanOperator]) -> str:
    """'SortMergeJoin: 48,600,000 rows; HashAggregate: 592 rows, time in aggregation build 49.5 s'."""
    return "; ".join(f"{op.name}: " + ", ".join(metric_text(name, value) for name, value in op.metrics.items())
                     for op in ops)


def readable(description: str) -> str:
    """An operator's description without the ids Spark numbers per plan: 'SortMergeJoin [k], [k], Inner' for
    'SortMergeJoin [k#1L], [k#4L], Inner', 'Exchange hashpartitioning(k, 16), ENSURE_REQUIREMENTS' without its
    '[plan_id=78]'."""
    return EXPRESSION_ID.sub("", _PLAN_ID.sub("", description))


def plan_tree(physical_plan: str) -> str:
    """The tree at the head of Spark's formatted plan (up to the first blank line), at most PLAN_TEXT_LINES lines.

    With AQE the tree holds the final plan and then the initial one; only the final plan ran."""
    tree = physical_plan.strip().split("\n\n", 1)[0].splitlines()
    initial = next((i for i, line in enumerate(tree) if "== Initial Plan ==" in line), None)
    if initial is not None:
        tree = tree[:initial]
    more = len(tree) - PLAN_TEXT_LINES
    return "\n".join(tree[:PLAN_TEXT_LINES] + ([f"... ({more} more lines)"] if more > 0 else []))


def metric_text(name: str, value: float) -> str:
    unit = _UNITS.get(name, "")
    if unit == "bytes":
        return f"{name} {units.size(value)}"
    if unit == "ms":
        return f"{name} {units.duration(value)}"
    return f"{units.number(value)} {unit}"


def plan_lines(plan: SqlPlan) -> list[str]:
    """'SortMergeJoin [k#1L], [k#4L], Inner: 48,600,000 rows [stage 4]', indented by depth."""
    lines = []
    for op in plan.operators[:OPERATORS_SHOWN]:
        figures = ", ".join(metric_text(name, value) for name, value in op.metrics.items())
        label = op.detail if _names_itself(op) else f"{op.name} {op.detail}".strip()
        ran = f" [{id_ranges(op.stage_ids, 'stage')}]" if op.stage_ids else ""
        lines.append("  " * op.depth + label + (f": {figures}" if figures else "") + ran)
    if len(plan.operators) > OPERATORS_SHOWN:
        lines.append(f"... ({len(plan.operators) - OPERATORS_SHOWN} more operators)")
    return lines


def id_ranges(ids: list[int], noun: str = "") -> str:
    """'0-3, 7': consecutive ids as ranges; with a noun, 'stage 3' or 'stages 0-3, 7'."""
    out: list[tuple[int, int]] = []
    for i in sorted(set(ids)):
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in out)
    return f"{noun}{'s' if len(set(ids)) > 1 else ''} {text}" if noun else text


def _names_itself(op: PlanOperator) -> bool:
    """Whether the description already starts with the operator ('Sort [k#1L ...]', 'FileScan csv ...' for 'Scan csv')."""
    first, detail_first = op.name.split(" ", 1)[0], op.detail.split(" ", 1)[0]
    return bool(op.detail) and (op.detail.startswith(op.name) or detail_first.endswith(first))


def scans(profile: AppProfile) -> list[tuple[int, list[str], list[str]]]:
    """Per query execution (by id): its scan operators with files, bytes and rows read, and the locations its plan names."""
    out = []
    for execution in sorted(query_executions(profile), key=lambda x: x.execution_id):
        counted = Counter(_scan_text(node) for node in execution.nodes if "Scan" in node.name)
        found = [text + (f" x{n}" if n > 1 else "") for text, n in counted.items()]
        locations = list(dict.fromkeys(redact_text(m) for m in SCAN_LOCATION.findall(execution.physical_plan)))
        out.append((execution.execution_id, found, locations))
    return out


def _scan_text(node: PlanNode) -> str:
    m = node.metrics
    files = m.get("number of files read", m.get("number of files"))
    size = m.get("size of files read")
    rows = m.get("number of output rows", m.get("output rows"))
    figures = ([units.count(int(files), "file")] if files is not None else []) + (
        [f"{units.size(size)} of files"] if size is not None else []) + ([f"{units.number(rows)} rows"] if rows is not None else [])
    return redact_text(one_line(node.name, 80)) + (f" ({', '.join(figures)})" if figures else "")
