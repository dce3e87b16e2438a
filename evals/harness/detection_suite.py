"""The detection suite: the rules engineer's `score_detection` over the labeled cases."""

from __future__ import annotations

from evals.harness.cases import detection_module, load_cases
from evals.harness.registry import SuiteContext
from evals.harness.scorecard import Metric, ResultTable, SuiteResult

COLUMNS = ["category", "TP", "FP", "FN", "TN", "precision", "recall", "F1"]


def _row(name: str, cell) -> list:
    return [name, cell.true_positives, cell.false_positives, cell.false_negatives, cell.true_negatives,
            cell.precision, cell.recall, cell.f1]


def run_detection(context: SuiteContext) -> SuiteResult:
    cases = load_cases(context.cases_dir)  # a malformed case set fails here, with the file named
    score = detection_module().score_detection(context.cases_dir, progress=context.advance)
    overall = score.overall
    values = {"precision": overall.precision, "recall": overall.recall, "f1": overall.f1}
    metrics = [Metric(name=name, value=value) for name, value in values.items() if value is not None]
    metrics += [
        Metric(name="cases_passed", value=score.cases_passed / len(score.cases)),
        Metric(name="false_negatives", value=overall.false_negatives, better="lower", unit="count"),
        Metric(name="false_positives", value=overall.false_positives, better="lower", unit="count"),
    ]
    table = ResultTable(
        title="per category",
        columns=COLUMNS,
        rows=[_row(name, cell) for name, cell in score.per_category.items()] + [_row("overall", overall)],
    )
    return SuiteResult(
        suite="detection", status="ok", items=len(cases), metrics=metrics, tables=[table], misses=list(score.misses),
        notes=[f"{score.cases_passed}/{len(score.cases)} cases fully passed"],
    )
