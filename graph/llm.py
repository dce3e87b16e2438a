"""ChatOpenAI wiring from configuration, and the one place that decides online vs offline.

No endpoint configured = offline, announced once per process. An endpoint that
times out or fails (after the client's own retries with backoff) switches the
rest of the run to offline with ONE warning; the report still comes out.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage

from graph.config import LLMConfig

log = logging.getLogger("copilot.llm")

Notice = Callable[[str], None]

_announced: set[str] = set()
_announce_lock = threading.Lock()


def stderr_notice(message: str) -> None:
    """Default notice channel: one line on stderr."""
    print(f"copilot: {message}", file=sys.stderr, flush=True)


def announce_once(message: str, notice: Notice | None = None) -> None:
    """Say something at most once per process (offline mode, endpoint down)."""
    with _announce_lock:
        if message in _announced:
            return
        _announced.add(message)
    (notice or stderr_notice)(message)


def make_chat_model(config: LLMConfig) -> BaseChatModel | None:
    """A ChatOpenAI for the configured endpoint, or None when nothing is configured (offline)."""
    if not config.configured:
        return None
    from langchain_openai import ChatOpenAI

    api_key = config.api_key.get_secret_value() if config.api_key else os.environ.get("OPENAI_API_KEY")
    return ChatOpenAI(
        model=config.model,
        base_url=config.base_url,
        api_key=api_key or "not-needed",  # local servers (vLLM, llama.cpp, Ollama) ignore it
        timeout=config.timeout_s,
        max_retries=config.max_retries,  # the openai client backs off exponentially between retries
        temperature=config.temperature,
    )


class LLMUnavailable(Exception):
    """Raised inside the graph when the LLM is down for this run; callers fall back to offline."""


class LLMSession:
    """One run's view of the LLM: the model, whether it still works, and the single failure warning."""

    def __init__(self, model: BaseChatModel | None, notice: Notice | None = None, offline_reason: str = ""):
        self.model = model
        self.notice = notice or stderr_notice
        self._failed: str | None = None
        self._lock = threading.Lock()
        self.prompts: list[list[BaseMessage]] = []  # every prompt sent, for audits and tests
        if model is None:
            announce_once(offline_reason or "offline mode: no LLM endpoint configured "
                          "(set COPILOT_LLM__BASE_URL or OPENAI_API_KEY); using the built-in analysis", self.notice)

    @property
    def available(self) -> bool:
        return self.model is not None and self._failed is None

    @property
    def failure(self) -> str | None:
        return self._failed

    def fail(self, exc: BaseException) -> None:
        """Record the first failure and warn once; later calls go offline silently."""
        with self._lock:
            if self._failed is not None:
                return
            self._failed = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
        log.debug("LLM failed", exc_info=exc)
        self.notice(f"warning: LLM endpoint failed ({self._failed}); continuing offline with the built-in analysis")

    def invoke(self, messages: Sequence[BaseMessage], tools: Sequence[Any] | None = None) -> AIMessage:
        """One model call; any error marks the session failed and raises LLMUnavailable."""
        if not self.available:
            raise LLMUnavailable(self._failed or "offline")
        model: Any = self.model.bind_tools(list(tools)) if tools else self.model
        self.prompts.append(list(messages))
        try:
            result = model.invoke(list(messages))
        except Exception as exc:  # network, timeout, 5xx after retries, malformed response
            self.fail(exc)
            raise LLMUnavailable(str(exc)) from exc
        if not isinstance(result, AIMessage):
            result = AIMessage(content=str(getattr(result, "content", result)))
        return result

    def stream(self, messages: Sequence[BaseMessage], tools: Sequence[Any] | None = None) -> Iterator[AIMessageChunk]:
        """Stream one model call as chunks; errors behave as in `invoke`."""
        if not self.available:
            raise LLMUnavailable(self._failed or "offline")
        model: Any = self.model.bind_tools(list(tools)) if tools else self.model
        self.prompts.append(list(messages))
        try:
            for chunk in model.stream(list(messages)):
                yield chunk
        except Exception as exc:
            self.fail(exc)
            raise LLMUnavailable(str(exc)) from exc
