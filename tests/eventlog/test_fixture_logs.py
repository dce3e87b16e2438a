"""Every public event log bundled with the repository (and in ../shared) profiles cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.eventlog import discover_applications, load_profile

FIXTURES = Path(__file__).parents[1] / "fixtures" / "eventlogs"
FIXTURE_REFS = discover_applications(FIXTURES)


def test_discovery_finds_every_bundled_application():
    listed = {line.split("\t")[0] for line in (FIXTURES / "SOURCES.tsv").read_text().splitlines()[1:]}
    logs = {p for p in listed if not p.startswith("corpus/") and "appstatus_" not in p}
    rolling_parts = {p for p in logs if "/eventlog_v2_" in p}
    expected = len(logs - rolling_parts) + len({p.rsplit("/", 1)[0] for p in rolling_parts})
    assert len(FIXTURE_REFS) == expected


@pytest.mark.parametrize("ref", FIXTURE_REFS, ids=[r.app_key for r in FIXTURE_REFS])
def test_fixture_log_profiles_without_error(ref):
    profile = load_profile(ref.path)
    assert profile.app_id
    assert profile.source is not None and profile.source.events > 0
    assert profile.source.bad_lines == 0
    assert profile.complete
    assert profile.total_tasks == sum(s.tasks_succeeded + s.tasks_failed + s.tasks_killed for s in profile.stages)
    for stage in profile.stages:
        d = stage.metrics.duration_ms
        if d is not None:
            assert d.count == len(stage.duration_sample_ms) or len(stage.duration_sample_ms) == 512
            assert d.min <= d.p25 <= d.median <= d.p75 <= d.p95 <= d.max


def test_every_shared_log_profiles_without_error(shared_eventlogs):
    refs = discover_applications(shared_eventlogs)
    assert refs
    for ref in refs:
        profile = load_profile(ref.path)
        assert profile.source.events > 0, ref.path
        assert profile.source.bad_lines == 0, ref.path
