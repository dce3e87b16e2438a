"""Remote logs (s3://, any fsspec URL) read once: downloaded into a temporary folder, hashed and profiled there.

Without this a remote log is fetched twice, once for its content hash and once for its profile.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tools.errors import EventLogError
from tools.eventlog import LogRef
from tools.eventlog.model import AppProfile

COPY_CHUNK_BYTES = 1 << 20
COPY_PREFIX = "copilot-log-"
STALE_COPY_S = 24 * 3600.0  # a copy older than this was left by a killed process (downloads take minutes)


def is_local(path: str) -> bool:
    return "://" not in path


def part_name(ref: LogRef, part: str) -> str:
    """`part`'s name relative to its log, '' when the log is that one file: what a copy recreates and the identity hashes."""
    if part == ref.path:
        return ""
    root = ref.path.rstrip("/")
    return part[len(root) + 1:] if part.startswith(root + "/") else part.rsplit("/", 1)[-1]


def download_folder(settings) -> Path | None:
    """Where remote logs are copied: $COPILOT_HOME/cache/downloads (not /tmp, often a small tmpfs)."""
    return Path(settings.home) / "cache" / "downloads" if settings is not None else None


@contextmanager
def local_copy(ref: LogRef, folder: Path | None = None) -> Iterator[LogRef]:
    """`ref` itself when it is local; for a URL, the log downloaded once into a temporary folder.

    A remote log would otherwise be read twice, once to hash it and once to analyze it. The copy
    keeps the parts' names relative to the log, so it hashes exactly as the remote log does; it is
    deleted on leaving the block. `folder` holds the temporary folder (default: the system's).
    """
    if all(is_local(p) for p in ref.parts):
        yield ref
        return
    import fsspec

    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_copies(folder)
    with tempfile.TemporaryDirectory(prefix=COPY_PREFIX, dir=folder) as tmp:
        local_root = os.path.join(tmp, ref.path.rstrip("/").rsplit("/", 1)[-1] or "log")
        parts = []
        for part in ref.parts:
            relative = part_name(ref, part)
            target = os.path.join(local_root, *relative.split("/")) if relative else local_root
            os.makedirs(os.path.dirname(target), exist_ok=True)
            try:
                with fsspec.open(part, "rb") as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out, COPY_CHUNK_BYTES)
            except Exception as exc:  # noqa: BLE001 - any filesystem's error: one line for the user
                raise EventLogError(f"cannot download {part}: {type(exc).__name__}: {exc}") from exc
            parts.append(target)
        yield ref.model_copy(update={"path": local_root, "parts": parts})


def remove_stale_copies(folder: Path, older_than_s: float = STALE_COPY_S) -> int:
    """Delete copies a killed process left behind (a live one is younger); returns how many went."""
    removed = 0
    cutoff = time.time() - older_than_s
    for entry in folder.glob(COPY_PREFIX + "*"):
        try:
            if entry.is_dir() and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        except OSError:  # gone meanwhile (another batch cleaned it)
            continue
    return removed


def load_from_copy(ref: LogRef, copy: LogRef, **kwargs) -> AppProfile:
    """The profile of `ref` read from `copy` (`ref` itself or its download); its source names `ref`."""
    from tools.eventlog import load_profile

    profile = load_profile(copy.path, **kwargs)
    if copy is not ref and profile.source is not None:
        profile.source = profile.source.model_copy(update={"path": ref.path, "parts": list(ref.parts)})
    return profile
