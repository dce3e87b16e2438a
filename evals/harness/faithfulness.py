"""Faithfulness of a written report: every number and config value in its prose must trace to evidence.

Evidence is what the tools measured: the report's structured fields (findings'
evidence, config changes, savings, what-if, costs, app summary) and the parsed
profiles of the analysed logs. Prose is everything a reader reads: headline,
narrative, finding titles, explanations, recommendations and the config lines.
A number matches when it equals an evidence value at the precision written,
after converting its unit (ms/s/min/h, B/KiB/MiB/GiB/TiB, %).
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from pydantic import BaseModel, Field

from evals.harness.adapt import as_plain, is_number

UNIT_FACTORS: dict[str, float] = {
    "ms": 1.0, "s": 1e3, "sec": 1e3, "secs": 1e3, "second": 1e3, "seconds": 1e3,
    "min": 6e4, "mins": 6e4, "minute": 6e4, "minutes": 6e4,
    "h": 3.6e6, "hr": 3.6e6, "hrs": 3.6e6, "hour": 3.6e6, "hours": 3.6e6, "core-hours": 3.6e6, "core-h": 3.6e6,
    "b": 1.0, "bytes": 1.0, "kib": 1024.0, "kb": 1024.0, "mib": 1024.0**2, "mb": 1024.0**2,
    "gib": 1024.0**3, "gb": 1024.0**3, "tib": 1024.0**4, "tb": 1024.0**4,
    "x": 1.0, "%": 1.0,
    "gb-h": 3.6e6,  # memory over time: evidence holds GB-ms
}
_UNITS = "|".join(sorted((re.escape(u) for u in UNIT_FACTORS), key=len, reverse=True))
NUMBER = re.compile(
    rf"(?<![\w.])(\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)(?!\.\d)(?:\s?({_UNITS}))?(?![\w%])",
    re.IGNORECASE,
)
CONFIG = re.compile(
    r"(?<![\w.])(spark\.[A-Za-z0-9_.\-]*[A-Za-z0-9])"
    r"(?:\s*(?:=|\bto\b|->|→)\s*`?\"?([^\s`\",;()]*[^\s`\",;().:!?'])|\"\s*,\s*\"([^\"]*)\")?"
)
# Small unitless integers are ordinals and counts of the report itself ("top 3", "2 findings").
SMALL_INTEGER = 10


class Claim(BaseModel):
    """One number or config value stated in the report's prose, and whether evidence supports it."""

    field: str  # where it was written, e.g. "findings[2].explanation"
    text: str
    kind: str  # "number" | "config"
    supported: bool


class Evidence(BaseModel):
    numbers: list[float] = Field(default_factory=list)  # sorted
    config_values: dict[str, set[str]] = Field(default_factory=dict)  # key -> values known (lower-case)

    def has_number(self, value: float, tolerance: float) -> bool:
        i = bisect.bisect_left(self.numbers, value - tolerance)
        return i < len(self.numbers) and self.numbers[i] <= value + tolerance


PROSE_FIELDS = {"headline", "narrative", "answer", "explanation", "title", "summary", "code_change", "conf_flags", "conf_set_lines"}


def _numbers_in(value: Any, out: list[float], config: dict[str, set[str]], key: str = "") -> None:
    if is_number(value):
        out.append(float(value))
    elif isinstance(value, str):
        for match in NUMBER.finditer(value):
            out.append(float(match.group(1).replace(",", "")))
        for match in config_mentions(value):
            _add_config(config, match.group(1), match.group(2) or match.group(3))
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in PROSE_FIELDS:
                _numbers_in(v, out, config, k)
    elif isinstance(value, list):
        for v in value:
            _numbers_in(v, out, config, key)


def config_mentions(text: str) -> list[re.Match[str]]:
    """Config keys (with a value when one is written next to them); `spark.conf.set(` and other calls are code."""
    return [m for m in CONFIG.finditer(text) if not text[m.end(1) : m.end(1) + 1] == "("]


def _add_config(config: dict[str, set[str]], key: str, value: Any) -> None:
    values = config.setdefault(key, set())
    if value is not None:
        values.add(str(value).strip().lower())


