"""A remote-like filesystem for tests: fsspec's in-memory one under `countmem://`, counting reads per file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import fsspec
from fsspec.implementations.memory import MemoryFileSystem


class CountingMemory(MemoryFileSystem):
    """The in-memory filesystem under its own scheme, counting how often each file is opened for reading."""

    protocol = "countmem"
    opened: Counter = Counter()

    @classmethod
    def _strip_protocol(cls, path):
        return super()._strip_protocol(path.removeprefix("countmem://"))

    def _open(self, path, mode="rb", **kwargs):
        if "r" in mode:
            CountingMemory.opened[self._strip_protocol(path)] += 1
        return super()._open(path, mode, **kwargs)


def upload(source: Path, folder: str = "/logs") -> str:
    """Copy a local log (file or directory) to `countmem://<folder>/<name>`; returns its URL. Counts start at 0."""
    fsspec.register_implementation("countmem", CountingMemory, clobber=True)
    fs = CountingMemory()
    files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
    for file in files:
        fs.pipe(f"{folder}/{file.relative_to(source.parent)}", file.read_bytes())
    CountingMemory.opened.clear()
    return f"countmem://{folder}/{source.name}"


def remove(folder: str = "/logs") -> None:
    fs = CountingMemory()
    if fs.exists(folder):
        fs.rm(folder, recursive=True)


def reads() -> dict[str, int]:
    """Files opened for reading since the upload, with how often."""
    return {path: count for path, count in CountingMemory.opened.items() if count}
