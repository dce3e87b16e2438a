"""The analysis graph's nodes: intake, route, rank, retrieve, synthesize, verify, finalize (or findings_report).

Nodes are thin: they decide which tool to call and merge results. They are built
by `make_nodes` over one run's configuration and LLM session.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langgraph.types import Send

from graph import adapters, prompts
from graph.adapters import ToolUnavailable
from graph.compose import build_report, evidence_digest, finding_of
from graph.config import GraphConfig
from graph.llm import LLMSession, LLMUnavailable
from graph.report import PredictedEffect, Report
from graph.specialists import BY_NAME, SPECIALISTS
from graph.state import AnalysisState, AppArtifacts, AppFinding, Question
from graph.topics import SLOWEST_STAGE, topic_of
from graph.units import count
from graph.verify import verify_report
from tools.errors import EventLogError
from tools.eventlog.model import AppProfile
from tools.findings import CONFIG_NAME, Finding
from tools.redact import redact_text
from tools.rules import RuleThresholds
from tools.rules.schema_inference import inference_jobs
from tools.rules.skipping import selective_scans

FINDINGS_ONLY_CAVEAT = ("findings-only analysis: no documentation was searched, so recommendations carry no "
                        "citations, and the summary is the template's")
CONFIG_MISSES = 3  # extra passages fetched per finding, so catalog entries of unrelated settings can be dropped
CODE_CHANGE_ESTIMATE = "rule estimate, for the code change"  # the rule estimated the code route, not the config lines

TOPIC_WORDS: dict[str, tuple[str, ...]] = {
    "skew": ("skew", "straggler", "slow task", "one task", "uneven", "hot key"),
    "partition": ("partition", "shuffle", "spill", "parallelism", "too many tasks", "small tasks"),
    "runtime": ("executor", "faster", "scale", "what if", "runtime", "gc", "memory", "driver", "slow"),
    "cost": ("cost", "cheaper", "money", "price", "$", "spend", "budget", "waste"),
    "delta": ("delta", "table", "small files", "file", "optimize", "z-order", "layout"),
    "metadata": ("config", "setting", "aqe", "serializer", "fail", "udf", "join", "distinct", "cube", "rollup"),
}


def parse_question(text: str | None) -> Question:
    """Stage ids, an executor count and the topics a question points at."""
    text = redact_text(text or "").strip()
    lower = text.lower()
    stages = [int(s) for s in re.findall(r"\bstages?\s+#?(\d+)", lower)]
    executors = re.search(r"(\d+)\s+executors?", lower)
    topics = [name for name, words in TOPIC_WORDS.items() if any(w in lower for w in words)]
    subject = topic_of(lower)
    if subject is not None and subject.name == "driver time":
        subject = None  # 'why is it taking so long?' is about the whole run: the top fix answers it
    return Question(text=text, stage_ids=stages, longest_stage=SLOWEST_STAGE.search(lower) is not None,
                    executors=int(executors.group(1)) if executors else None, topics=topics,
                    subject=subject.name if subject else None, categories=list(subject.categories) if subject else [],
                    rule_ids=list(subject.rules) if subject else [])


def max_task_ratio(profile: AppProfile) -> float:
    """Largest max/median task duration over stages with enough tasks to judge skew."""
    ratios = [s.metrics.duration_ms.max / s.metrics.duration_ms.median
              for s in profile.stages if s.metrics.duration_ms and s.metrics.duration_ms.count >= 4
              and s.metrics.duration_ms.median > 0]
    return max(ratios, default=0.0)


def mentions_delta(profile: AppProfile) -> bool:
    if profile.delta_configured():
        return True
    return any("delta" in (sql.physical_plan or "").lower() for sql in profile.sql_executions)


def choose_specialists(profiles: list[AppProfile], question: Question, table: str | None) -> dict[str, str]:
    """Which specialists run and why, from the profiles' signals and the question."""
    routes = {
        "metadata": "always: configuration, failures and plan-level issues",
        "runtime": "always: where the wall time goes and the executor what-if",
        "cost": "always: what the run cost and where money is wasted",
    }
    shuffled = sum(1 for p in profiles for s in p.stages if s.metrics.shuffle_read_bytes or s.metrics.shuffle_write_bytes)
    if shuffled or "partition" in question.topics:
        routes["partition"] = f"shuffled data in {count(shuffled, 'stage')}" if shuffled else "the question asks about partitioning"
    ratio = max((max_task_ratio(p) for p in profiles), default=0.0)
    if ratio >= 2 or "skew" in question.topics or question.stage_ids:
        routes["skew"] = (f"slowest task runs {ratio:.1f}x the median in some stage" if ratio >= 2
                          else "the question asks about specific stages or skew")
    if table:
        routes["delta"] = "a table path was given"
    elif any(mentions_delta(p) for p in profiles):
        routes["delta"] = "the plans read or write Delta tables"
    elif any(inference_jobs(p) for p in profiles):
        routes["delta"] = "readers inferred the schema of their input files"
    elif any(s.selectivity <= RuleThresholds().selective_scan_max_share for p in profiles
             for s in selective_scans(p.sql_executions)):
        routes["delta"] = "a filter kept a small share of the rows its file scan read"
    elif "delta" in question.topics:
        routes["delta"] = "the question asks about table layout"
    return routes


