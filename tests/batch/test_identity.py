"""A log's identity is its content: the same wherever it is copied, new as soon as a byte changes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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
