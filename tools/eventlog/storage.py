"""Find event logs on local disk or any fsspec filesystem and lay out their parts.

Layouts: a single file (any codec, `.inprogress`), a rolling `eventlog_v2_*`
directory (`events_<n>_*` parts in n order, `appstatus_*` marker), a
Databricks-style directory (`eventlog` plus rolled `eventlog-YYYY-MM-DD--HH-MM.gz`),
and directory trees holding many of these.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

from tools.errors import EventLogError
from tools.eventlog.codecs import codec_from_name, decoded_chunks, sniff_codec, strip_codec_suffix
from tools.eventlog.model import LogRef

ROLLING_PART = re.compile(r"^events_(\d+)_")
DATABRICKS_PART = re.compile(r"^eventlog(?:-(\d{4}-\d{2}-\d{2}--\d{2}-\d{2}))?(?:\.[a-z0-9]+)?$")
SNIFF_BYTES = 1 << 16


def filesystem(path: str | os.PathLike[str]) -> tuple[Any, str, bool]:
    """(fsspec filesystem, path inside it, whether `path` was a URL)."""
    import fsspec

    text = os.fspath(path)
    is_url = "://" in text
    try:
        fs, inner = fsspec.core.url_to_fs(text)
    except ImportError as exc:
        scheme = text.split("://", 1)[0]
        raise EventLogError(f"cannot read {scheme}:// URLs: the filesystem package is not installed ({exc})") from exc
    except ValueError as exc:
        scheme = text.split("://", 1)[0]
        if "not known" in str(exc):
            raise EventLogError(f"unknown URL scheme {scheme}:// in {text}") from exc
        raise EventLogError(f"cannot open {text}: {_first_line(exc)}") from exc
    except Exception as exc:  # noqa: BLE001 - filesystem drivers raise anything (auth, JVM, network)
        raise EventLogError(f"cannot open {text}: {_first_line(exc)}") from exc
    return fs, inner, is_url


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__


def _name(p: str) -> str:
    return p.rstrip("/").rsplit("/", 1)[-1]


def _ls(fs: Any, path: str, shown: str) -> list[dict[str, Any]]:
    try:
        return fs.ls(path, detail=True)
    except PermissionError as exc:
        raise EventLogError(f"permission denied: {shown}") from exc
    except FileNotFoundError as exc:
        raise EventLogError(f"no such file or directory: {shown}") from exc
    except Exception as exc:  # noqa: BLE001
        raise EventLogError(f"cannot list {shown}: {_first_line(exc)}") from exc


def _info(fs: Any, path: str, shown: str) -> dict[str, Any]:
    try:
        return fs.info(path)
    except PermissionError as exc:
        raise EventLogError(f"permission denied: {shown}") from exc
    except FileNotFoundError as exc:
        raise EventLogError(f"no such file or directory: {shown}") from exc
    except Exception as exc:  # noqa: BLE001 - remote filesystems raise their own errors
        raise EventLogError(f"cannot read {shown}: {_first_line(exc)}") from exc


class _Layout:
    """Helper binding a filesystem and how to show paths (URL or local)."""

    def __init__(self, fs: Any, is_url: bool) -> None:
        self.fs = fs
        self.is_url = is_url

    def shown(self, inner: str) -> str:
        return self.fs.unstrip_protocol(inner) if self.is_url else inner

    def app_in_dir(self, inner: str, entries: list[dict[str, Any]]) -> LogRef | None:
        """The application a directory is, when it is a rolling or Databricks directory."""
        files = [e for e in entries if e.get("type") != "directory"]
        names = {_name(e["name"]): e for e in files}
        rolling = sorted(
            ((int(m.group(1)), e) for n, e in names.items() if (m := ROLLING_PART.match(n))), key=lambda x: x[0]
        )
        dir_name = _name(inner)
        if rolling or dir_name.startswith("eventlog_v2_"):
            if not rolling:
                return None
            incomplete = any(n.startswith("appstatus_") and n.endswith(".inprogress") for n in names)
            parts = [e for _, e in rolling]
            key = dir_name[len("eventlog_v2_"):] if dir_name.startswith("eventlog_v2_") else dir_name
            return self._ref(inner, key, parts, incomplete)
        databricks = [(m.group(1) or "~", e) for n, e in names.items() if (m := DATABRICKS_PART.match(n))]
        if databricks:
            parts = [e for _, e in sorted(databricks, key=lambda x: x[0])]  # dated rolled parts, then current
            return self._ref(inner, dir_name, parts, incomplete=False)
        return None

    def _ref(self, inner: str, key: str, parts: list[dict[str, Any]], incomplete: bool) -> LogRef:
        codecs = {codec_from_name(_name(p["name"])) for p in parts}
        codec = codecs.pop() if len(codecs) == 1 else "mixed"
        return LogRef(
            path=self.shown(inner), app_key=key, parts=[self.shown(p["name"]) for p in parts], codec=codec,
            total_bytes=sum(int(p.get("size") or 0) for p in parts), incomplete=incomplete,
        )

    def file_ref(self, entry: dict[str, Any]) -> LogRef:
        name = _name(entry["name"])
        return LogRef(
            path=self.shown(entry["name"]), app_key=strip_codec_suffix(name), parts=[self.shown(entry["name"])],
            codec=codec_from_name(name), total_bytes=int(entry.get("size") or 0), incomplete=name.endswith(".inprogress"),
        )

    def looks_like_event_log(self, entry: dict[str, Any]) -> bool:
        """Cheap check used while scanning directories: does the file start with a listener event?"""
        name = _name(entry["name"])
        if name.startswith((".", "_")) or name.endswith(".crc") or name.startswith("appstatus_") or not entry.get("size"):
            return False
        try:
            with self.fs.open(entry["name"], "rb") as stream:
                head = stream.read(64)
                codec = codec_from_name(name)
                if codec == "none":
                    codec = sniff_codec(head) or "none"
                stream.seek(0)
                if codec == "none":
                    decoded = stream.read(4096)
                else:
                    decoded = b""
                    for chunk in decoded_chunks(stream, codec, name, allow_truncated=True):
                        decoded += chunk
                        if len(decoded) >= 64 or b"\n" in decoded:
                            break
        except (EventLogError, OSError, ValueError):
            return False
        return decoded.lstrip().startswith(b"{") and b'"Event"' in decoded[:4096]


def resolve(path: str | os.PathLike[str]) -> LogRef:
    """The single application at `path` (file, rolling dir, Databricks dir, or a dir holding one app)."""
    fs, inner, is_url = filesystem(path)
    layout = _Layout(fs, is_url)
    shown = os.fspath(path)
    info = _info(fs, inner, shown)
    if info.get("type") != "directory":
        if not is_url and not os.access(inner, os.R_OK):
            raise EventLogError(f"permission denied: {shown}")
        return layout.file_ref({**info, "name": inner})
    ref = layout.app_in_dir(inner, _ls(fs, inner, shown))
    if ref is not None:
        return ref
    refs = discover_applications(path)
    if len(refs) == 1:
        return refs[0]
    if not refs:
        raise EventLogError(f"no Spark event logs found under {shown}")
    raise EventLogError(f"{shown} holds {len(refs)} applications; profile each one (e.g. `copilot profile` on the directory)")


def discover_applications(path: str | os.PathLike[str], *, include_incomplete: bool = True) -> list[LogRef]:
    """Every application under a file or directory tree, each as a LogRef (sorted by path)."""
    fs, inner, is_url = filesystem(path)
    layout = _Layout(fs, is_url)
    shown = os.fspath(path)
    info = _info(fs, inner, shown)
    if info.get("type") != "directory":
        refs = [layout.file_ref({**info, "name": inner})]
    else:
        refs = list(_walk(layout, inner, shown, depth=0))
    if not include_incomplete:
        refs = [r for r in refs if not r.incomplete]
    return sorted(refs, key=lambda r: r.path)


def _walk(layout: _Layout, inner: str, shown: str, depth: int) -> Iterator[LogRef]:
    entries = _ls(layout.fs, inner, shown)
    ref = layout.app_in_dir(inner, entries)
    if ref is not None:
        yield ref
        return
    for entry in entries:
        name = _name(entry["name"])
        if entry.get("type") == "directory":
            if depth < 8 and not name.startswith("."):
                yield from _walk(layout, entry["name"], layout.shown(entry["name"]), depth + 1)
        elif layout.looks_like_event_log(entry):
            yield layout.file_ref(entry)
