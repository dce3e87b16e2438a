"""LLM doubles for tests: a scripted chat model and an OpenAI-compatible HTTP stub on 127.0.0.1.

Both answer from the conversation they receive (no global script order), so parallel
specialists can share one instance. The responder decides:
- a specialist's first turn -> tool calls (overview, config, diagnose);
- after tool results -> a short note;
- the report writer -> a JSON narrative (honest, or with a fabricated number);
- chat -> a tool call, then an answer quoting the tool result.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

FABRICATED = "987654"

Turn = dict[str, Any]  # {"role": ..., "content": ..., "tool_calls": [...]} in OpenAI wire form


def respond(messages: list[Turn], fabricate: Callable[[int], bool] = lambda attempt: False, state: dict | None = None) -> Turn:
    """The assistant turn for a conversation (OpenAI wire format in and out)."""
    system = next((m.get("content") or "" for m in messages if m["role"] == "system"), "")
    last = messages[-1]
    if "narrative of a Spark performance report" in system:
        attempt = sum(1 for m in messages if m["role"] == "assistant")  # 0 first try, 1 on retry
        evidence = next(m["content"] for m in messages if m["role"] == "user")
        runtime = re.search(r"runtime (\d+(?:\.\d+)? (?:ms|s|min|h))", evidence)
        said = f"The application ran for {runtime.group(1)}." if runtime else "The application ran."
        if fabricate(attempt):
            said += f" It wasted {FABRICATED} core hours and should set spark.sql.shuffle.partitions=31337."
        first = re.search(r"^finding (\S+) \[", evidence, re.M)
        explained = {first.group(1): "This is the finding to fix first."} if first else {}
        return {"role": "assistant", "content": json.dumps({"headline": "Scripted verdict", "summary": said,
                                                            "findings": explained})}
    if last["role"] == "tool":
        tool_text = " ".join(m["content"] for m in messages if m["role"] == "tool")
        app = re.search(r'"app_id": ?"([^"]+)"', tool_text)
        return {"role": "assistant", "content": f"Looked at {app.group(1) if app else 'the application'} with the tools."}
    if "specialist of Spark Copilot" in system:
        calls = [("app_overview", {}), ("spark_config", {"prefix": "spark."}), ("diagnose", {})]
    elif "You are Spark Copilot" in system:
        calls = [("app_overview", {})]
    else:
        return {"role": "assistant", "content": "ok"}
    if state is not None:
        state["n"] = state.get("n", 0) + 1
    return {"role": "assistant", "content": "", "tool_calls": [
        {"id": f"call_{i}_{time.monotonic_ns()}", "type": "function",
         "function": {"name": name, "arguments": json.dumps(args)}} for i, (name, args) in enumerate(calls)]}


def to_wire(message: BaseMessage) -> Turn:
    role = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool"}[message.type]
    return {"role": role, "content": message.content if isinstance(message.content, str) else json.dumps(message.content)}


class ScriptedChatModel(BaseChatModel):
    """A chat model whose replies (tool calls included) come from `respond`; records every prompt."""

    fabricate_attempts: tuple[int, ...] = ()
    prompts: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedChatModel:
        return self

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        self.prompts.append(list(messages))
        turn = respond([to_wire(m) for m in messages], lambda attempt: attempt in self.fabricate_attempts)
        calls = [{"name": c["function"]["name"], "args": json.loads(c["function"]["arguments"]), "id": c["id"], "type": "tool_call"}
                 for c in turn.get("tool_calls", [])]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=turn["content"], tool_calls=calls))])


class OpenAIStub:
    """A tiny OpenAI-compatible server: /v1/chat/completions (plain and streamed) on 127.0.0.1.

    mode: "ok" | "timeout" (sleeps `delay_s` before answering) | "500".
    """

    def __init__(self, mode: str = "ok", fabricate_attempts: tuple[int, ...] = (), delay_s: float = 5.0):
        self.mode = mode
        self.fabricate_attempts = fabricate_attempts
        self.delay_s = delay_s
        self.requests: list[dict] = []
        self.raw_bodies: list[bytes] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stub.raw_bodies.append(body)
                request = json.loads(body)
                stub.requests.append(request)
                if stub.mode == "timeout":
                    time.sleep(stub.delay_s)
                if stub.mode == "500":
                    self._send(500, {"error": {"message": "stub failure", "type": "server_error"}})
                    return
                turn = respond(request["messages"], lambda attempt: attempt in stub.fabricate_attempts)
                if request.get("stream"):
                    self._stream(turn)
                else:
                    self._send(200, {"id": "cmpl-stub", "object": "chat.completion", "created": 0, "model": "stub",
                                     "choices": [{"index": 0, "message": turn,
                                                  "finish_reason": "tool_calls" if turn.get("tool_calls") else "stop"}],
                                     "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _stream(self, turn: Turn) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()

                def emit(delta: dict, finish: str | None = None) -> None:
                    chunk = {"id": "cmpl-stub", "object": "chat.completion.chunk", "created": 0, "model": "stub",
                             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()

                if turn.get("tool_calls"):
                    for i, call in enumerate(turn["tool_calls"]):
                        emit({"role": "assistant", "tool_calls": [{"index": i, **call}]})
                    emit({}, "tool_calls")
                else:
                    for word in re.findall(r"\S+\s*", turn["content"]):
                        emit({"role": "assistant", "content": word})
                    emit({}, "stop")
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> OpenAIStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
