"""Global sorts: the stage that computed a range exchange's input only to sample its sort keys."""

from __future__ import annotations

from tools.rules import RuleThresholds, diagnose
from tools.rules.registry import RuleContext
from tools.rules.sorting import sample_passes


def _sorting_findings(profile, thresholds: RuleThresholds | None = None):
    return [f for f in diagnose(profile, thresholds) if f.rule_id == "global_sort_sampling"]


def test_the_sampling_pass_of_a_global_sort_is_found_and_priced(profile_of):
    """spilling_sort (real PySpark 4.3 log, AQE off): orderBy over 2M computed rows. Job 0's one stage computes the
    rows and writes nothing; job 1's map stage computes them again and writes the range shuffle."""
    profile = profile_of("spilling_sort")
    passes = sample_passes(RuleContext(profile, RuleThresholds()))
    assert [(p.execution.execution_id, p.stage.stage_id, p.keys) for p in passes] == [(1, 0, "v, h")]
    sampled, writer = profile.stage(0), profile.stage(1)
    assert sampled.job_ids == [0] and writer.job_ids == [1]
    assert sampled.metrics.shuffle_write_bytes.sum == 0 < writer.metrics.shuffle_write_bytes.sum
    assert set(sampled.operators) < set(writer.operators)  # the same work, without the exchange write
    [finding] = _sorting_findings(profile)
    facts = {e.name: e.value for e in finding.evidence}
    assert (finding.stage_ids, finding.sql_execution_ids) == ([0], [1])
    assert facts["wall time of the sampling stages"] == sampled.duration_ms == finding.estimated_savings.wall_ms
    assert finding.estimated_savings.core_ms == sampled.metrics.executor_run_time_ms.sum
    rec = finding.recommendation
    assert not rec.config_changes and "SQL 1 (save) sorting by v, h: stage 0" in rec.summary
    assert "sortWithinPartitions(keys)" in rec.code_change and "persist" in rec.code_change


def test_with_aqe_a_sort_after_an_aggregation_samples_by_re_reading_the_shuffle(profile_of):
    """sorted_aggregate (real PySpark 4.3 log, AQE on): totals per key hashed after the shuffle, then orderBy the hash.
    The sampling stage reads the aggregation's shuffle and runs the final aggregate and hashing again; it writes
    nothing, and the range exchange's writer (stage 4) reads the same shuffle."""
    profile = profile_of("sorted_aggregate")
    [found] = sample_passes(RuleContext(profile, RuleThresholds()))
    assert (found.execution.execution_id, found.stage.stage_id, found.keys) == (0, 2, "fingerprint")
    sampled, writer = profile.stage(2), profile.stage(4)
    assert sampled.metrics.shuffle_read_bytes.sum == writer.metrics.shuffle_read_bytes.sum > 0
    assert sampled.metrics.shuffle_write_bytes.sum == 0 < writer.metrics.shuffle_write_bytes.sum
    assert any(n.name.startswith("ShuffleQueryStage") for n in found.execution.nodes)  # AQE's final plan
    [finding] = _sorting_findings(profile)
    assert finding.stage_ids == [2] and finding.severity.value == "moderate"  # 26% of the run


def test_small_sampling_passes_stay_under_the_floor(profile_of):
    """spread_spill: five sorts whose sampling passes take 3.7 s together; each is found, none is reported."""
    profile = profile_of("spread_spill")
    passes = sample_passes(RuleContext(profile, RuleThresholds()))
    assert [p.execution.execution_id for p in passes] == [0, 1, 2, 3, 4]
    assert sum(p.stage.duration_ms for p in passes) < RuleThresholds().sort_sample_min_ms
    assert not _sorting_findings(profile)
    [finding] = _sorting_findings(profile, RuleThresholds(sort_sample_min_ms=1000))
    assert finding.sql_execution_ids == [0, 1, 2, 3, 4] and "1 more sampling stage" in finding.recommendation.summary


def test_sorts_without_a_range_exchange_have_no_sampling_pass(profile_of):
    """A window with no partitionBy sorts in one partition (Exchange SinglePartition), a join sorts within hash
    partitions: neither samples."""
    for name in ("window_without_partition", "skewed_join", "healthy", "aqe_skew_split"):
        assert sample_passes(RuleContext(profile_of(name), RuleThresholds())) == [], name
