"""Find event logs on local disk or any fsspec filesystem and lay out their parts.

Layouts: a single file (any codec, `.inprogress`), a rolling `eventlog_v2_*`
directory (`events_<n>_*` parts in n order, `appstatus_*` marker), a
Databricks-style directory (`eventlog` plus rolled `eventlog-YYYY-MM-DD--HH-MM.gz`),
and directory trees holding many of these.

`discover` also returns the files of a scanned folder that are named like event logs
but whose first bytes are not one (corrupt, wrongly compressed, foreign), each with a
one-line reason, so a batch can report them instead of losing them silently.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, Field

from tools.errors import EventLogError
from tools.eventlog.codecs import codec_from_name, decoded_chunks, describe_foreign, sniff_codec, strip_codec_suffix
from tools.eventlog.model import LogRef

ROLLING_PART = re.compile(r"^events_(\d+)_")
DATABRICKS_PART = re.compile(r"^eventlog(?:-(\d{4}-\d{2}-\d{2}--\d{2}-\d{2}))?(?:\.[a-z0-9]+)?$")
SNIFF_BYTES = 1 << 16
# Extension-less names in a log folder that are documents, not logs.
DOCUMENT_NAMES = ("readme", "license", "licence", "notice", "copying", "authors", "changelog", "makefile", "dockerfile")


class RejectedLog(BaseModel):
    """A file named like an event log whose first bytes are not one, and why."""

    ref: LogRef
    reason: str  # one line, without the path


class Discovery(BaseModel):
    """What a scan found: the applications, and the log-like files it rejected."""

    apps: list[LogRef] = Field(default_factory=list)
    rejected: list[RejectedLog] = Field(default_factory=list)


def named_like_log(name: str) -> bool:
    """Whether a file in a scanned folder is a log candidate by its name.

    Spark names event logs after the application id (`app-...`, `local-...`,
    `application_..._0001`, `spark-<hex>`), optionally with a codec suffix and
    `.inprogress`: no other extension. Hidden and `_` files (`_SUCCESS`), `.crc`
    checksums, `appstatus_` markers, names with another extension (`README.md`,
    `SOURCES.tsv`, `x.parquet`) and extension-less documents (`README`, `LICENSE`)
    are foreign.
    """
    if name.startswith((".", "_", "appstatus_")) or name.endswith(".crc"):
        return False
    stem = strip_codec_suffix(name)
    if "." in stem or not stem:
        return False
    return not stem.lower().startswith(DOCUMENT_NAMES)


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
        return self.head_problem(entry) is None

    def head_problem(self, entry: dict[str, Any]) -> str | None:
        """Why the file's first bytes are not a Spark event log (one line), or None when they are."""
        name = _name(entry["name"])
        if not entry.get("size"):
            return "empty file"
        try:
            with self.fs.open(entry["name"], "rb") as stream:
                head = stream.read(64)
                if (mismatch := _codec_mismatch(name, head)) is not None:
                    return mismatch
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
        except EventLogError as exc:
            return _without_path(str(exc), name)
        except (OSError, ValueError) as exc:
            return f"cannot read: {_first_line(exc)}"
        if decoded.lstrip().startswith(b"{") and b'"Event"' in decoded[:4096]:
            return None
        return _head_reason(head, decoded)


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
    return discover(path, include_incomplete=include_incomplete).apps


def discover(path: str | os.PathLike[str], *, include_incomplete: bool = True) -> Discovery:
    """The applications under a file or directory tree (sorted by path), and the log-like files rejected.

    A path given as a file is always returned as an application (reading it reports what is wrong).
    In a scanned folder, a file `named_like_log` whose first bytes are not a listener event is
    rejected with its reason; an empty `.inprogress` file (an application that has logged nothing
    yet) is not. `.inprogress` files are left out of both lists unless `include_incomplete`.
    """
    fs, inner, is_url = filesystem(path)
    layout = _Layout(fs, is_url)
    shown = os.fspath(path)
    info = _info(fs, inner, shown)
    found = Discovery()
    if info.get("type") != "directory":
        found.apps = [layout.file_ref({**info, "name": inner})]
    else:
        _walk(layout, inner, shown, 0, found)
    if not include_incomplete:
        found.apps = [r for r in found.apps if not r.incomplete]
        found.rejected = [r for r in found.rejected if not r.ref.incomplete]
    found.apps.sort(key=lambda r: r.path)
    found.rejected.sort(key=lambda r: r.ref.path)
    return found


def _walk(layout: _Layout, inner: str, shown: str, depth: int, found: Discovery) -> None:
    entries = _ls(layout.fs, inner, shown)
    ref = layout.app_in_dir(inner, entries)
    if ref is not None:
        found.apps.append(ref)
        return
    for entry in entries:
        name = _name(entry["name"])
        if entry.get("type") == "directory":
            if depth < 8 and not name.startswith("."):
                _walk(layout, entry["name"], layout.shown(entry["name"]), depth + 1, found)
        elif not named_like_log(name):
            if layout.looks_like_event_log(entry):  # an event log with an unusual name is still one
                found.apps.append(layout.file_ref(entry))
        elif not entry.get("size") and name.endswith(".inprogress"):
            continue  # a running application that has logged nothing yet
        elif (problem := layout.head_problem(entry)) is None:
            found.apps.append(layout.file_ref(entry))
        else:
            found.rejected.append(RejectedLog(ref=layout.file_ref(entry), reason=problem))


def _without_path(message: str, name: str) -> str:
    """An EventLogError's message without the leading `<path>: ` the decoders put in front."""
    head, sep, rest = message.partition(": ")
    return rest if sep and head.endswith(name) else message


def _codec_mismatch(name: str, head: bytes) -> str | None:
    """The file name promises a codec its first bytes do not have (e.g. gzip data named `.zstd`)."""
    by_name, by_magic = codec_from_name(name), sniff_codec(head)
    if by_name == "none" or by_magic == by_name:
        return None
    if by_magic is not None:
        actual = f"{by_magic}-compressed"
    elif (foreign := describe_foreign(head)) is not None:
        actual = foreign
    elif head.lstrip().startswith(b"{"):
        actual = "uncompressed text"
    else:
        return None  # no magic at all: the decoder says how it is corrupt
    return f"the file name says {by_name} but the data is {actual}; rename it or recompress it"


def _head_reason(head: bytes, decoded: bytes) -> str:
    """Why decoded first bytes are not an event log: what the data is, as far as the first line tells."""
    what = describe_foreign(head) or describe_foreign(decoded.lstrip())
    if what:
        return f"not a Spark event log (the data is {what})"
    if not decoded.strip():
        return "not a Spark event log (no data in the first bytes)"
    first = decoded.lstrip().split(b"\n", 1)[0]
    kind = "JSON that is not a listener event" if first.startswith(b"{") else "not JSON lines"
    return f"not a Spark event log (the first line is {kind})"


__all__ = ["Discovery", "RejectedLog", "discover", "discover_applications", "named_like_log", "resolve"]
