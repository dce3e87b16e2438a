"""Does the code advice work? Run a problem workload as it is and with the code change its finding recommends.

`evals.advice` applies config lines; the findings whose fix is in the code (pass the schema, sortWithinPartitions
instead of a total order, cluster the files, a built-in instead of a UDF, persist or not, cut a join's duplicate
keys, repartition instead of coalesce, split a JDBC read, count DISTINCT columns apart) are checked here. Each
workload named in `FIXES` runs interleaved, as it is and fixed (`fixed=True`: the same data through the changed
code), after one warm-up run of the shared JVM; both logs are diagnosed. Reported: whether the finding's rule still
fires, the time jobs were running (the part of the run the code change can touch: the data each workload generates
in Python comes before), and the summed duration of the SQL executions the finding named. Thresholds are lowered per
workload so the rule fires on runs this small.

    python -m evals.code_fixes                            # every workload in FIXES (a few minutes on 2 cores)
    python -m evals.code_fixes --only inferred_schema     # some of them
"""

from __future__ import annotations

import statistics
import sys

from pydantic import BaseModel, Field

from evals.advice import command, run
from evals.workloads.problems import WORKLOADS
from tools.eventlog.model import AppProfile, executions_with_jobs
from tools.rules import RuleThresholds, diagnose

# workload -> the rule whose code change `fixed=True` applies, and the thresholds that let it fire on a run this
# small (the point is the fix, not the floor: 5 s of inference, 1 GiB of scanned files)
FIXES: dict[str, tuple[str, dict[str, float]]] = {
    "inferred_schema": ("schema_inference_pass", {"schema_inference_min_ms": 1_000}),
    "sorted_aggregate": ("global_sort_sampling", {"sort_sample_min_ms": 1_000}),
    "unclustered_filter": ("selective_filter_full_scan", {"selective_scan_min_bytes": 1e8}),
    "python_row_udf": ("python_udf_row_at_a_time", {}),
    "cache_read_once": ("cache_not_reused", {}),
    "exploding_join": ("join_row_explosion", {}),
    "repeated_read": ("input_read_repeatedly", {"repeated_read_min_bytes": 1e8}),
    "coalesced_write": ("idle_cores_few_tasks", {}),
    "jdbc_one_partition": ("idle_cores_few_tasks", {}),
    "expanded_aggregates": ("aggregate_copies_rows", {}),
    "dataframe_through_rdd": ("dataframe_rows_through_python_rdd", {}),
    "filter_loop": ("input_read_repeatedly", {"repeated_read_min_bytes": 1e8}),
    "nested_loop_joins": ("cartesian_join", {}),
    "skewed_outer_join": ("stage_task_skew", {}),
    "exploded_regroup": ("exploded_rows_regrouped", {}),
    "limit_sample": ("single_partition_shuffle", {}),
    "repartition_then_group": ("repartition_reshuffled", {}),
    "skewed_group_apply": ("stage_task_skew", {}),
    "multiline_json": ("idle_cores_few_tasks", {}),
    "udf_partition_filter": ("udf_partition_filter", {}),
    "union_of_filters": ("union_rereads_input", {}),
    "overpartitioned_write": ("small_output_files", {}),
    "cached_then_filtered": ("cache_before_partition_filter", {"cached_partitions_min_task_ms": 1_000}),
    "cached_wide_table": ("cache_unused_columns", {}),
    "summary_recomputed": ("shuffle_work_recomputed", {"recomputed_min_task_ms": 1_000}),
    "iterative_ranks": ("shuffle_work_recomputed", {"recomputed_min_task_ms": 1_000}),
    "latest_by_self_join": ("latest_row_self_join", {"self_join_min_task_ms": 500}),
}


class FixResult(BaseModel):
    workload: str
    rule_id: str
    change: str  # what `fixed=True` does, from the workload's docstring
    fires_before: int
    fires_after: list[int]  # per fixed run
    job_s_before: list[float] = Field(default_factory=list)  # time with a job running, per run
    job_s_after: list[float] = Field(default_factory=list)
    named_sql_s_before: list[float] = Field(default_factory=list)  # the finding's SQL executions, per run
    named_sql_s_after: list[float] = Field(default_factory=list)

    @property
    def resolved(self) -> bool:
        return all(after < self.fires_before for after in self.fires_after)


def _sql_s(profile: AppProfile, positions: list[int]) -> float:
    """Summed duration of the executions at these positions among those that ran jobs (execution ids go on counting
    from one run to the next in the shared JVM; the workload's order of queries does not change)."""
    executions = executions_with_jobs(profile.sql_executions)
    return sum((executions[i].duration_ms or 0) for i in positions if i < len(executions)) / 1000


def check_fix(name: str, repeat: int = 2) -> FixResult:
    """Workload `name` as it is and fixed, `repeat` times each, interleaved."""
    rule_id, overrides = FIXES[name]
    thresholds = RuleThresholds(**overrides)
    before: list[AppProfile] = []
    after: list[AppProfile] = []
    for i in range(repeat):
        before.append(run(name, [], f"as-is-{i}"))
        after.append(run(name, [], f"fixed-{i}", fixed=True))
    found = [f for f in diagnose(before[0], thresholds) if f.rule_id == rule_id]
    ids = [x.execution_id for x in executions_with_jobs(before[0].sql_executions)]
    named = sorted({ids.index(x) for f in found for x in f.sql_execution_ids if x in ids})
    doc = WORKLOADS[name][0].__doc__ or ""
    return FixResult(
        workload=name, rule_id=rule_id, change=" ".join(doc.split("`fixed`:", 1)[-1].split()) if "`fixed`" in doc else "",
        fires_before=len(found),
        fires_after=[sum(f.rule_id == rule_id for f in diagnose(p, thresholds)) for p in after],
        job_s_before=[(p.executor_time_ms or 0) / 1000 for p in before],
        job_s_after=[(p.executor_time_ms or 0) / 1000 for p in after],
        named_sql_s_before=[_sql_s(p, named) for p in before] if named else [],
        named_sql_s_after=[_sql_s(p, named) for p in after] if named else [],
    )


def check_fixes(names: list[str], repeat: int = 2) -> list[FixResult]:
    run(names[0], [], "warm-up")  # the first run in a process also starts the JVM
    return [check_fix(name, repeat) for name in names]


def _runs(values: list[float]) -> str:
    return " / ".join(f"{v:.1f}" for v in values) + (f" (median {statistics.median(values):.1f})" if len(values) > 1 else "")


def markdown(results: list[FixResult]) -> str:
    lines = ["| workload | finding (rule) | code change | rule fires as is -> fixed | job time s as is -> fixed | "
             "named SQL executions s as is -> fixed |", "|---|---|---|---|---|---|"]
    for r in results:
        named = f"{_runs(r.named_sql_s_before)} -> {_runs(r.named_sql_s_after)}" if r.named_sql_s_before else "-"
        lines.append(f"| {r.workload} | {r.rule_id} | {r.change} | {r.fires_before} -> "
                     f"{', '.join(map(str, r.fires_after))} | {_runs(r.job_s_before)} -> {_runs(r.job_s_after)} | {named} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return command(__doc__.splitlines()[0], list(FIXES), check_fixes, markdown, argv, "runs of each variant (interleaved)")

if __name__ == "__main__":
    sys.exit(main())