@dataclass
class Nodes:
    """The node functions of one run, closed over its configuration and LLM session."""

    config: GraphConfig
    session: LLMSession

    # ---------------------------------------------------------------- intake / route
    def intake(self, state: AnalysisState) -> dict:
        """Load every application of the given logs (profiles the caller already loaded are used as they are)."""
        profiles: list[AppProfile] = list(state.get("profiles") or [])
        for path in [] if profiles else state["logs"]:
            try:
                profiles += adapters.load_profiles(path, self.config)
            except ToolUnavailable as exc:
                raise EventLogError(f"cannot read {path}: {exc}") from exc
        if not profiles:
            raise EventLogError("no Spark application found in " + ", ".join(state["logs"]))
        caveats = [f"{p.app_id}: {w}" for p in profiles for w in p.warnings[:3]]
        caveats += [f"{p.app_id}: the log is incomplete (application still running or cut off); figures cover what was logged"
                    for p in profiles if not p.complete]
        question = state.get("question") or Question()
        return {"profiles": profiles, "question": question, "caveats": caveats}

    def route(self, state: AnalysisState) -> dict:
        return {"routes": choose_specialists(state["profiles"], state["question"], state.get("table"))}

    def fan_out(self, state: AnalysisState) -> list[Send]:
        """One Send per chosen specialist; categories of specialists not chosen go to metadata."""
        routes = state["routes"]
        orphaned = sorted({c for s in SPECIALISTS if s.name not in routes for c in s.categories})
        return [
            Send(f"specialist_{name}", {
                "name": name, "reason": reason, "profiles": state["profiles"], "question": state["question"],
                "table": state.get("table"), "extra_categories": orphaned if name == "metadata" else [],
            })
            for name, reason in routes.items() if name in BY_NAME
        ]

    # ---------------------------------------------------------------- rank / retrieve
    def rank(self, state: AnalysisState) -> dict:
        """Price the findings and predict each recommendation's effect on runtime."""
        profiles = {p.app_id: p for p in state["profiles"]}
        findings = state.get("findings") or []
        priced: list[AppFinding] = []
        caveats: list[str] = []
        for app_id, profile in profiles.items():
            mine = [f for f in findings if f.app_id == app_id]
            try:
                updated = adapters.price_findings([f.finding for f in mine], profile, self.config)
            except ToolUnavailable as exc:
                caveats.append(str(exc))
                updated = [f.finding for f in mine]
            priced += [item.model_copy(update={"finding": new}) for item, new in zip(mine, updated)]
        effects: dict[str, AppArtifacts] = {}
        model_missing = None
        for item in priced:
            profile = profiles[item.app_id]
            effect = finding_effect(item.finding, profile, self.config)
            if isinstance(effect, str):
                model_missing = effect
                continue
            if effect is not None:
                effects.setdefault(item.app_id, AppArtifacts(app_id=item.app_id)).effects[item.key] = effect
        if model_missing:
            caveats.append(f"runtime model: {model_missing}; predicted effects use the rules' estimates")
        return {"findings": [], "priced_findings": priced, "artifacts": effects, "caveats": caveats}

    def retrieve(self, state: AnalysisState) -> dict:
        """Citations per finding: the knowledge card for its category, then docs for its doc_query."""
        citations: dict[str, list] = {}
        caveats: list[str] = []
        k = self.config.citations_per_finding
        try:
            for item in state.get("priced_findings") or state.get("findings") or []:
                f = item.finding
                query = f.doc_query or f"{f.category.replace('_', ' ')} {f.title}"
                keys = [c.key for c in f.recommendation.config_changes if c.key not in query]
                query = " ".join([query, *keys])  # a key named in full brings its own catalog entry first
                named = set(CONFIG_NAME.findall(query))  # the settings it changes and the ones its rule looks up
                found = adapters.search(query, 1, {"kind": "card", "category": f.category}, self.config)
                found += _backing(adapters.search(query, k + CONFIG_MISSES, {"kind": ["docs", "config"]}, self.config),
                                  named)
                if not found:
                    found = _backing(adapters.search(query, k + CONFIG_MISSES, None, self.config), named)
                seen: set[tuple[str, str]] = set()
                citations[item.key] = [c for c in found if (c.source, c.heading) not in seen
                                       and not seen.add((c.source, c.heading))][:k]
        except ToolUnavailable as exc:
            caveats.append(f"citations unavailable: {exc}")
        return {"citations": citations, "caveats": caveats}

    # ---------------------------------------------------------------- synthesize / verify
    def synthesize(self, state: AnalysisState) -> dict:
        """Template report, then (with an LLM) the narrative rewritten by the model."""
        base = build_report({**state, "findings": state.get("priced_findings") or state.get("findings") or []})
        attempts = state.get("attempts", 0)
        if not self.session.available or attempts >= 2:
            return {"draft": base, "attempts": attempts}
        messages = [SystemMessage(prompts.synthesize_system()),
                    HumanMessage(prompts.synthesize_task(evidence_digest(base), base.question or ""))]
        violations = state.get("violations") or []
        if attempts == 1 and state.get("draft") is not None:
            previous = state["draft"]
            messages += [AIMessage(json.dumps({"headline": previous.headline, "summary": previous.narrative})),
                         HumanMessage(prompts.synthesize_retry(violations))]
        try:
            reply = self.session.invoke(messages)
        except LLMUnavailable:
            return {"draft": base, "attempts": 2}
        draft = apply_narrative(base, reply.content if isinstance(reply.content, str) else str(reply.content))
        draft.path = "llm" if attempts == 0 else "llm-retry"
        return {"draft": draft, "attempts": attempts + 1}

    def verify(self, state: AnalysisState) -> dict:
        draft = state["draft"]
        if draft.path == "template":
            return {"report": draft, "violations": []}
        violations = draft.verify_violations + verify_report(draft)
        if not violations:
            rejected = state.get("violations") or []  # what the first attempt got wrong, kept for the record
            return {"report": draft.model_copy(update={"verify_violations": rejected}), "violations": rejected}
        return {"violations": (state.get("violations") or []) + violations, "report": None}

    def after_verify(self, state: AnalysisState) -> str:
        if state.get("report") is not None:
            return "done"
        return "retry" if state.get("attempts", 0) < 2 else "template"

    def findings_report(self, state: AnalysisState) -> dict:
        """The fast depth's end: the template report straight after rank, without documentation or narrative."""
        report = build_report({**state, "findings": state.get("priced_findings") or state.get("findings") or []})
        report.caveats.append(FINDINGS_ONLY_CAVEAT)
        return {"report": report}

    def template(self, state: AnalysisState) -> dict:
        """Verify failed twice: the deterministic template report, with what was rejected noted."""
        base = build_report({**state, "findings": state.get("priced_findings") or state.get("findings") or []})
        base.verify_violations = list(dict.fromkeys(state.get("violations") or []))
        base.caveats.append("the LLM narrative did not pass verification twice; this is the template report")
        return {"report": base}


