"""A log's identity is its content: the same wherever it is copied, new as soon as a byte changes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import remote_fs

from copilot.batch.identity import log_identity
from tools.eventlog import discover_applications

SINGLE = "NVIDIA__spark-rapids-tools/dsAndDf_eventlog.zstd"
ROLLING = "NVIDIA__spark-rapids-tools/eventlog_v2_local-1623876083964"


def _identity(path: Path):
    (ref,) = discover_applications(str(path), include_incomplete=True)
    return log_identity(ref)


def test_a_copy_elsewhere_has_the_same_identity(tmp_path: Path, eventlog_fixtures: Path) -> None:
    source = eventlog_fixtures / SINGLE
    copy = tmp_path / "elsewhere" / "renamed.zstd"
    copy.parent.mkdir()
    shutil.copyfile(source, copy)
    original, copied = _identity(source), _identity(copy)
    assert copied.log_hash == original.log_hash
    assert copied.log_bytes == original.log_bytes == source.stat().st_size
    assert copied.log_path == str(copy)
    assert copied.log_mtime_ns == copy.stat().st_mtime_ns


def test_one_changed_or_added_byte_is_a_new_log(tmp_path: Path, eventlog_fixtures: Path) -> None:
    data = (eventlog_fixtures / "qubole__sparklens/local-1532512550423").read_bytes()
    log = tmp_path / "local-1"
    log.write_bytes(data)
    before = _identity(log).log_hash
    middle = len(data) // 2
    log.write_bytes(data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :])
    flipped = _identity(log).log_hash
    log.write_bytes(data + b"\n")  # an in-progress log that grew
    grown = _identity(log).log_hash
    assert len({before, flipped, grown}) == 3


def test_a_rolling_log_hashes_its_parts_with_their_names(tmp_path: Path, eventlog_fixtures: Path) -> None:
    source = eventlog_fixtures / ROLLING
    moved = tmp_path / source.name
    shutil.copytree(source, moved)
    assert _identity(moved).log_hash == _identity(source).log_hash
    parts = sorted(p for p in moved.iterdir() if p.name.startswith("events_"))
    assert len(parts) >= 2, "the fixture is a rolling log of several parts"
    # the same bytes cut at another part boundary are another log: part names are hashed too
    first, second = parts[0], parts[1]
    joined = first.read_bytes() + second.read_bytes()
    first.write_bytes(joined)
    os.remove(second)
    assert _identity(moved).log_hash != _identity(source).log_hash


@pytest.fixture
def remote_logs():
    yield
    remote_fs.remove()


@pytest.mark.parametrize("name", [SINGLE, ROLLING], ids=["file", "rolling"])
def test_a_remote_log_is_downloaded_once_and_hashes_like_its_local_copy(remote_logs, eventlog_fixtures: Path,
                                                                        tmp_path: Path, name: str) -> None:
    from copilot.batch.worker import analyze_log
    from copilot.settings import Settings

    url = remote_fs.upload(eventlog_fixtures / name)
    (ref,) = discover_applications(url, include_incomplete=True)
    remote_fs.CountingMemory.opened.clear()
    outcome = analyze_log(ref, skip_hashes=(), settings=Settings(home=tmp_path / "home"))
    assert outcome.status == "analyzed", outcome.reason
    assert outcome.log.log_path == ref.path == url and outcome.log.log_mtime_ns is None
    assert outcome.log.log_hash == _identity(eventlog_fixtures / name).log_hash
    assert outcome.log.log_bytes == sum(p.stat().st_size for p in _files(eventlog_fixtures / name))
    read = remote_fs.reads()
    assert len(read) == len(ref.parts) and set(read.values()) == {1}, f"each part is read once: {read}"
    assert not any((tmp_path / "home" / "cache" / "downloads").iterdir()), "the downloaded copy is deleted"


def test_a_remote_log_that_cannot_be_downloaded_is_a_failed_outcome(remote_logs, eventlog_fixtures: Path,
                                                                    tmp_path: Path) -> None:
    from copilot.batch.worker import analyze_log
    from copilot.settings import Settings

    url = remote_fs.upload(eventlog_fixtures / SINGLE)
    (ref,) = discover_applications(url, include_incomplete=True)
    remote_fs.remove()  # gone between discovery and analysis
    outcome = analyze_log(ref, skip_hashes=(), settings=Settings(home=tmp_path / "home"))
    assert outcome.status == "failed" and outcome.log.log_path == url
    assert outcome.reason.startswith(f"cannot read: cannot download {url}")


def _files(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file() and p.name.startswith("events_")] if path.is_dir() else [path]


def test_copies_left_by_a_killed_process_are_removed_later(remote_logs, eventlog_fixtures: Path, tmp_path: Path) -> None:
    from copilot.batch.remote import local_copy

    downloads = tmp_path / "downloads"
    stale, fresh = downloads / "copilot-log-killed", downloads / "copilot-log-running"
    for folder in (stale, fresh):
        folder.mkdir(parents=True)
        (folder / "part").write_bytes(b"x")
    day_ago = os.stat(stale).st_mtime - 25 * 3600
    os.utime(stale, (day_ago, day_ago))
    (ref,) = discover_applications(remote_fs.upload(eventlog_fixtures / SINGLE), include_incomplete=True)
    with local_copy(ref, downloads) as copy:
        assert Path(copy.path).read_bytes() == (eventlog_fixtures / SINGLE).read_bytes()
    assert sorted(p.name for p in downloads.iterdir()) == ["copilot-log-running"]
