"""A small bounded ReAct loop: the model calls read-only tools until it answers or runs out of steps."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage

from graph.llm import LLMSession
from graph.tools import Toolbox


def tool_loop(
    session: LLMSession,
    messages: Sequence[BaseMessage],
    toolbox: Toolbox,
    tool_names: Sequence[str] | None = None,
    max_steps: int = 6,
    on_text: Callable[[str], None] | None = None,
) -> list[BaseMessage]:
    """Run model -> tools -> model ... and return the new messages (the last is the answer).

    With `on_text`, model output is streamed to it as it arrives. Raises `LLMUnavailable`
    when the endpoint fails (the session has already warned once).
    """
    tools = toolbox.langchain_tools(tool_names)
    offered = {t.name for t in tools}
    history = list(messages)
    new: list[BaseMessage] = []
    for step in range(max_steps + 1):
        offer = tools if step < max_steps else None  # last turn: answer without tools
        reply = _stream(session, history, offer, on_text) if on_text else session.invoke(history, offer)
        history.append(reply)
        new.append(reply)
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            if call["name"] in offered:
                result = toolbox.call(call["name"], dict(call.get("args") or {}))
            else:  # a model may only use the tools it was given
                result = json.dumps({"error": f"no tool named {call['name']} here", "available": sorted(offered)})
            message = ToolMessage(content=result, tool_call_id=call.get("id") or call["name"], name=call["name"])
            history.append(message)
            new.append(message)
    return new


def _stream(session: LLMSession, history: list[BaseMessage], tools: list | None, on_text: Callable[[str], None]) -> AIMessage:
    """Stream one turn, forwarding text, and assemble the full message (tool calls included)."""
    total: AIMessageChunk | None = None
    for chunk in session.stream(history, tools):
        if chunk.content and isinstance(chunk.content, str):
            on_text(chunk.content)
        total = chunk if total is None else total + chunk
    if total is None:
        return AIMessage(content="")
    return AIMessage(content=total.content, tool_calls=total.tool_calls, id=total.id)
