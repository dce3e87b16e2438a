"""Last line of defence against secrets reaching a prompt, a report or a stored chat thread.

The event-log engine already redacts properties; this catches what slips through
free text (JDBC URLs in plans, `password=` pairs, tokens typed into a chat).
"""

from __future__ import annotations

import re

REDACTED = "*********(redacted)"

_SECRET_KEY = r"(?:password|passwd|pwd|secret|token|credential|api[_\-.]?key|access[_\-.]?key|secret[_\-.]?key|sas|signature|private[_\-.]?key)"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # jdbc:postgresql://user:pass@host/db  and any scheme://user:pass@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s/:@'\"]+):[^\s@/'\"]+@"), r"\1:" + REDACTED + "@"),
    # ;password=xyz  ?password=xyz  &token=xyz  (JDBC and URL query parameters)
    (re.compile(rf"(?i)([;?&]\s*[\w.\-]*{_SECRET_KEY}[\w.\-]*\s*=\s*)[^;&\s'\"]+"), r"\1" + REDACTED),
    # key=value / key: value / "key": "value" where the key names a secret
    (re.compile(rf"(?i)([\"']?[\w.\-]*{_SECRET_KEY}[\w.\-]*[\"']?\s*[=:]\s*[\"']?)(?!\*)[^\s,;'\"}}]+"), r"\1" + REDACTED),
    # bearer tokens, AWS access keys, GitHub / OpenAI style tokens
    (re.compile(r"(?i)\b(bearer\s+)[a-z0-9._\-]{8,}"), r"\1" + REDACTED),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED),
    (re.compile(r"\b(?:sk|ghp|gho|xox[bp]|dapi)[-_][A-Za-z0-9_\-]{10,}\b"), REDACTED),
    (re.compile(r"\bdapi[0-9a-f]{32}\b"), REDACTED),
]


def scrub(text: str) -> str:
    """The text with anything that looks like a credential replaced by a marker."""
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
