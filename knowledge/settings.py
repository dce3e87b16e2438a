"""The `knowledge` section of the settings (composed into copilot.settings.Settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel


class KnowledgeSettings(BaseModel):
    """Which collection to search and what the default index holds."""

    collection: str = "knowledge"
    config_catalog: bool = True  # extract the installed Spark's config catalog into the default index
    api_reference: bool = True  # the installed PySpark's DataFrame API docstrings (knowledge/api_reference.py)
    cards_dir: Path | None = None  # extra or replacement cards; default: the cards shipped in knowledge/cards
