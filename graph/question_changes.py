"""The configuration changes a what-if question names, as Spark properties for `predict_runtime`.

"what if I use 400 shuffle partitions?", "with AQE off and 2x the data?",
"spark.sql.autoBroadcastJoinThreshold=100m": each becomes {property: value}. Only the
settings the runtime model answers are read; an executor count alone is left to the
simulator's curve (`graph.intents.what_if`).
"""

from __future__ import annotations

import re

_SIZE = r"(-?\d+(?:\.\d+)?\s*(?:[kmgt]i?b?|bytes?)?)"
_NUMBER_WORDS = {"double": "2", "twice": "2", "triple": "3", "half": "0.5", "quadruple": "4"}

# a value is a number, a size, a switch or a local master ("... partitions to for this job" names none)
_ASSIGNMENT = re.compile(r"\b(spark\.[a-z0-9_.]*[a-z0-9_]|input\.scale)(?:\s*[=:]\s*|\s+to\s+)"
                         r"(-?\d[^\s,;?]*|true\b|false\b|local\[[^\]\s]*\])", re.I)
_PARTITIONS = re.compile(r"(?:(\d+)\s+(?:shuffle\s+)?partitions|shuffle\s+partitions\s+(?:to\s+|of\s+|=\s*|at\s+)?(\d+))")
_AQE_ON = re.compile(r"\b(?:(?:enable|turn on|switch on|with)\s+(?:aqe|adaptive(?: query execution)?)"
                     r"|(?:aqe|adaptive(?: query execution)?)\s+(?:on|enabled|turned on))\b")
_AQE_OFF = re.compile(r"\b(?:(?:disable|turn off|switch off|without)\s+(?:aqe|adaptive(?: query execution)?)"
                      r"|(?:aqe|adaptive(?: query execution)?)\s+(?:off|disabled|turned off))\b")
_BROADCAST_SIZE = re.compile(r"broadcast(?:\s+join)?\s+threshold\s+(?:to\s+|of\s+|=\s*|at\s+)?" + _SIZE)
_BROADCAST_OFF = re.compile(r"\b(?:(?:disable|turn off|switch off|without|no)\s+broadcast(?:\s+joins?)?"
                            r"|broadcast(?:\s+joins?)?\s+(?:off|disabled))\b")
_CORES = re.compile(r"(?:(\d+)\s+cores?\s+(?:per|an?|each)\s+executor|executor\s+cores\s+(?:to\s+|of\s+|=\s*)?(\d+))")
_MEMORY = re.compile(r"(?:executor\s+memory\s+(?:to\s+|of\s+|=\s*)?" + _SIZE + r"|" + _SIZE + r"\s+(?:of\s+)?executor\s+memory)")
_DATA = re.compile(r"(\d+(?:\.\d+)?x|" + "|".join(_NUMBER_WORDS) + r")\s+(?:the\s+|more\s+|as\s+much\s+)?(?:input\s+)?data\b")
_DATA_AFTER = re.compile(r"\b(?:input\s+)?data\s+(?:were|was|is|grows?|doubles?)?\s*(?:by\s+)?(\d+(?:\.\d+)?x|"
                         + "|".join(_NUMBER_WORDS) + r"|doubles?)\b")
_EXECUTORS = re.compile(r"(\d+)\s+executors?")


def changes_in(question: str) -> dict[str, str]:
    """The runtime-model settings `question` asks about (empty when it names none)."""
    text = question.lower()
    changes = {key: value.rstrip(".!") for key, value in _ASSIGNMENT.findall(question)}  # "... to 64." ends a sentence
    if match := _PARTITIONS.search(text):
        changes.setdefault("spark.sql.shuffle.partitions", match.group(1) or match.group(2))
    if _AQE_OFF.search(text):
        changes.setdefault("spark.sql.adaptive.enabled", "false")
    elif _AQE_ON.search(text):
        changes.setdefault("spark.sql.adaptive.enabled", "true")
    if _BROADCAST_OFF.search(text):
        changes.setdefault("spark.sql.autoBroadcastJoinThreshold", "-1")
    elif match := _BROADCAST_SIZE.search(text):
        changes.setdefault("spark.sql.autoBroadcastJoinThreshold", _size(match.group(1)))
    if match := _CORES.search(text):
        changes.setdefault("spark.executor.cores", match.group(1) or match.group(2))
    if match := _MEMORY.search(text):
        changes.setdefault("spark.executor.memory", _size(match.group(1) or match.group(2)))
    if match := _DATA.search(text) or _DATA_AFTER.search(text):
        word = match.group(1).removesuffix("s") if match.group(1).startswith("double") else match.group(1)
        changes.setdefault("input.scale", _NUMBER_WORDS.get(word, word.rstrip("x")))
    if changes and (match := _EXECUTORS.search(text)):  # with other changes, the executor count goes along
        changes.setdefault("spark.executor.instances", match.group(1))
    return changes


def _size(text: str) -> str:
    """'100 mb' -> '100mb' (Spark size syntax)."""
    return re.sub(r"\s+", "", text)
