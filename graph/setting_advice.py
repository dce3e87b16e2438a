"""'What should I set spark.sql.shuffle.partitions to?': a value, not a documentation page.

The answer puts together what the tools already know about one setting: its value in this
run, the value each finding recommends (and why), and, for the settings the runtime model
covers, its prediction for a few candidate values, each with its 80% interval.
"""

from __future__ import annotations

import re
from typing import Any

from graph import units
from graph.tools import Toolbox
from graph.verify import CONFIG_KEY
from tools.eventlog.model import AQE_DEFAULT_ON_SINCE, spark_release
from tools.eventlog.slots import peak_cores, peak_executors
from tools.findings import Finding
from tools.units import parse_size

# the settings asked about in plain words, most specific first
_NAMED_SETTINGS = (
    (re.compile(r"shuffle\s+partitions|partitions?\s+count|number\s+of\s+partitions"), "spark.sql.shuffle.partitions"),
    (re.compile(r"broadcast(?:\s+join)?\s+threshold"), "spark.sql.autoBroadcastJoinThreshold"),
    (re.compile(r"memory\s+fraction"), "spark.memory.fraction"),
    (re.compile(r"executor\s+(?:memory|size)|memory\s+(?:per|for\s+each|of\s+each)\s+executor"
                r"|(?:smaller|bigger|larger)\s+executors"), "spark.executor.memory"),
    (re.compile(r"\baqe\b|adaptive\s+query\s+execution"), "spark.sql.adaptive.enabled"),
)
# settings a yes/no question about the run names ('did it use dynamic allocation?'): the above and a few switches
_STATE_SETTINGS = (
    *_NAMED_SETTINGS,
    (re.compile(r"dynamic\s+allocation"), "spark.dynamicAllocation.enabled"),
    (re.compile(r"\bspeculat"), "spark.speculation"),
    (re.compile(r"\bkryo\b"), "spark.serializer"),
)
# 'did it use ...?', 'was ... on?', 'is ... enabled?': the run's state, not advice or documentation
_ASKS_FOR_A_STATE = re.compile(r"^(?:did|was|were|is|are|has|had)\b.*\b(?:use[ds]?|using|enabled?|disabled?|on|off|set"
                               r"|turned|configured|active)\b")
# 'what was the shuffle partitions setting?', 'what were the shuffle partitions set to?': the run's value, in the past
# tense or as a setting ('what is spark.x?' stays a documentation question)
_ASKS_WHAT_IT_WAS = re.compile(r"^what\s+(?:was|were)\b|^what\s+(?:is|are)\b.*\b(?:setting|set\s+to|configured)\b"
                               r"|^what\s+value\b")
# words that ask for a value rather than an explanation ('what does ... do?' stays a documentation question)
_ASKS_FOR_A_VALUE = re.compile(r"\b(?:should|shall|how\s+(?:many|much|big|large|high|low)|best|right|optimal|ideal"
                               r"|recommend\w*|suggest\w*|good\s+value|worth"
                               r"|too\s+(?:much|many|few|little|big|large|small|high|low)|smaller|bigger|larger)\b")
SPARK_DEFAULTS = {"spark.sql.shuffle.partitions": "200", "spark.sql.autoBroadcastJoinThreshold": "10MB",
                  "spark.memory.fraction": "0.6", "spark.executor.memory": "1g",
                  "spark.dynamicAllocation.enabled": "false", "spark.speculation": "false",
                  "spark.serializer": "org.apache.spark.serializer.JavaSerializer", "spark.driver.maxResultSize": "1g"}
DYNAMIC_ALLOCATION_BOUNDS = ("minExecutors", "initialExecutors", "maxExecutors")
MAX_CANDIDATES = 7


def spark_default(key: str, spark_version: str | None) -> str | None:
    """Spark's default for the settings answered here, in the version that wrote the log (AQE's changed in 3.2)."""
    if key == "spark.sql.adaptive.enabled":
        release = spark_release(spark_version)
        if release == (0, 0):
            return None
        return "true" if release >= AQE_DEFAULT_ON_SINCE else "false"
    return SPARK_DEFAULTS.get(key)


def asked_setting(text: str) -> str | None:
    """The one setting a question asks a value for ('how many shuffle partitions should I use?'), else None."""
    return _named_setting(text, _ASKS_FOR_A_VALUE, _NAMED_SETTINGS)


def asked_state(text: str) -> str | None:
    """The setting a yes/no question about this run names ('did it use dynamic allocation?', 'was AQE on?')."""
    return (_named_setting(text, _ASKS_FOR_A_STATE, _STATE_SETTINGS)
            or _named_setting(text, _ASKS_WHAT_IT_WAS, _STATE_SETTINGS))


