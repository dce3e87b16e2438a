"""The config catalog of the installed Spark, extracted from a local JVM (slow: starts Spark once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.catalog import catalog_cache_path, catalog_documents, load_config_catalog
from knowledge.index import KnowledgeIndex

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def catalog_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("catalog_home")
    load_config_catalog(home)
    return home


def test_catalog_has_sql_and_core_configs_with_defaults_and_versions(catalog_home: Path) -> None:
    entries = {e.key: e for e in load_config_catalog(catalog_home).entries}
    assert entries["spark.sql.shuffle.partitions"].default == "200"
    assert entries["spark.sql.shuffle.partitions"].scope == "sql"
    assert entries["spark.executor.memory"].scope == "core" and entries["spark.executor.memory"].version
    assert "memory" in entries["spark.executor.memory"].meaning  # not every core key registers a doc string
    assert len(entries) > 500


def test_catalog_is_cached_so_the_jvm_starts_once(catalog_home: Path) -> None:
    cache = catalog_cache_path(catalog_home)
    stamp = cache.stat().st_mtime_ns
    load_config_catalog(catalog_home)
    assert cache.stat().st_mtime_ns == stamp


def test_one_chunk_per_config_key_is_searchable(catalog_home: Path, tmp_path: Path) -> None:
    catalog = load_config_catalog(catalog_home)
    wanted = [e for e in catalog.entries if e.key.startswith("spark.sql.adaptive.")]
    documents = catalog_documents(catalog.model_copy(update={"entries": wanted}))
    index = KnowledgeIndex.open(tmp_path / "chroma")
    report = index.ingest_documents(documents, scopes=["config:"])
    assert report.added_files == len(wanted) == report.chunks_added
    top = index.search("spark.sql.adaptive.skewJoin.skewedPartitionFactor", 1)[0]
    assert top.heading_path.endswith("spark.sql.adaptive.skewJoin.skewedPartitionFactor")
    assert "Default: 5.0" in top.text and top.kind == "config" and top.product == "spark"


def test_every_setting_the_rules_propose_exists_in_the_spark_that_wrote_the_log(catalog_home: Path) -> None:
    """A setting added after the application's Spark does nothing there (e.g. shuffle tracking, new in 3.0, was
    proposed to Spark 2.3 logs). Checked on every bundled log against the 'since' version Spark declares for it."""
    from tests.conftest import FIXTURES_DIR
    from tests.rules.conftest import public_logs
    from tools.eventlog import load_profile
    from tools.eventlog.model import spark_release
    from tools.rules import diagnose

    since = {e.key: spark_release(e.version) for e in load_config_catalog(catalog_home).entries if e.version}
    logs = [*public_logs(), *sorted((FIXTURES_DIR / "workloads").glob("*.zstd"))]
    checked, too_new = 0, []
    for log in logs:
        profile = load_profile(str(log))
        if profile.release == (0, 0):
            continue
        for finding in diagnose(profile):
            for change in finding.recommendation.config_changes:
                if change.key in since:
                    checked += 1
                    if since[change.key] > profile.release:
                        too_new.append((log.name, profile.spark_version, finding.rule_id, change.key, since[change.key]))
    assert checked > 50
    assert not too_new, too_new


def test_a_question_about_an_unset_key_is_answered_with_its_spelling_and_default_from_the_cached_catalog(
        catalog_home: Path, eventlog_fixtures: Path, tmp_path: Path) -> None:
    """The chat lower-cases questions: 'was spark.sql.adaptive.skewJoin.enabled set?' answered about
    'spark.sql.adaptive.skewjoin.enabled' with no default. The cached catalog spells it and gives the installed
    Spark's default, named as that release's (the log's Spark 3.3 may have had another); with no cached catalog
    the answer stays without a default and no JVM starts."""
    from graph.config import GraphConfig
    from graph.intents import answer_offline
    from graph.tools import Toolbox
    from knowledge.catalog import cached_entry, installed_spark_version
    from tools.eventlog import load_profile

    profile = load_profile(eventlog_fixtures / "NVIDIA__spark-rapids-tools" / "join_agg_on_yarn_eventlog.zstd")
    answer = answer_offline("was spark.sql.adaptive.skewJoin.enabled set?", Toolbox(profile, GraphConfig(home=catalog_home)))
    assert answer == (f"This run did not set spark.sql.adaptive.skewJoin.enabled (Spark's default applies; in Spark "
                      f"{installed_spark_version()} it is true).")
    empty = tmp_path / "no_catalog"
    assert cached_entry(empty, "spark.sql.adaptive.skewJoin.enabled") is None
    bare = answer_offline("was spark.sql.adaptive.skewJoin.enabled set?", Toolbox(profile, GraphConfig(home=empty)))
    assert bare == "This run did not set spark.sql.adaptive.skewjoin.enabled (Spark's default applies)."
    assert not (empty / "knowledge").exists()
