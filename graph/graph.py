"""The analysis StateGraph: intake -> route -> specialists in parallel (Send) -> rank -> retrieve -> synthesize -> verify.

Two depths share intake, route, the specialists and rank:
- `full`: knowledge retrieval (citations), the narrative (LLM or template) and its verification;
- `findings`: the deterministic template report straight after rank, with no citations; it never
  opens the knowledge index or loads the embedding model (what a batch over a fleet needs).

The graphs are compiled once per process and depth; each run's configuration and LLM session
reach the nodes through the run's `configurable` (so concurrent runs never share state).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from graph.config import GraphConfig
from graph.llm import LLMSession, Notice, make_chat_model
from graph.nodes import Nodes, parse_question
from graph.report import Report
from graph.specialists import SPECIALISTS, make_specialist
from graph.state import AnalysisState
from tools.eventlog.model import AppProfile

Depth = Literal["full", "findings"]
DEPTHS: tuple[str, ...] = ("full", "findings")
RUN_KEY = "copilot_run"


@dataclass
class Run:
    """One analysis run's node implementations, closed over its configuration and LLM session."""

    config: GraphConfig
    session: LLMSession
    depth: Depth = "full"
    nodes: Nodes = field(init=False)
    specialists: dict[str, Callable] = field(init=False)

    def __post_init__(self) -> None:
        self.nodes = Nodes(self.config, self.session)
        docs = self.depth == "full"
        self.specialists = {s.name: make_specialist(s, self.config, self.session, docs=docs) for s in SPECIALISTS}


def _run_of(config: RunnableConfig) -> Run:
    return config["configurable"][RUN_KEY]


def _node(name: str) -> Callable:
    """A graph node (or edge function) that calls this run's `Nodes.<name>`."""

    def step(state: AnalysisState, config: RunnableConfig):
        return getattr(_run_of(config).nodes, name)(state)

    step.__name__ = name
    return step


def _specialist(name: str) -> Callable:
    def step(task: dict, config: RunnableConfig):
        return _run_of(config).specialists[name](task)

    step.__name__ = f"specialist_{name}"
    return step


def compile_graph(depth: Depth = "full"):
    """Compile the graph for a depth; nodes find their run's configuration in `configurable[RUN_KEY]`."""
    if depth not in DEPTHS:
        raise ValueError(f"unknown analysis depth {depth!r} (expected one of {', '.join(DEPTHS)})")
    builder = StateGraph(AnalysisState)
    builder.add_node("intake", _node("intake"))
    builder.add_node("route", _node("route"))
    for spec in SPECIALISTS:
        builder.add_node(f"specialist_{spec.name}", _specialist(spec.name))
        builder.add_edge(f"specialist_{spec.name}", "rank")
    builder.add_node("rank", _node("rank"))
    builder.add_edge(START, "intake")
    builder.add_edge("intake", "route")
    builder.add_conditional_edges("route", _node("fan_out"), [f"specialist_{s.name}" for s in SPECIALISTS])
    if depth == "findings":
        builder.add_node("findings_report", _node("findings_report"))
        builder.add_edge("rank", "findings_report")
        builder.add_edge("findings_report", END)
        return builder.compile()
    builder.add_node("retrieve", _node("retrieve"))
    builder.add_node("synthesize", _node("synthesize"))
    builder.add_node("verify", _node("verify"))
    builder.add_node("template", _node("template"))
    builder.add_edge("rank", "retrieve")
    builder.add_edge("retrieve", "synthesize")
    builder.add_edge("synthesize", "verify")
    builder.add_conditional_edges("verify", _node("after_verify"), {"done": END, "retry": "synthesize", "template": "template"})
    builder.add_edge("template", END)
    return builder.compile()


_compiled: dict[str, object] = {}
_compile_lock = threading.Lock()


def compiled_graph(depth: Depth = "full"):
    """The process's compiled graph for `depth` (compiling costs ~20 ms, a fast analysis about as much)."""
    graph = _compiled.get(depth)
    if graph is None:
        with _compile_lock:
            graph = _compiled.get(depth)
            if graph is None:
                graph = _compiled[depth] = compile_graph(depth)
    return graph


def open_session(config: GraphConfig, llm: BaseChatModel | None = None, notice: Notice | None = None) -> LLMSession:
    """The LLM session for a run: the given model, the configured endpoint, or offline."""
    return LLMSession(llm if llm is not None else make_chat_model(config.llm), notice=notice)


def analyze(
    logs: list[str],
    question: str | None = None,
    table: str | None = None,
    settings=None,
    llm: BaseChatModel | None = None,
    notice: Notice | None = None,
    session: LLMSession | None = None,
    progress: Callable[[str], None] | None = None,
    depth: Depth = "full",
    profiles: list[AppProfile] | None = None,
) -> Report:
    """Analyze one or more event logs (files, rolling dirs or dirs of logs) and return the report.

    `settings` is a copilot `Settings` (or a `GraphConfig`); `llm` overrides the configured
    endpoint (tests pass scripted models). Offline without either. `progress` is told the
    name of each node as it finishes (the CLI shows it in its status line). `depth="findings"`
    stops after ranking: the same findings, effects and what-if, a template report without
    citations, and no knowledge index opened. `profiles` already loaded (e.g. by a batch that
    stores them too) replace reading `logs` again.
    """
    app = compiled_graph(depth)
    config = GraphConfig.from_settings(settings)
    session = session or open_session(config, llm, notice)
    run = Run(config, session, depth)
    inputs = {"logs": [str(p) for p in logs], "question": parse_question(question), "table": table,
              "attempts": 0, "caveats": []}
    if profiles:
        inputs["profiles"] = list(profiles)
    options: RunnableConfig = {"recursion_limit": 40, "max_concurrency": 6, "configurable": {RUN_KEY: run}}
    state: dict = {}
    for mode, chunk in app.stream(inputs, options, stream_mode=["updates", "values"]):
        if mode == "values":
            state = chunk
        elif progress is not None:
            for node in chunk:
                progress(node)
    report: Report = state["report"]
    if session.failure and not any("LLM" in c for c in report.caveats):
        report.caveats.append(f"the LLM endpoint failed ({session.failure}); specialists ran their offline policies")
    return report


def build_graph(config: GraphConfig, session: LLMSession, depth: Depth = "full"):
    """The compiled graph bound to one run's configuration and session (for callers that stream it themselves)."""
    return compiled_graph(depth).with_config({"configurable": {RUN_KEY: Run(config, session, depth)}})