def build_evidence(report: Any, profiles: list[Any]) -> Evidence:
    """Every measured number and every known config key/value behind one report."""
    numbers: list[float] = []
    config: dict[str, set[str]] = {}
    plain = as_plain(report)
    _numbers_in({k: v for k, v in plain.items() if k not in ("generated_at", "schema_version")}, numbers, config)
    for item in plain.get("findings", []):
        finding = item.get("finding", {})
        numbers.extend(float(len(finding.get(key, []))) for key in ("stage_ids", "executor_ids"))
        for change in finding.get("recommendation", {}).get("config_changes", []):
            _add_config(config, change["key"], change.get("value"))
            _add_config(config, change["key"], change.get("current"))
    numbers.append(float(len(plain.get("findings", []))))
    for profile in profiles:
        # Raw duration samples are left out: hundreds of values would let almost any number "match".
        profile_plain = as_plain(profile)
        for stage in profile_plain.get("stages", []):
            stage.pop("duration_sample_ms", None)
        _numbers_in(profile_plain, numbers, config)
        for section in ("spark_properties", "hadoop_properties", "system_properties"):
            for key, value in (profile_plain.get(section) or {}).items():
                _add_config(config, key, value)
    _add_derived(plain, numbers)
    return Evidence(numbers=sorted(numbers), config_values=config)


def _add_derived(plain: dict[str, Any], numbers: list[float]) -> None:
    """Quantities a faithful writer may derive in one step: totals of the findings' savings, relative runtime change."""
    savings = [item.get("finding", {}).get("estimated_savings") or {} for item in plain.get("findings", [])]
    for field in ("core_ms", "wall_ms", "memory_gb_ms", "cost"):
        numbers.append(float(sum(s.get(field) or 0.0 for s in savings)))
    for item in plain.get("findings", []):
        effect = item.get("predicted_effect") or {}
        before, after = effect.get("runtime_before_ms"), effect.get("runtime_after_ms")
        if is_number(before) and is_number(after) and before:
            numbers.extend([(before - after) / before, after / before, before / after if after else 0.0])


def _tolerance(written: str, factor: float, value: float) -> float:
    decimals = len(written.split(".")[1]) if "." in written else 0
    return max(0.5 * 10**-decimals * factor, 0.01 * abs(value), 1e-9)


def number_supported(written: str, unit: str | None, evidence: Evidence) -> bool:
    raw = float(written.replace(",", ""))
    unit_key = (unit or "").lower()
    if not unit_key and raw.is_integer() and raw <= SMALL_INTEGER:
        return True
    factor = UNIT_FACTORS.get(unit_key, 1.0)
    candidates = [(raw * factor, factor)]
    if unit_key == "%":
        candidates.append((raw / 100.0, 0.01))
    if unit_key in ("b", "kb", "mb", "gb", "tb"):  # decimal units written as KB/MB/GB
        candidates.append((raw * 1000.0 ** ("b", "kb", "mb", "gb", "tb").index(unit_key), 1000.0))
    return any(evidence.has_number(value, _tolerance(written, f, value)) for value, f in candidates)


def config_supported(key: str, value: str | None, evidence: Evidence) -> bool:
    known = evidence.config_values.get(key)
    if known is None:
        return False
    return value is None or value.strip().rstrip(".:!?'").lower() in known


def prose_fields(report: Any) -> list[tuple[str, str]]:
    """(where, text) for everything a reader reads."""
    plain = as_plain(report)
    out = [(name, plain.get(name) or "") for name in ("headline", "narrative", "answer")]
    for i, item in enumerate(plain.get("findings", [])):
        finding = item.get("finding", {})
        recommendation = finding.get("recommendation", {})
        out += [
            (f"findings[{i}].title", finding.get("title") or ""),
            (f"findings[{i}].explanation", item.get("explanation") or ""),
            (f"findings[{i}].recommendation.summary", recommendation.get("summary") or ""),
            (f"findings[{i}].recommendation.code_change", recommendation.get("code_change") or ""),
        ]
        out += [(f"findings[{i}].conf_flags", line) for line in item.get("conf_flags", [])]
        out += [(f"findings[{i}].conf_set_lines", line) for line in item.get("conf_set_lines", [])]
    return [(where, text) for where, text in out if text]


def check_faithfulness(report: Any, profiles: list[Any]) -> list[Claim]:
    """Every number and config key/value in the prose, each marked supported or not."""
    evidence = build_evidence(report, profiles)
    claims: list[Claim] = []
    for where, text in prose_fields(report):
        for match in config_mentions(text):
            key, value = match.group(1), match.group(2) or match.group(3)
            supported = config_supported(key, value, evidence)
            claims.append(Claim(field=where, text=match.group(0).strip(), kind="config", supported=supported))
        without_config = CONFIG.sub(" ", text)
        for match in NUMBER.finditer(without_config):
            supported = number_supported(match.group(1), match.group(2), evidence)
            claims.append(Claim(field=where, text=match.group(0).strip(), kind="number", supported=supported))
    return claims
