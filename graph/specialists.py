"""The six specialists as data (name, focus, findings owned, tools, offline policy) and the one factory that builds their nodes.

With an LLM a specialist is a bounded tool-calling loop over its tools; offline it
runs its policy (the same tools in a fixed order). Either way, the policy steps the
model skipped still run, so a report never loses a finding because a model was lazy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from graph import prompts
from graph.adapters import ToolUnavailable
from graph.agent import tool_loop
from graph.config import GraphConfig
from graph.llm import LLMSession, LLMUnavailable
from graph.report import SpecialistRun
from graph.state import AppArtifacts, AppFinding, SpecialistInput
from graph.tools import Toolbox, app_overview
from tools.findings import Category

Step = tuple[str, dict[str, Any]]  # tool name, arguments ("{table}" is replaced by the table path)


@dataclass(frozen=True)
class Specialist:
    name: str
    focus: str
    categories: tuple[Category, ...]
    tools: tuple[str, ...]
    policy: tuple[Step, ...]


SPECIALISTS: tuple[Specialist, ...] = (
    Specialist(
        "metadata",
        "how the application is configured: Spark version, serializer, AQE, failures, UDFs, join strategy and joins "
        "that multiply rows, aggregations that copy rows (several DISTINCT counts, cube / rollup), risky settings",
        ("config", "aqe_disabled", "serializer", "task_failures", "python_udf", "broadcast_join_opportunity", "cartesian_join",
         "join_explosion", "aggregate_expansion"),
        ("app_overview", "spark_config", "sql_executions", "sql_plan", "diagnose", "search_docs"),
        (("app_overview", {}), ("spark_config", {}), ("diagnose", {"categories": "OWNED"})),
    ),
    Specialist(
        "partition",
        "partitioning and shuffle: too few or too many partitions, oversized partitions, spill, heavy shuffles, "
        "global sorts",
        ("too_few_partitions", "too_many_small_tasks", "oversized_partitions", "spill", "shuffle_heavy", "global_sort"),
        ("app_overview", "stage_details", "spark_config", "diagnose", "search_docs"),
        (("diagnose", {"categories": "OWNED"}),),
    ),
    Specialist(
        "skew",
        "data skew and stragglers: stages whose slowest tasks run far longer than the median",
        ("skew", "speculation"),
        ("app_overview", "stage_details", "diagnose", "search_docs"),
        (("diagnose", {"categories": "OWNED"}),),
    ),
    Specialist(
        "runtime",
        "where the wall time goes and how it scales: executor count what-if, GC, memory, driver-bound time, "
        "streaming queries that fall behind their input, caches nothing reused",
        ("gc_pressure", "memory_underprovisioned", "driver_bound", "executor_loss", "streaming", "caching"),
        ("app_overview", "stage_details", "executors", "cached_data", "diagnose", "what_if_executors", "predict_runtime"),
        (("diagnose", {"categories": "OWNED"}), ("what_if_executors", {})),
    ),
    Specialist(
        "delta",
        "how the data is read and written: table layout (small files, partitioning, clustering for data skipping, "
        "Delta table health) and schema inference passes over the input",
        ("small_files", "schema_inference", "data_skipping"),
        ("inspect_table", "diagnose_table", "diagnose", "search_docs"),
        (("diagnose", {"categories": "OWNED"}), ("inspect_table", {"path": "{table}"}), ("diagnose_table", {"path": "{table}"})),
    ),
    Specialist(
        "cost",
        "what the run cost and where money is wasted: idle executors, over-provisioned memory",
        ("idle_executors", "memory_overprovisioned"),
        ("app_overview", "executors", "app_cost", "diagnose", "what_if_executors"),
        (("app_cost", {}), ("diagnose", {"categories": "OWNED"})),
    ),
)

BY_NAME = {s.name: s for s in SPECIALISTS}


def owner_of(category: str) -> str:
    """The specialist that owns a finding category (metadata takes anything unclaimed)."""
    for spec in SPECIALISTS:
        if category in spec.categories:
            return spec.name
    return "metadata"


def make_specialist(
    spec: Specialist, config: GraphConfig, session: LLMSession, docs: bool = True
) -> Callable[[SpecialistInput], dict]:
    """Build the graph node for one specialist (`docs=False`: its model is not offered `search_docs`)."""

    def node(task: SpecialistInput) -> dict:
        categories = set(spec.categories) | set(task.get("extra_categories") or [])
        findings: list[AppFinding] = []
        artifacts: dict[str, AppArtifacts] = {}
        caveats: list[str] = []
        calls: list[str] = []
        notes: list[str] = []
        mode = "offline"
        table_summary = None
        for profile in task["profiles"]:
            toolbox = Toolbox(profile, config, task.get("table"))
            if session.available:
                try:
                    notes.append(_run_llm(spec, toolbox, task, config, session, docs))
                    mode = "llm"
                except LLMUnavailable:
                    pass
            caveats += _run_policy(spec, toolbox, task.get("table"), categories, skip_done=(mode == "llm"))
            rec = toolbox.recorded
            findings += [AppFinding(app_id=profile.app_id, specialist=spec.name, finding=f)
                         for f in [x for x in rec.findings if x.category in categories] + rec.table_findings]
            if rec.what_if or rec.cost:
                artifacts[profile.app_id] = AppArtifacts(app_id=profile.app_id, what_if=rec.what_if, cost=rec.cost)
            table_summary = rec.table_summary or table_summary
            calls += rec.calls
            prefix = f"{profile.app_id}: " if len(task["profiles"]) > 1 else ""
            caveats += [prefix + c for c in rec.caveats]
        run = SpecialistRun(name=spec.name, mode=mode, reason=task["reason"], tool_calls=calls,
                            note=" ".join(n for n in notes if n).strip(), findings=len(findings))
        update: dict[str, Any] = {"findings": findings, "artifacts": artifacts, "specialist_runs": [run], "caveats": caveats}
        if table_summary is not None:
            update["table_summary"] = table_summary
        return update

    node.__name__ = f"specialist_{spec.name}"
    return node


def _run_llm(spec: Specialist, toolbox: Toolbox, task: SpecialistInput, config: GraphConfig, session: LLMSession,
             docs: bool = True) -> str:
    """The specialist as a bounded tool-calling loop; returns its closing note."""
    tool_names = [t for t in spec.tools if (task.get("table") or t not in ("inspect_table", "diagnose_table"))
                  and (docs or t != "search_docs")]
    messages = [
        SystemMessage(prompts.specialist_system(spec.name, spec.focus, config.specialist_max_steps)),
        HumanMessage(prompts.specialist_task(app_overview(toolbox.profile).model_dump(mode="json", exclude_none=True),
                                             task["question"].text, task.get("table"))),
    ]
    new = tool_loop(session, messages, toolbox, tool_names, config.specialist_max_steps)
    answer = new[-1].content if new else ""
    return answer if isinstance(answer, str) else str(answer)


def _run_policy(spec: Specialist, toolbox: Toolbox, table: str | None, categories: set[str], skip_done: bool) -> list[str]:
    """Run the offline policy; with `skip_done`, steps whose tool the model already called are skipped
    (except `diagnose`, which always runs for the owned categories: it is cheap and decides completeness)."""
    caveats: list[str] = []
    done = {c.split("(", 1)[0] for c in toolbox.recorded.calls} if skip_done else set()
    for tool, args in spec.policy:
        if tool in done and tool != "diagnose":
            continue
        if any(v == "{table}" for v in args.values()) and not table:
            continue
        resolved = {k: (sorted(categories) if v == "OWNED" else table if v == "{table}" else v) for k, v in args.items()}
        try:
            getattr(toolbox, tool)(**resolved)
        except ToolUnavailable as exc:
            caveats.append(str(exc))
    return caveats
