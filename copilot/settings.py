"""Settings from environment (`COPILOT_*`, nested with `__`) and an optional TOML file.

`COPILOT_HOME` (default `~/.spark-copilot`) holds every file the tool writes; each
path below defaults to a place inside it. The TOML file is `$COPILOT_HOME/config.toml`
unless `COPILOT_CONFIG` names another one. Environment beats the file.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from copilot.api.settings import ApiSettings
from graph.config import LLMConfig
from knowledge.settings import KnowledgeSettings
from tools.cost import PricingSettings  # the pricing section is defined by the cost model that reads it
from tools.rules.thresholds import RuleThresholds
from tools.tables.model import TableThresholds


def default_home() -> Path:
    return Path(os.environ.get("COPILOT_HOME", "~/.spark-copilot")).expanduser()


def _config_file() -> Path:
    explicit = os.environ.get("COPILOT_CONFIG")
    return Path(explicit).expanduser() if explicit else default_home() / "config.toml"


# The LLM section is defined once, by the graph that uses it (copilot -> graph is the allowed direction).
LLMSettings = LLMConfig


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COPILOT_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    home: Path = Field(default_factory=default_home)
    store_path: Path | None = None  # DuckDB history store
    chroma_dir: Path | None = None  # knowledge index
    threads_path: Path | None = None  # chat checkpoints (SQLite)
    model_path: Path | None = None  # runtime model override
    llm: LLMSettings = Field(default_factory=LLMSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    pricing: PricingSettings = Field(default_factory=PricingSettings)
    rules: RuleThresholds = Field(default_factory=RuleThresholds)  # COPILOT_RULES__SKEW_RATIO=...
    tables: TableThresholds = Field(default_factory=TableThresholds)  # COPILOT_TABLES__SMALL_FILE_BYTES=...
    api: ApiSettings = Field(default_factory=ApiSettings)  # COPILOT_API__TOKEN=..., COPILOT_API__ALLOWED_DIRS='["/logs"]'

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, toml, file_secret_settings)

    def model_post_init(self, __context: object) -> None:
        self.home = self.home.expanduser()
        self.store_path = self.store_path or self.home / "copilot.duckdb"
        self.chroma_dir = self.chroma_dir or self.home / "chroma"
        self.threads_path = self.threads_path or self.home / "threads.sqlite"

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own `Settings(...)` instead)."""
    return Settings()
