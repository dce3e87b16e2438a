"""Faithfulness check: every number, config key and key=value in the written text must be in the evidence.

A number matches when some evidence number equals it at the precision it is written
with (so "about 12 s" matches 12.3 s); version strings and config keys must appear
literally; a `key=value` must be a value the evidence gives for that key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from graph.compose import evidence_digest
from graph.report import Report

NUMBER = re.compile(r"(?<![\w.\-/:])[-+]?\$?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)*")
UNIT_AFTER = re.compile(r"\s?(ms|s|sec|seconds?|min|minutes?|h|hours?|B|KiB|MiB|GiB|TiB|KB|MB|GB|TB)\b")
UNIT_FACTOR = {"ms": 1, "s": 1000, "sec": 1000, "second": 1000, "seconds": 1000, "min": 60_000, "minute": 60_000,
               "minutes": 60_000, "h": 3_600_000, "hour": 3_600_000, "hours": 3_600_000, "B": 1, "KiB": 1024,
               "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
CONFIG_KEY = re.compile(r"\bspark\.[A-Za-z0-9_.\-]*[A-Za-z0-9_]")
KEY_VALUE = re.compile(r"\b(spark\.[A-Za-z0-9_.\-]*[A-Za-z0-9_])\s*(?:=|\bto\b|:)\s*[\"'`]?([A-Za-z0-9_.\-]+)")


def written_text(report: Report) -> list[tuple[str, str]]:
    """(where, text) pairs of everything the narrative writer produced."""
    parts = [("headline", report.headline), ("summary", report.narrative), ("answer", report.answer)]
    parts += [(f"finding {f.rank}", f.explanation) for f in report.findings]
    return [(where, text) for where, text in parts if text]


class Evidence:
    """The facts a report may state, indexed for lookups."""

    def __init__(self, report: Report):
        structured = report.model_dump(mode="json", exclude={"headline", "narrative", "answer", "verify_violations"})
        for f in structured["findings"]:
            f.pop("explanation", None)
        self.text = evidence_digest(report) + "\n" + json.dumps(structured)
        self.numbers = {abs(v) for v in _numbers(self.text)}
        self.numbers |= {float(len(report.findings)), float(len(report.apps)), 100.0}
        self.numbers |= {float(f.rank) for f in report.findings}
        self.keys = set(CONFIG_KEY.findall(self.text))
        self.values: dict[str, set[str]] = {}
        for f in report.findings:
            for c in f.finding.recommendation.config_changes:
                self.values.setdefault(c.key, set()).update(v for v in (c.value, c.current) if v)

    def has_number(self, written: str, unit: str | None = None) -> bool:
        """True when an evidence number equals `written` at its precision, as written or (with a unit) in base units."""
        if written.count(".") > 1:  # a version string such as 3.5.1
            return written in self.text
        value = abs(float(written.replace(",", "").replace("$", "")))
        decimals = len(written.split(".")[1]) if "." in written else 0
        tolerance = 0.5 * 10 ** (-decimals) + 1e-9
        if any(abs(value - e) <= tolerance for e in self.numbers):
            return True
        factor = UNIT_FACTOR.get(unit or "")
        return factor is not None and any(abs(value * factor - e) <= tolerance * factor for e in self.numbers)


def _numbers(text: str) -> Iterable[float]:
    for match in NUMBER.finditer(text):
        token = match.group(0).replace(",", "").replace("$", "")
        if token.count(".") > 1:
            continue
        try:
            yield float(token)
        except ValueError:
            continue


def verify_report(report: Report) -> list[str]:
    """The violations in the report's written text (empty when faithful)."""
    evidence = Evidence(report)
    violations: list[str] = []
    for where, text in written_text(report):
        for key, value in KEY_VALUE.findall(text):
            allowed = evidence.values.get(key, set())
            if value not in allowed and f"{key}={value}" not in evidence.text and f'"{key}": "{value}"' not in evidence.text:
                violations.append(f'{where}: "{key}={value}" is not a value the evidence gives for {key}')
        for key in set(CONFIG_KEY.findall(text)):
            if key not in evidence.keys:
                violations.append(f'{where}: config key "{key}" is not in the evidence')
        stripped = CONFIG_KEY.sub(" ", text)
        for match in NUMBER.finditer(stripped):
            token = match.group(0)
            unit = UNIT_AFTER.match(stripped, match.end())
            if not evidence.has_number(token.lstrip("+-"), unit.group(1) if unit else None):
                violations.append(f'{where}: number "{token}" is not in the evidence')
    return list(dict.fromkeys(violations))
