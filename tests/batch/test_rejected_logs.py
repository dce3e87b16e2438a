"""Log-like files that are not readable logs (corrupt, truncated, wrongly compressed) are failures with reasons, never dropped."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from copilot.batch import run_batch
from copilot.store import Store
from tools.eventlog import discover_applications
from tools.eventlog.storage import discover, named_like_log

GOOD = (
    "apache__spark/spark-events/application_1538416563558_0014",
    "qubole__sparklens/local-1532512550423",
    "NVIDIA__spark-rapids-tools/dsAndDf_eventlog.zstd",
    "NVIDIA__spark-rapids-tools/eventlog_v2_local-1623876083964",
)
PLAIN = "apache__spark/spark-events/application_1553914137147_0018"
ZSTD = "NVIDIA__spark-rapids-tools/join_agg_on_yarn_eventlog.zstd"

# name -> what discovery says about it (None: discovered, then the analysis decides)
BAD = {
    "app-20240101000000-0001.zstd": "corrupt zstd data",  # garbage from the first block on
    "app-20240101000000-0002.zstd": "the file name says zstd but the data is gzip-compressed",
    "app-20240101000000-0003.lz4": "the file name says lz4 but the data is uncompressed text",
    "app-20240101000000-0004": "not a Spark event log (the first line is not JSON lines)",
    "application_1700000000000_0005": "empty file",
    "app-20240101000000-0006.zstd": None,  # truncated zstd: the head decodes, the analysis fails
    "application_1553914137147_0099": None,  # plain log cut in the middle: analyzed as incomplete
}
FOREIGN = ("README.md", "SOURCES.tsv", ".application_1538416563558_0014.crc", "_SUCCESS", "part-0000.parquet",
           "LICENSE", "app-20240101000000-0007.inprogress")


@pytest.fixture
def mixed_folder(tmp_path: Path, eventlog_fixtures: Path) -> Path:
    """Real logs, broken copies of real logs, and the files that sit beside logs in practice."""
    root = tmp_path / "events"
    (root / "day=2024-01-01").mkdir(parents=True)
    for name in GOOD:
        source = eventlog_fixtures / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / source.name)
    plain = (eventlog_fixtures / PLAIN).read_bytes()
    packed = (eventlog_fixtures / ZSTD).read_bytes()
    day = root / "day=2024-01-01"
    (day / "app-20240101000000-0001.zstd").write_bytes(packed[:4] + bytes((i * 37) % 251 for i in range(8192)))
    (day / "app-20240101000000-0002.zstd").write_bytes(gzip.compress(plain))
    (root / "app-20240101000000-0003.lz4").write_bytes(plain)
    (root / "app-20240101000000-0004").write_text("2024-01-01 12:00:00 INFO SparkContext: Running Spark\n")
    (root / "application_1700000000000_0005").write_bytes(b"")
    (day / "app-20240101000000-0006.zstd").write_bytes(packed[: len(packed) // 2])
    (root / "application_1553914137147_0099").write_bytes(plain[: len(plain) // 2])
    (root / "README.md").write_text("# where the event logs land\n")
    (root / "SOURCES.tsv").write_text("name\turl\n")
    (root / ".application_1538416563558_0014.crc").write_bytes(b"crc\x00\x01")
    (root / "_SUCCESS").write_bytes(b"")
    (root / "part-0000.parquet").write_bytes(b"PAR1\x00\x00PAR1")
    (root / "LICENSE").write_text("Apache License\n")
    (root / "app-20240101000000-0007.inprogress").write_bytes(b"")  # started, nothing logged yet
    return root


def test_discovery_returns_log_like_files_it_rejected_with_their_reasons(mixed_folder: Path) -> None:
    found = discover(mixed_folder, include_incomplete=True)
    rejected = {Path(r.ref.path).name: r.reason for r in found.rejected}
    expected = {name: why for name, why in BAD.items() if why is not None}
    assert set(rejected) == set(expected)
    for name, why in expected.items():
        assert rejected[name].startswith(why), (name, rejected[name])
        assert "\n" not in rejected[name] and str(mixed_folder) not in rejected[name]
    apps = {Path(ref.path).name for ref in found.apps}
    assert apps == {Path(n).name for n in GOOD} | {n for n, why in BAD.items() if why is None}
    assert not apps & set(FOREIGN) and not set(rejected) & set(FOREIGN)
    assert [ref.path for ref in found.apps] == [ref.path for ref in discover_applications(mixed_folder)]


def test_the_name_rule_keeps_spark_log_names_and_drops_what_sits_beside_them() -> None:
    for name in ("app-20240101000000-0001", "local-1532512550423", "application_1538416563558_0014_1",
                 "spark-4b5a1f2e9c3d4e5f8a7b6c5d4e3f2a1b.zstd", "eventlog", "event_log_1", "x.lz4.inprogress"):
        assert named_like_log(name), name
    for name in FOREIGN[:-1] + ("notes.txt", "appstatus_local-1.inprogress", "Makefile"):
        assert not named_like_log(name), name


def test_batch_records_every_rejected_and_unreadable_log_as_failed_with_its_reason(mixed_folder: Path,
                                                                                   tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    summary = run_batch(str(mixed_folder), store, workers=2)
    failures = {Path(f.log_path).name: f.reason for f in summary.failures}
    assert set(failures) == {n for n in BAD if n != "application_1553914137147_0099"}
    for name, why in BAD.items():
        if why is not None:
            assert failures[name].startswith(why), (name, failures[name])
    assert "truncated zstd stream" in failures["app-20240101000000-0006.zstd"]
    assert summary.discovered == len(GOOD) + len(BAD)
    assert (summary.analyzed, summary.failed) == (len(GOOD) + 1, len(BAD) - 1)
    with store.connect() as con:
        stored = dict(con.execute("SELECT log_path, reason FROM batch_failures").fetchall())
        incomplete = con.execute("SELECT complete FROM applications WHERE log_path LIKE '%_0099'").fetchone()
    assert {Path(p).name: r for p, r in stored.items()} == failures
    assert incomplete == (False,)

    again = run_batch(str(mixed_folder), store, workers=2)
    assert (again.analyzed, again.failed, again.skipped) == (0, 0, len(GOOD) + len(BAD))
    retried = run_batch(str(mixed_folder), store, workers=1, retry_failed=True)
    assert (retried.analyzed, retried.failed) == (0, len(BAD) - 1)
    with store.connect() as con:
        assert con.execute("SELECT count(*) FROM batch_failures").fetchone()[0] == len(BAD) - 1


def test_copies_of_one_log_in_one_run_are_stored_once(tmp_path: Path, eventlog_fixtures: Path) -> None:
    """Two copies of a log and two empty log files: one application row, one failure row, nothing refused by the store."""
    root = tmp_path / "copies"
    root.mkdir()
    for name in ("local-1532512550423", "local-1532512550424"):
        shutil.copy(eventlog_fixtures / GOOD[1], root / name)
    for name in ("application_1700000000000_0001", "application_1700000000000_0002"):
        (root / name).write_bytes(b"")
    store = Store(tmp_path / "s.duckdb")
    summary = run_batch(str(root), store, workers=2)
    assert (summary.analyzed, summary.skipped, summary.failed) == (1, 1, 2), summary.failures
    assert {f.reason for f in summary.failures} == {"empty file"}
    with store.connect() as con:
        assert con.execute("SELECT count(*) FROM applications").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM batch_failures").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM log_files").fetchone()[0] == 4
    assert summary.status == "complete"
