"""Rules engine: heuristics over an AppProfile that return ranked, evidence-carrying findings."""

from tools.rules.registry import RULES, Rule, diagnose, load_rules
from tools.rules.thresholds import RuleThresholds

__all__ = ["RULES", "Rule", "RuleThresholds", "diagnose", "load_rules"]
