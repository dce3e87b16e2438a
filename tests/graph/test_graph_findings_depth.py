"""`graph.analyze(depth="findings")`: the full graph's findings, effects and what-if, without the knowledge base."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from llm_doubles import ScriptedChatModel
from pydantic import Field

import graph
from graph.graph import compiled_graph
from graph.nodes import FINDINGS_ONLY_CAVEAT
from graph.report import Report
from shared_index import isolated_env

LOGS = (
    "NVIDIA__spark-rapids-tools/join_agg_on_yarn_eventlog.zstd",  # skew, 10 executors, a runtime-model effect
    "apache__spark/spark-events/application_1538416563558_0014",
    "NVIDIA__spark-rapids-tools/python_udf_eventlog",
)


def _findings(report: Report) -> list[tuple]:
    return [
        (f.rank, f.app_id, f.specialist, f.finding.rule_id, f.finding.severity, f.finding.stage_ids,
         [e.model_dump() for e in f.finding.evidence], f.finding.estimated_savings.model_dump(),
         f.predicted_effect.model_dump() if f.predicted_effect else None, f.conf_flags)
        for f in report.findings
    ]


@pytest.fixture(scope="module")
def both_depths(eventlog_fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Report, Report]]:
    with isolated_env(tmp_path_factory):
        return {
            name: (graph.analyze([str(eventlog_fixtures / name)]),
                   graph.analyze([str(eventlog_fixtures / name)], depth="findings"))
            for name in LOGS
        }


@pytest.mark.parametrize("name", LOGS)
def test_findings_depth_has_the_full_analysis_findings_effects_and_what_if(both_depths, name: str) -> None:
    full, fast = both_depths[name]
    assert fast.findings, "each of these logs has findings"
    assert _findings(fast) == _findings(full)
    assert [a.model_dump(exclude={"charts"}) for a in fast.apps] == [a.model_dump(exclude={"charts"}) for a in full.apps]
    assert [s.name for s in fast.specialists] == [s.name for s in full.specialists]


def test_findings_depth_carries_no_citations_and_says_so(both_depths) -> None:
    full, fast = both_depths[LOGS[0]]
    assert any(f.citations for f in full.findings)
    assert not any(f.citations for f in fast.findings)
    assert FINDINGS_ONLY_CAVEAT in fast.caveats and FINDINGS_ONLY_CAVEAT not in full.caveats
    assert fast.path == "template" and fast.headline == full.headline


def test_findings_depth_never_opens_the_knowledge_index(eventlog_fixtures: Path, tmp_path: Path) -> None:
    """In a fresh process with a COPILOT_HOME that has no index: no Chroma, no embedding model, no index written."""
    home = tmp_path / "home"
    script = (
        "import json, sys, graph\n"
        f"r = graph.analyze([{str(eventlog_fixtures / LOGS[0])!r}], depth='findings')\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'chromadb', 'knowledge', 'onnxruntime', "
        "'sentence_transformers', 'tokenizers'})\n"
        "print(json.dumps({'findings': len(r.findings), 'loaded': loaded}))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COPILOT_HOME": str(home),
           "COPILOT_CHROMA_DIR": str(home / "chroma"), "PYTHONPATH": str(Path(__file__).parents[2])}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["findings"] > 0
    assert out["loaded"] == []
    assert not (home / "chroma").exists()


def test_the_compiled_graph_is_shared_and_concurrent_runs_keep_their_own_logs(eventlog_fixtures: Path) -> None:
    assert compiled_graph("findings") is compiled_graph("findings")
    assert compiled_graph("findings") is not compiled_graph("full")
    paths = [str(eventlog_fixtures / name) for name in LOGS] * 2
    with ThreadPoolExecutor(max_workers=3) as pool:
        reports = list(pool.map(lambda p: graph.analyze([p], depth="findings"), paths))
    for path, report in zip(paths, reports):
        assert [a.log_path for a in report.apps] == [path]
    assert _findings(reports[0]) == _findings(reports[len(LOGS)])


def test_an_unknown_depth_is_refused(eventlog_fixtures: Path) -> None:
    with pytest.raises(ValueError, match="unknown analysis depth"):
        graph.analyze([str(eventlog_fixtures / LOGS[0])], depth="deep")


class ToolRecordingModel(ScriptedChatModel):
    """The scripted model, also recording the tool names each call was offered."""

    offered: list[list[str]] = Field(default_factory=list)

    def bind_tools(self, tools, **kwargs) -> ToolRecordingModel:
        self.offered.append(sorted(t.name for t in tools))
        return self


def test_with_an_llm_the_findings_depth_offers_no_documentation_search_and_writes_no_narrative(yarn_log: str) -> None:
    model = ToolRecordingModel()
    report = graph.analyze([yarn_log], llm=model, depth="findings")
    assert {s.mode for s in report.specialists} == {"llm"}
    assert model.offered and all("search_docs" not in names for names in model.offered)
    assert any("diagnose" in names for names in model.offered)
    assert report.path == "template" and FINDINGS_ONLY_CAVEAT in report.caveats
    assert not any("narrative of a Spark performance report" in str(p[0].content) for p in model.prompts)
    full_model = ToolRecordingModel()
    graph.analyze([yarn_log], llm=full_model, depth="full")
    assert any("search_docs" in names for names in full_model.offered)
