"""The graph's own configuration: plain values the copilot layer passes in (graph never imports copilot)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr


class LLMConfig(BaseModel):
    """An OpenAI-compatible endpoint; nothing configured means offline mode."""

    base_url: str | None = None
    model: str = "gpt-4o-mini"
    api_key: SecretStr | None = None
    timeout_s: float = 60.0
    max_retries: int = 2
    temperature: float = 0.0

    @property
    def configured(self) -> bool:
        return bool(self.base_url or self.api_key or os.environ.get("OPENAI_API_KEY"))


class GraphConfig(BaseModel):
    """Everything the graph needs from settings, as plain values."""

    home: Path = Field(default_factory=lambda: Path(os.environ.get("COPILOT_HOME", "~/.spark-copilot")).expanduser())
    threads_path: Path | None = None
    llm: LLMConfig = Field(default_factory=LLMConfig)
    specialist_max_steps: int = 6
    citations_per_finding: int = 2
    settings: Any = None  # the caller's settings object, handed through to lower packages untouched

    def model_post_init(self, __context: object) -> None:
        self.threads_path = self.threads_path or self.home / "threads.sqlite"

    @classmethod
    def from_settings(cls, settings: Any = None) -> GraphConfig:
        """Build from a copilot `Settings`-like object (duck-typed), or from the environment when None."""
        if settings is None:
            return cls.from_env()
        if isinstance(settings, GraphConfig):
            return settings
        llm = getattr(settings, "llm", None)
        if llm is None:
            llm_config = LLMConfig()
        else:
            llm_config = llm if isinstance(llm, LLMConfig) else LLMConfig.model_validate(llm.model_dump())
        return cls(
            home=Path(settings.home),
            threads_path=getattr(settings, "threads_path", None),
            llm=llm_config,
            settings=settings,
        )

    @classmethod
    def from_env(cls) -> GraphConfig:
        """The same COPILOT_* variables the copilot settings read, for callers that pass nothing."""
        env = os.environ
        api_key = env.get("COPILOT_LLM__API_KEY")
        llm = LLMConfig(
            base_url=env.get("COPILOT_LLM__BASE_URL") or None,
            model=env.get("COPILOT_LLM__MODEL") or LLMConfig().model,
            api_key=SecretStr(api_key) if api_key else None,
        )
        return cls(llm=llm)