def _named_setting(text: str, asks: re.Pattern[str], named: tuple[tuple[re.Pattern[str], str], ...]) -> str | None:
    """The key `text` spells out, else the first of `named` its words name; None unless `asks` matches."""
    if not asks.search(text):
        return None
    if key := CONFIG_KEY.search(text):
        return key.group(0).rstrip(".")
    return next((key for pattern, key in named if pattern.search(text)), None)


def setting_state(key: str, toolbox: Toolbox, findings: list[Finding]) -> str:
    """Whether and how the run used a setting: its value (or Spark's default), for dynamic allocation its bounds
    and how the executor count moved, and the findings that change it or its sibling settings."""
    key = spelled(key, [c.key for f in findings for c in f.recommendation.config_changes], toolbox)
    lines = [value_line(key, toolbox)]
    if key == "spark.dynamicAllocation.enabled" and toolbox.spark_config().get(key, "").strip().lower() == "true":
        lines.append(_executor_scaling(toolbox))
    family = key.removesuffix("enabled") if key.endswith(".enabled") else key
    for finding in findings:
        keys = [c.key for c in finding.recommendation.config_changes if c.key.startswith(family)]
        if keys:
            lines.append(f"Finding \"{finding.title}\" changes {', '.join(keys)}: {finding.recommendation.summary}")
    return "\n".join(lines)


def _executor_scaling(toolbox: Toolbox) -> str:
    """'Bounds: maxExecutors not set. Executors: 10 in all, at most 10 at once, none removed.'"""
    config = toolbox.spark_config()
    bounds = [f"{name} {config[f'spark.dynamicAllocation.{name}']}" if f"spark.dynamicAllocation.{name}" in config
              else f"{name} not set" for name in DYNAMIC_ALLOCATION_BOUNDS]
    executors = [e for e in toolbox.profile.executors if e.executor_id != "driver"]
    removed = sum(1 for e in executors if e.removed_time_ms is not None)
    return (f"Bounds: {', '.join(bounds)}. Executors: {len(executors)} in all, at most {peak_executors(executors)} "
            f"at once, {removed or 'none'} removed before the end.")


def setting_advice(key: str, toolbox: Toolbox, findings: list[Finding], asked: list[str] | None = None) -> str:
    """The run's value of `key`, the values `findings` recommend for it, then the runtime model's estimate for
    candidate values (with the ones the question `asked` about)."""
    key = spelled(key, [c.key for f in findings for c in f.recommendation.config_changes], toolbox)
    current = toolbox.spark_config().get(key)
    default = spark_default(key, toolbox.profile.spark_version)
    lines = [value_line(key, toolbox)]
    recommended: list[str] = []
    for finding in findings:
        for change in finding.recommendation.config_changes:
            if change.key == key:
                recommended.append(change.value)
                lines.append(f"Recommended: {key}={change.value}, from \"{finding.title}\": {finding.recommendation.summary}")
    if not recommended:
        lines.append(f"No finding calls for changing {key}.")
    from models.predict import SQL_KEYS, runs_no_sql  # the model's package loads on first use, as in adapters

    if key in SQL_KEYS and runs_no_sql(toolbox.profile):
        lines.append(f"This application ran no SQL or DataFrame query, so {key} does not change it.")
        return "\n".join(lines)
    rows, uncertain = _model_rows(key, current or default, recommended, asked or [], toolbox)
    if rows:
        lines.append("Runtime model, this setting alone changed (80% interval):")
        lines += rows
        if uncertain == len(rows) - 1:  # every row but today's
            lines.append(f"Every interval includes today's {units.duration(toolbox.profile.duration_ms)}: on this run the "
                         "model cannot tell these values apart; the findings' evidence is the better guide.")
    return "\n".join(lines)


def _catalog_entry(home: Any, key: str) -> Any:
    """The cached config-catalog entry of `key`, if any. Imported here, not at the top: the analysis graph parses
    questions with the chat's topics, and its findings-only depth must not load the knowledge package."""
    from knowledge.catalog import cached_entry

    return cached_entry(home, key)


def spelled(key: str, known: list[str], toolbox: Toolbox) -> str:
    """The key as Spark spells it ('spark.sql.adaptive.skewJoin.enabled' from a lower-cased question): as the run,
    `known` keys (a finding's, a catalog entry's) or the defaults above spell it."""
    candidates = [*toolbox.spark_config(), *known, *SPARK_DEFAULTS, "spark.sql.adaptive.enabled"]
    found = next((k for k in candidates if k.lower() == key.lower()), None)
    if found is None and (entry := _catalog_entry(toolbox.config.home, key)):
        return entry[0].key
    return found or key


def _as_size(key: str, value: str) -> str:
    """' (25.0 MiB)' for a byte count given as a bare number to a size setting (a threshold or a ...Bytes key)."""
    sized = key.endswith("Threshold") or "bytes" in key.lower()
    return f" ({units.size(int(value))})" if sized and value.strip().isdigit() and int(value) >= 1024 else ""