def _backing(citations: list, named: set[str]) -> list:
    """Passages that can back a finding: documentation, and the catalog entries of the settings it names (another
    setting's entry that merely shares words with the query, e.g. a barrier-scheduling key next to job failures,
    backs nothing the finding says)."""
    return [c for c in citations if c.kind != "config" or c.heading.rsplit(" > ", 1)[-1] in named]


def apply_narrative(base: Report, content: str) -> Report:
    """Put the model's JSON narrative into a copy of the report (unparseable output yields a violation)."""
    draft = base.model_copy(deep=True)
    data = _json_object(content)
    if data is None:
        draft.headline, draft.narrative = "", redact_text(content.strip())
        draft.verify_violations = ["the answer was not the requested JSON object"]
        return draft
    draft.headline = redact_text(str(data.get("headline") or base.headline))
    draft.narrative = redact_text(str(data.get("summary") or base.narrative))
    if base.question:
        draft.answer = redact_text(str(data.get("answer") or base.answer))
    explanations = data.get("findings") or {}
    if isinstance(explanations, dict):
        for key, text in explanations.items():
            item = finding_of(draft, str(key))
            if item is not None and text:
                item.explanation = redact_text(str(text))
    return draft


def _json_object(content: str) -> dict[str, Any] | None:
    match = re.search(r"\{.*\}", content, re.S)
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def finding_effect(finding: Finding, profile: AppProfile, config: GraphConfig) -> PredictedEffect | str | None:
    """The predicted effect of a finding's config changes on the run: the runtime model's prediction for the
    settings it covers, else the rule's own wall-time estimate; a string when the model failed and nothing
    else estimates the effect. None for a streaming application: it runs until stopped, so a change moves its
    micro-batches (the what-if caveat says so once), not its runtime."""
    if profile.streaming:
        return None
    changes = {c.key: c.value for c in finding.recommendation.config_changes if not c.value.startswith("<")}
    covered = adapters.predictable(changes)
    predicted, failure = None, None
    if covered:
        try:
            predicted = adapters.predict(profile, covered, config)
        except ToolUnavailable as exc:
            failure = str(exc)
    if predicted is not None:
        if len(covered) < len(changes):
            predicted.method += f" ({', '.join(covered)} only)"
        return predicted
    fallback = _rule_effect(finding, profile)
    return fallback if fallback is not None or failure is None else failure


def _rule_effect(finding: Finding, profile: AppProfile) -> PredictedEffect | None:
    wall = finding.estimated_savings.wall_ms
    if not wall or not profile.duration_ms:
        return None
    after = max(0.0, profile.duration_ms - wall)
    method = CODE_CHANGE_ESTIMATE if finding.estimated_savings.code_change_only else "rule estimate"
    return PredictedEffect(runtime_before_ms=profile.duration_ms, runtime_after_ms=after, method=method)


__all__ = ["CODE_CHANGE_ESTIMATE", "FINDINGS_ONLY_CAVEAT", "Nodes", "finding_effect", "parse_question", "choose_specialists"]
