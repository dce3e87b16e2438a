"""LLM-as-judge: a configured OpenAI-compatible model scores a report against a fixed rubric.

The report enters the prompt fenced as data. The verdict is four 1-5 marks; the
score is their mean mapped to 0..1. A verdict that cannot be parsed is an error
for that report, never a guessed score.
"""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, Field, ValidationError

from copilot.settings import LLMSettings
from graph.prompts import DATA_RULE, fence
from graph.report import Report

RUBRIC = f"""You grade performance-analysis reports about Spark applications written for data engineers.
Score each criterion from 1 (poor) to 5 (excellent):
- correctness: the diagnosis follows from the evidence shown (numbers, stages, configs); nothing contradicts it.
- evidence: every claim is backed by a measured number or a cited document.
- actionability: each problem comes with a concrete change (config key and value, or a code change) and its expected effect.
- clarity: a data engineer understands what to do first and why, without rereading.
{DATA_RULE}
Answer with one JSON object and nothing else:
{{"correctness": <1-5>, "evidence": <1-5>, "actionability": <1-5>, "clarity": <1-5>, "comment": "<one sentence>"}}"""

CRITERIA = ("correctness", "evidence", "actionability", "clarity")


class JudgeVerdict(BaseModel):
    correctness: int = Field(ge=1, le=5)
    evidence: int = Field(ge=1, le=5)
    actionability: int = Field(ge=1, le=5)
    clarity: int = Field(ge=1, le=5)
    comment: str = ""

    @property
    def score(self) -> float:
        """Mean mark mapped from 1..5 to 0..1."""
        return (sum(getattr(self, c) for c in CRITERIA) / len(CRITERIA) - 1.0) / 4.0


class JudgeError(Exception):
    """The judge answered with something that is not a verdict."""


def make_judge(llm: LLMSettings):
    """A ChatOpenAI client for the configured endpoint (temperature from settings, usually 0)."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=llm.model,
        base_url=llm.base_url,
        api_key=llm.api_key.get_secret_value() if llm.api_key else None,
        timeout=llm.timeout_s,
        max_retries=llm.max_retries,
        temperature=llm.temperature,
    )


def parse_verdict(text: str) -> JudgeVerdict:
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if match is None:
        raise JudgeError(f"no JSON object in the judge's answer: {text[:80]!r}")
    try:
        return JudgeVerdict.model_validate(json.loads(match.group(0)))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise JudgeError(f"the judge's answer is not a valid verdict: {str(exc).splitlines()[0]}") from None


def judge_report(chat_model, report: Report) -> JudgeVerdict:
    """Ask the judge model for a rubric verdict on one report."""
    from langchain_core.messages import HumanMessage, SystemMessage

    body = report.model_dump(mode="json", exclude={"apps": {"__all__": {"charts"}}})
    answer = chat_model.invoke([SystemMessage(RUBRIC), HumanMessage(fence("report", body))])
    content = answer.content if isinstance(answer.content, str) else json.dumps(answer.content)
    return parse_verdict(content)