def value_line(key: str, toolbox: Toolbox) -> str:
    """'In this run spark.sql.shuffle.partitions = 2.', or that the run left it to Spark's default."""
    current = toolbox.spark_config().get(key)
    if current is not None:
        return f"In this run {key} = {current}{_as_size(key, current)}."
    default = spark_default(key, toolbox.profile.spark_version)
    entry = _catalog_entry(toolbox.config.home, key) if default is None else None
    if entry and entry[0].default and not entry[0].default.startswith("<"):  # '<undefined>': no fixed default
        catalog_default, release = entry[0].default, entry[1]
        if spark_release(release) == spark_release(toolbox.profile.spark_version):
            default = catalog_default
        else:  # the catalog is the installed Spark's: the log's release may have had another default
            return f"This run did not set {key} (Spark's default applies; in Spark {release} it is {catalog_default})."
    return f"This run did not set {key} (Spark's default applies" + (f": {default})." if default else ").")


def _model_rows(key: str, current: str | None, recommended: list[str], asked: list[str],
                toolbox: Toolbox) -> tuple[list[str], int]:
    """One row per candidate value: the observed runtime for `current` (the run's value, else the default), the
    model's estimate and interval for the others; and how many of those intervals include the observed runtime."""
    values = candidate_values(key, current, [*recommended, *asked], peak_cores(toolbox.profile) or 2)
    now = (current or "").lower()
    rows = []
    uncertain = 0
    for value in values:
        if value.lower() == now:
            rows.append(f"{value:>12}: {units.duration(toolbox.profile.duration_ms)} <- now (observed)")
            continue
        effect = toolbox.predict_runtime({key: value})
        if effect is None:
            continue
        notes = " <- recommended" if value in recommended else " <- asked" if value in asked else ""
        if any("outside the trained range" in c for c in effect.caveats):
            notes += " (outside the trained range)"
        uncertain += effect.direction == "uncertain"
        interval = (f" ({units.duration_range(effect.runtime_low_ms, effect.runtime_high_ms)}"
                    + (", which includes no change)" if effect.direction == "uncertain" else ")")
                    if effect.runtime_low_ms is not None and effect.runtime_high_ms is not None else "")
        rows.append(f"{value:>12}: {units.duration(effect.runtime_after_ms)}{interval}{notes}")
    return (rows, uncertain) if len(rows) > 1 else ([], 0)


def candidate_values(key: str, current: str | None, wanted: list[str], cores: int) -> list[str]:
    """A handful of values worth comparing: the current one (or Spark's default), the `wanted` ones (recommended or
    asked about), and steps around them."""
    if key == "spark.sql.adaptive.enabled":
        return ["true", "false"]
    if key == "spark.sql.shuffle.partitions":
        now = int(current) if current and current.isdigit() else 200
        counts = {now, now // 2, now * 2, cores, cores * 2, cores * 4, 200} | {int(v) for v in wanted if v.isdigit()}
        return _around([str(n) for n in sorted(c for c in counts if c >= 1)], str(now), wanted)
    if key == "spark.sql.autoBroadcastJoinThreshold":
        return _by_size([current or "10MB", "-1", "10MB", "100MB", *wanted], default_unit="b")
    if key == "spark.memory.fraction":
        return sorted(dict.fromkeys(["0.3", "0.6", "0.8", *wanted, current or "0.6"]), key=float)
    if key == "spark.executor.memory":
        now = parse_size(current or "1g", default_unit="m")
        if not now:
            return []
        return _by_size([current or "1g", f"{round(now / 2 / 2**20)}m", f"{round(now * 2 / 2**20)}m", *wanted],
                        default_unit="m")
    return []


def _by_size(values: list[str], default_unit: str) -> list[str]:
    """Spark sizes in ascending order, one spelling per size (the first given); -1 (off) first."""
    by_bytes: dict[float, str] = {}
    for value in values:
        size = -1.0 if value.strip() == "-1" else parse_size(value, default_unit)
        if size is not None:
            by_bytes.setdefault(size, value)
    return [by_bytes[size] for size in sorted(by_bytes)]


def _around(values: list[str], now: str, keep: list[str]) -> list[str]:
    """At most MAX_CANDIDATES values, the ones nearest to the current one, always keeping it and the recommended ones."""
    if len(values) <= MAX_CANDIDATES:
        return values
    position = values.index(now)
    nearest = sorted(values, key=lambda v: abs(values.index(v) - position))
    chosen = set(keep) | {now}
    for value in nearest:
        if len(chosen) >= MAX_CANDIDATES:
            break
        chosen.add(value)
    return [v for v in values if v in chosen]
