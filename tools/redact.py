"""Secret redaction for properties and free text (plans, descriptions, failure messages, prompts, chat).

The one place that decides what a secret looks like: the event-log engine, the Spark sources, the
graph's prompts, reports and stored chat threads, and the API all call it.

Keys follow Spark's default `spark.redaction.regex` (plus a few well-known secret
keys it misses); like Spark, a property is redacted when its key *or* its value matches. Values and free text are also
scrubbed of credentials in URLs and JDBC strings (user:pass@, password=..., ?token=...),
of bearer tokens and of tokens known by their prefix (AWS access key ids, OpenAI/Stripe, GitHub,
Slack, Databricks).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

REDACTED = "*********(redacted)"
SPARK_DEFAULT_REDACTION = re.compile(r"(?i)secret|password|token|access[.]?key")
# Well-known secret-bearing keys Spark's default misses (e.g. fs.azure.account.key.<account>).
EXTRA_KEY_REDACTION = re.compile(
    r"(?i)account[.]key|private[._-]?key|signature|credential(?!s[.]provider)|(?:^|[.])sas(?:[.]|$)")

_SECRET_WORD = (r"(?:secret|password|passwd|pwd|token|access[._-]?key|api[._-]?key|private[._-]?key"
                r"|credential(?!s[.]provider)|signature)")  # a credentials *provider* is a class name, not a secret
# key=value, key: value, key -> value, "key": "value" where the key names a secret; `sig` and `sas`
# (Azure SAS signature and token) only as a whole key name, so `sasl.qop=auth` stays.
_KEY_VALUE = re.compile(
    r"""(?ix)
    (?P<key>\b(?:[\w.\-]*""" + _SECRET_WORD + r"""[\w.\-]*|sig|sas)["']?)
    (?P<sep>\s*(?:=|:|->)\s*)
    (?P<value>"[^"]*"|'[^']*'|[^\s;&,)\]}'"]+)
    """
)
# scheme://user:password@host
_URL_USERINFO = re.compile(r"(?P<prefix>\b[a-zA-Z][\w+.\-]*://[^/\s:@]*:)(?P<password>[^@\s/]+)(?P<at>@)")
# jdbc:oracle:thin:user/password@host
_ORACLE_THIN = re.compile(r"(?P<prefix>jdbc:oracle:thin:[^/@\s:]+/)(?P<password>[^@\s]+)(?P<at>@)")
# Authorization: Bearer <token>; the token has a digit or 20+ characters, so "bearer tokens" prose stays.
_BEARER = re.compile(r"(?i)(?P<prefix>\bbearer\s+)(?:(?=[\w.~+/-]*\d)[\w.~+/-]{8,}|[\w.~+/-]{20,})=*")
# A pasted PEM private key, header to footer (its body spans lines; the trigger is "key").
_PEM_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----.*?(?:-----END (?:[A-Z]+ )*PRIVATE KEY-----|\Z)",
                              re.DOTALL)
# Tokens recognisable by their prefix: AWS access key ids, OpenAI/Anthropic (sk-), Stripe (sk_live_,
# sk_test_), GitHub (ghp_, gho_, ghs_, ghu_, ghr_, github_pat_), Slack (xoxb-, xoxp-), Databricks personal access tokens (dapi + 32 hex).
_PREFIXED_TOKEN = re.compile(
    r"\b(?:(?:AKIA|ASIA)[0-9A-Z]{16}\b"
    r"|(?:sk-|sk_live_|sk_test_|gh[pousr]_|github_pat_|xox[bp]-)[\w-]{10,}"
    r"|dapi[0-9a-f]{32}(?:-\d+)?\b)"
)


# Every pattern above needs one of these (lower-cased) in the text: most text has none and skips the regexes.
# No bare "sk_": it is in every "task_"; Stripe-style keys are matched by their "sk_live_"/"sk_test_" prefix.
_TRIGGERS = ("://", "jdbc:oracle", "secret", "passw", "pwd", "token", "key", "credential", "sig", "sas",
             "bearer", "akia", "asia", "sk-", "sk_live_", "sk_test_", "ghp_", "gho_", "ghs_", "ghu_", "ghr_",
             "github_pat_", "xoxb-", "xoxp-", "dapi")


def redact_text(text: str) -> str:
    """`text` with credentials in URLs, key=value pairs, bearer tokens and known token formats replaced."""
    if not text:
        return text
    # Quick check on ASCII text only: with other characters, case-insensitive matching has special
    # cases (e.g. the dotless i matches "i") that lower-casing does not reproduce.
    if text.isascii():
        lowered = text.lower()
        if not any(trigger in lowered for trigger in _TRIGGERS):
            return text
    return redact_all(text)


def redact_all(text: str) -> str:
    """`redact_text` without the quick check: every pattern runs."""
    text = _PEM_PRIVATE_KEY.sub(REDACTED, text)
    text = _URL_USERINFO.sub(lambda m: m["prefix"] + REDACTED + m["at"], text)
    text = _ORACLE_THIN.sub(lambda m: m["prefix"] + REDACTED + m["at"], text)
    text = _BEARER.sub(lambda m: m["prefix"] + REDACTED, text)
    text = _KEY_VALUE.sub(_redact_value, text)
    return _PREFIXED_TOKEN.sub(REDACTED, text)


def is_redacted(value: str) -> bool:
    """Whether `value` is already a redaction marker (ours, or Spark's own `*********(redacted)`)."""
    return value.startswith(REDACTED[:9])


def _redact_value(match: re.Match[str]) -> str:
    value = match["value"]
    if is_redacted(value):
        return match[0]
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match['key']}{match['sep']}{quote}{REDACTED}{quote}"


def redact_properties(properties: Mapping[str, object], extra_pattern: str | None = None) -> dict[str, str]:
    """Properties with secret values replaced (key or value matching the redaction regex).

    `extra_pattern` is the application's own `spark.redaction.regex`, applied in addition.
    """
    patterns = [SPARK_DEFAULT_REDACTION]
    key_patterns = [EXTRA_KEY_REDACTION]
    if extra_pattern:
        try:
            patterns.append(re.compile(extra_pattern))
        except re.error:
            pass
    redacted: dict[str, str] = {}
    for key, raw in properties.items():
        key = str(key)
        value = "" if raw is None else str(raw)
        if any(p.search(key) or p.search(value) for p in patterns) or any(p.search(key) for p in key_patterns):
            redacted[key] = REDACTED
        else:
            redacted[key] = redact_text(value)
    return redacted
