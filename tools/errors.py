"""Errors the user can act on. Each carries a one-line message; the CLI prints it and exits 2."""


class CopilotError(Exception):
    """Base for every error that should reach the user as one clear line."""


class EventLogError(CopilotError):
    """The input is not a readable Spark event log (corrupt, truncated, foreign, unreadable)."""


class ConfigurationError(CopilotError):
    """A setting, path or URL the user gave cannot be used."""


class KnowledgeIndexError(CopilotError):
    """The knowledge index is missing or damaged; `copilot knowledge reset` rebuilds it."""


class ModelError(CopilotError):
    """The runtime model artifact is missing, damaged or cannot answer the request."""


class LLMUnavailableError(CopilotError):
    """The configured LLM endpoint cannot be reached or keeps failing."""
