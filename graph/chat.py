"""The conversational agent: the same tools behind one chat, checkpointed in SQLite by thread id.

With an LLM each turn is a bounded tool-calling loop whose output is streamed; offline
each turn is answered by intent from the same tools (graph.intents). Only scrubbed text
is stored: user input, tool results and answers pass through `redact_text` first. Loaded
logs are stored as paths and re-read on resume (profiles are never written to the thread).
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from graph import adapters, prompts
from graph.agent import tool_loop
from graph.config import GraphConfig
from graph.intents import answer_offline
from graph.llm import LLMSession, LLMUnavailable, Notice, make_chat_model
from graph.tools import Toolbox, app_overview
from tools.eventlog.model import AppProfile
from tools.redact import redact_text

HISTORY_TURNS = 12  # human turns of history sent to the model


def _union(left: list[str], right: list[str]) -> list[str]:
    return list(dict.fromkeys([*left, *right]))


class ChatState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    logs: Annotated[list[str], _union]


_profiles: dict[str, list[AppProfile]] = {}
_profiles_lock = threading.Lock()


def profiles_for(paths: list[str], config: GraphConfig) -> list[AppProfile]:
    """Profiles of the loaded logs (read once per process)."""
    out: list[AppProfile] = []
    for path in paths:
        with _profiles_lock:
            cached = _profiles.get(path)
        if cached is None:
            cached = adapters.load_profiles(path, config)
            with _profiles_lock:
                _profiles[path] = cached
        out += cached
    return out


class ChatAgent:
    """A resumable conversation over the analysis tools."""

    def __init__(self, config: GraphConfig, llm: BaseChatModel | None = None, notice: Notice | None = None):
        self.config = config
        self.session = LLMSession(llm if llm is not None else make_chat_model(config.llm), notice=notice)
        config.threads_path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(config.threads_path), check_same_thread=False)
        self.checkpointer = SqliteSaver(self._conn)
        builder = StateGraph(ChatState)
        builder.add_node("respond", self._respond)
        builder.add_edge(START, "respond")
        builder.add_edge("respond", END)
        self.app = builder.compile(checkpointer=self.checkpointer)

    # ------------------------------------------------------------- public API
    @staticmethod
    def new_thread_id() -> str:
        return uuid.uuid4().hex[:12]

    def _cfg(self, thread_id: str) -> dict:
        return {"configurable": {"thread_id": thread_id}}

    def state(self, thread_id: str) -> ChatState:
        return self.app.get_state(self._cfg(thread_id)).values or {}

    def load(self, thread_id: str, path: str) -> list[AppProfile]:
        """Read a log and remember it in the thread (errors raise CopilotError before anything is stored)."""
        loaded = profiles_for([path], self.config)
        self.app.update_state(self._cfg(thread_id), {"logs": [path]}, as_node="respond")
        return loaded

    def logs(self, thread_id: str) -> list[str]:
        return list(self.state(thread_id).get("logs") or [])

    def history(self, thread_id: str) -> list[AnyMessage]:
        return [m for m in self.state(thread_id).get("messages") or [] if m.type in ("human", "ai") and m.content]

    def ask(self, thread_id: str, question: str) -> Iterator[str]:
        """Answer one question, yielding text as it is produced."""
        for chunk in self.app.stream({"messages": [HumanMessage(redact_text(question))]}, self._cfg(thread_id), stream_mode="custom"):
            yield str(chunk)

    def close(self) -> None:
        self._conn.close()

    # ------------------------------------------------------------- the node
    def _respond(self, state: ChatState) -> dict:
        write: Callable[[str], None] = get_stream_writer()
        messages = state.get("messages") or []
        question = messages[-1].content if messages and messages[-1].type == "human" else ""
        profiles = profiles_for(state.get("logs") or [], self.config)
        toolbox = Toolbox(profiles[-1] if profiles else None, self.config, baseline=profiles[-2] if len(profiles) > 1 else None)
        if self.session.available:
            try:
                new = self._llm_turn(messages, toolbox, write)
                return {"messages": new}
            except LLMUnavailable:
                write("\n(the LLM endpoint failed; answering offline)\n")
        text = answer_offline(str(question), toolbox)
        for line in text.splitlines(keepends=True):
            write(line)
        return {"messages": [AIMessage(redact_text(text))]}

    def _llm_turn(self, messages: list[AnyMessage], toolbox: Toolbox, write: Callable[[str], None]) -> list[AnyMessage]:
        loaded = [app_overview(p).model_dump(mode="json", exclude_none=True) for p in (toolbox.baseline, toolbox.profile) if p]
        if toolbox.baseline is not None:  # the tools answer about the last one; compare_runs compares it with this one
            loaded[0]["loaded_as"] = "baseline (loaded before)"
        context = SystemMessage(prompts.chat_system() + "\n" + prompts.fence("loaded_applications", loaded or "none"))
        new = tool_loop(self.session, [context, *recent(messages)], toolbox, None, self.config.specialist_max_steps, on_text=write)
        out: list[AnyMessage] = []
        for m in new:
            if isinstance(m, ToolMessage):
                out.append(ToolMessage(content=redact_text(str(m.content)), tool_call_id=m.tool_call_id, name=m.name))
            else:
                out.append(AIMessage(content=redact_text(str(m.content)), tool_calls=getattr(m, "tool_calls", [])))
        return out


def recent(messages: list[AnyMessage], turns: int = HISTORY_TURNS) -> list[AnyMessage]:
    """The last `turns` exchanges, cut at a human message so tool calls keep their results."""
    starts = [i for i, m in enumerate(messages) if m.type == "human"]
    if len(starts) <= turns:
        return list(messages)
    return list(messages[starts[-turns]:])


def open_chat(settings: Any = None, llm: BaseChatModel | None = None, notice: Notice | None = None) -> ChatAgent:
    """A chat agent over the caller's settings (threads stored under `threads_path`)."""
    return ChatAgent(GraphConfig.from_settings(settings), llm=llm, notice=notice)
