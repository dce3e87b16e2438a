"""Errors of the evaluation harness the user can act on (one line, exit 2 in the CLI)."""

from tools.errors import CopilotError


class EvalInputError(CopilotError):
    """A case file, question set or thresholds file cannot be used as given."""
