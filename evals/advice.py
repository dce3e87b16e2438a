"""Does the advice work? Apply each finding's config lines to the problem workload and run it again.

For every problem workload (`evals/workloads/problems.py`) this runs the workload as it is, diagnoses
its log, then runs it once more per finding with that finding's config changes applied, and measures
the run and the finding's own stages again: did the rule stop firing, did the run get faster (next to
the effect the report predicted for it), how did the stages the finding named change. It is the
measured counterpart of each finding's "saves" and "effect" lines.

    python -m evals.advice                      # every problem workload (several minutes on 2 cores)
    python -m evals.advice --only skewed_join   # some of them
    python -m evals.advice --json               # the results as JSON

Runs share one driver JVM (see `evals.workloads.runner`), so a setting the driver JVM reads at launch
(`spark.driver.memory`) cannot change between runs: such keys are left out of the run and listed, the
rest applied. The JVM is warmed with one run first. Single runs on a shared machine vary by several
percent; `--repeat` runs the observed configuration that many times to show by how much.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

from evals.workloads.problems import LOG_CONF, SPARK_DEFAULTS, WORKLOADS
from graph.config import GraphConfig
from graph.nodes import CODE_CHANGE_ESTIMATE, finding_effect
from graph.report import PredictedEffect
from evals.workloads.runner import LAUNCH_KEYS, run_workload
from tools.eventlog import load_profile
from tools.eventlog.model import AppProfile
from tools.findings import ConfigChange, Finding
from tools.rules import diagnose


class StageChange(BaseModel):
    """A stage the finding named: its tasks, longest task and largest task input (records read from storage or a
    shuffle) as observed and after the fix (None: no such stage, or not measured)."""

    stage_id: int
    tasks_before: int
    tasks_after: int | None
    longest_task_s_before: float | None
    longest_task_s_after: float | None
    largest_task_records_before: float | None = None
    largest_task_records_after: float | None = None


class AdviceResult(BaseModel):
    """One finding's config changes applied to its workload and measured."""

    workload: str
    rule_id: str
    title: str
    changes: list[str]
    checked: bool  # False when every change needs a new driver JVM
    reason: str = ""  # why it was not checked
    left_out: list[str] = Field(default_factory=list)  # keys read at driver JVM start: not applied
    run_s_observed: list[float] = Field(default_factory=list)  # each run as it is (their spread is the noise)
    run_s_after: float | None = None
    predicted_s_after: float | None = None  # the report's predicted effect, from the first observed run
    predicted_by: str = ""  # runtime model, simulation, rule estimate
    fires_before: int = 0  # findings of this rule in the observed run
    fires_after: int | None = None
    stages: list[StageChange] = Field(default_factory=list)

    @property
    def run_s_before(self) -> float:
        return statistics.median(self.run_s_observed)

    @property
    def resolved(self) -> bool | None:
        return None if self.fires_after is None else self.fires_after < self.fires_before


def applied(conf: dict[str, str], changes: list[ConfigChange]) -> dict[str, str]:
    """`conf` with the changes applied; a change to "unset" removes the key."""
    out = dict(conf)
    for change in changes:
        if change.value == "unset":
            out.pop(change.key, None)
        else:
            out[change.key] = change.value
    return out


def run(name: str, changes: list[ConfigChange], tag: str, fixed: bool = False) -> AppProfile:
    """Run problem workload `name` with `changes` applied to its configuration (and, with `fixed`, the code change
    its `fixed=True` applies); its profile."""
    function, spec = WORKLOADS[name]
    with tempfile.TemporaryDirectory(prefix=f"advice-{name}-") as tmp:
        conf = {k: v.format(workdir=tmp) for k, v in {**LOG_CONF, **SPARK_DEFAULTS, **spec.conf}.items()}
        log = run_workload(functools.partial(function, fixed=True) if fixed else function, Path(tmp) / "logs",
                           f"advice={name}/{tag}", conf=applied(conf, changes), master=spec.master, workdir=Path(tmp))
        return load_profile(str(log))


def task_extremes(profile: AppProfile, stage_id: int) -> tuple[int | None, float | None, float | None]:
    """A stage's task count, longest task (s) and most records one task read (input plus shuffle)."""
    stage = next((s for s in profile.stages if s.stage_id == stage_id), None)
    if stage is None:
        return None, None, None
    q = stage.metrics.duration_ms
    read = [r.max for r in (stage.metrics.input_records, stage.metrics.shuffle_read_records) if r is not None]
    return stage.num_tasks, (q.max / 1000 if q is not None else None), (max(read) if read else None)


