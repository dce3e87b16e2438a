"""The analysis StateGraph: intake -> route -> specialists in parallel (Send) -> rank -> retrieve -> synthesize -> verify."""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph

from graph.config import GraphConfig
from graph.llm import LLMSession, Notice, make_chat_model
from graph.nodes import Nodes, parse_question
from graph.report import Report
from graph.specialists import SPECIALISTS, make_specialist
from graph.state import AnalysisState


def build_graph(config: GraphConfig, session: LLMSession):
    """Compile the graph for one run (nodes close over the configuration and the LLM session)."""
    nodes = Nodes(config, session)
    builder = StateGraph(AnalysisState)
    builder.add_node("intake", nodes.intake)
    builder.add_node("route", nodes.route)
    for spec in SPECIALISTS:
        builder.add_node(f"specialist_{spec.name}", make_specialist(spec, config, session))
        builder.add_edge(f"specialist_{spec.name}", "rank")
    builder.add_node("rank", nodes.rank)
    builder.add_node("retrieve", nodes.retrieve)
    builder.add_node("synthesize", nodes.synthesize)
    builder.add_node("verify", nodes.verify)
    builder.add_node("template", nodes.template)
    builder.add_edge(START, "intake")
    builder.add_edge("intake", "route")
    builder.add_conditional_edges("route", nodes.fan_out, [f"specialist_{s.name}" for s in SPECIALISTS])
    builder.add_edge("rank", "retrieve")
    builder.add_edge("retrieve", "synthesize")
    builder.add_edge("synthesize", "verify")
    builder.add_conditional_edges("verify", nodes.after_verify, {"done": END, "retry": "synthesize", "template": "template"})
    builder.add_edge("template", END)
    return builder.compile()


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
) -> Report:
    """Analyze one or more event logs (files, rolling dirs or dirs of logs) and return the report.

    `settings` is a copilot `Settings` (or a `GraphConfig`); `llm` overrides the configured
    endpoint (tests pass scripted models). Offline without either. `progress` is told the
    name of each node as it finishes (the CLI shows it in its status line).
    """
    config = GraphConfig.from_settings(settings)
    session = session or open_session(config, llm, notice)
    app = build_graph(config, session)
    inputs = {"logs": [str(p) for p in logs], "question": parse_question(question), "table": table,
              "attempts": 0, "caveats": []}
    state: dict = {}
    for mode, chunk in app.stream(inputs, {"recursion_limit": 40, "max_concurrency": 6}, stream_mode=["updates", "values"]):
        if mode == "values":
            state = chunk
        elif progress is not None:
            for node in chunk:
                progress(node)
    report: Report = state["report"]
    if session.failure and not any("LLM" in c for c in report.caveats):
        report.caveats.append(f"the LLM endpoint failed ({session.failure}); specialists ran their offline policies")
    return report
