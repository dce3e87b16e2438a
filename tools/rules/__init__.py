"""Rules engine: heuristics over an AppProfile that return ranked, evidence-carrying findings.

`RuleThresholds` is imported eagerly (settings need it, and it is light); the registry and the rules
load on first use of `diagnose`, `load_rules`, `RULES` or `Rule`, so reading settings stays fast.
"""

from tools.rules.thresholds import RuleThresholds

__all__ = ["RULES", "Rule", "RuleThresholds", "diagnose", "load_rules"]


def __getattr__(name: str):
    if name in ("RULES", "Rule", "diagnose", "load_rules"):
        from tools.rules import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'tools.rules' has no attribute {name!r}")