def check_finding(name: str, finding: Finding, observed: list[AppProfile], fires_before: int) -> AdviceResult:
    changes = finding.recommendation.config_changes
    result = AdviceResult(
        workload=name, rule_id=finding.rule_id, title=finding.title, changes=[f"{c.key}={c.value}" for c in changes],
        checked=False, run_s_observed=[p.duration_ms / 1000 for p in observed], fires_before=fires_before,
    )
    result.left_out = [c.key for c in changes if c.key in LAUNCH_KEYS]
    applicable = [c for c in changes if c.key not in LAUNCH_KEYS]
    if not applicable:
        result.reason = "every change is read when the driver JVM starts; the runs share one JVM"
        return result
    effect = finding_effect(finding, observed[0], GraphConfig())
    if isinstance(effect, PredictedEffect) and effect.method == CODE_CHANGE_ESTIMATE:
        result.predicted_by = "the estimate is for the code change"
    elif isinstance(effect, PredictedEffect):
        # scaled to the median observed run, the baseline the measured run is read against
        result.predicted_s_after = effect.runtime_after_ms / effect.runtime_before_ms * result.run_s_before
        result.predicted_by = effect.method
    after = run(name, applicable, finding.rule_id)
    result.checked = True
    result.run_s_after = after.duration_ms / 1000
    result.fires_after = sum(f.rule_id == finding.rule_id for f in diagnose(after))
    for stage_id in finding.stage_ids:
        tasks_before, longest_before, records_before = task_extremes(observed[0], stage_id)
        tasks_after, longest_after, records_after = task_extremes(after, stage_id)
        result.stages.append(StageChange(stage_id=stage_id, tasks_before=tasks_before or 0, tasks_after=tasks_after,
                                         longest_task_s_before=longest_before, longest_task_s_after=longest_after,
                                         largest_task_records_before=records_before,
                                         largest_task_records_after=records_after))
    return result


def check_workload(name: str, repeat: int = 2) -> list[AdviceResult]:
    """Every finding with config changes on workload `name`, each applied and measured."""
    observed = [run(name, [], f"observed-{i}") for i in range(repeat)]
    findings = diagnose(observed[0])
    fired = Counter(f.rule_id for f in findings)
    return [check_finding(name, f, observed, fired[f.rule_id]) for f in findings if f.recommendation.config_changes]


def check_advice(names: list[str], repeat: int = 2) -> list[AdviceResult]:
    """Results for the named workloads, in order."""
    run(names[0], [], "warm-up")  # the first run in a process also starts the JVM
    return [result for name in names for result in check_workload(name, repeat)]


def markdown(results: list[AdviceResult]) -> str:
    lines = ["| workload | finding (rule) | config applied | run s observed (each run) -> after | predicted after (by) | "
             "rule fires observed -> after | named stages: tasks, longest task s |", "|---|---|---|---|---|---|---|"]
    for r in results:
        if not r.checked:
            lines.append(f"| {r.workload} | {r.rule_id} | {'; '.join(r.changes)} | not checked: {r.reason} | | | |")
            continue
        stages = "; ".join(
            f"{s.stage_id}: {s.tasks_before} -> {s.tasks_after if s.tasks_after is not None else 'gone'}, "
            f"{s.longest_task_s_before if s.longest_task_s_before is not None else '-'} -> "
            f"{s.longest_task_s_after if s.longest_task_s_after is not None else '-'}"
            for s in r.stages)
        observed = " / ".join(f"{t:.1f}" for t in r.run_s_observed)
        applied_text = "; ".join(c for c in r.changes if c.split("=", 1)[0] not in r.left_out)
        if r.left_out:
            applied_text += f" (not applied: {', '.join(r.left_out)}, read at driver JVM start)"
        predicted = (f"{r.predicted_s_after:.1f} ({r.predicted_by})" if r.predicted_s_after is not None
                     else f"none ({r.predicted_by})" if r.predicted_by else "none")
        lines.append(f"| {r.workload} | {r.rule_id} | {applied_text} | {observed} -> "
                     f"{r.run_s_after:.1f} | {predicted} | {r.fires_before} -> {r.fires_after} | {stages} |")
    return "\n".join(lines)


def command(description: str, names: list[str], check: Callable[[list[str], int], list], to_markdown: Callable[[list], str],
            argv: list[str] | None, repeat_help: str) -> int:
    """The command line of a workload check: `--only` some of `names`, `--repeat`, `--json` or a markdown table."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--only", nargs="*", choices=sorted(names), help="check only these workloads")
    parser.add_argument("--repeat", type=int, default=2, help=repeat_help)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = check(args.only or list(names), args.repeat)
    if args.json:
        print(json.dumps([r.model_dump() | {"resolved": r.resolved} for r in results], indent=2))
    else:
        print(to_markdown(results))
    return 0


def main(argv: list[str] | None = None) -> int:
    return command(__doc__.splitlines()[0], list(WORKLOADS), check_advice, markdown, argv,
                   "observed runs per workload (median used)")


if __name__ == "__main__":
    sys.exit(main())
