"""`load_profile`: stream one application's event log (all parts, any codec) into an AppProfile."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, BinaryIO

from tools.errors import EventLogError
from tools.eventlog.aggregate import Aggregator, LineSplitter
from tools.eventlog.build import build_profile
from tools.eventlog.codecs import MAGIC, codec_from_name, decoded_chunks, describe_foreign, sniff_codec
from tools.eventlog.model import AppProfile, LogRef, LogSource
from tools.eventlog.parallel import (
    PARALLEL_MIN_BYTES,
    RangeResult,
    Recorder,
    can_fork,
    default_workers,
    line_blocks,
    ordered_map,
    read_parallel,
    replay,
    scan_block,
)

COMPRESSION_RATIO_GUESS = 8  # event logs compress 8-20x: a compressed part this many times smaller is as large
from tools.eventlog.storage import filesystem, resolve


def load_profile(path: str | os.PathLike[str], *, max_plan_chars: int = 20000, workers: int | None = None,
                 parallel_min_bytes: int = PARALLEL_MIN_BYTES) -> AppProfile:
    """Profile the application at `path`: a file, a rolling or Databricks directory, local or fsspec URL.

    Local plain files of at least `parallel_min_bytes` are read by `workers` processes (default
    min(cores, 4); 1 = this process only); the profile is the same either way.
    Raises `EventLogError` (one line) when the input is not a readable event log.
    """
    ref = resolve(path)
    workers = default_workers() if workers is None else max(1, int(workers))
    collecting = gc.isenabled()
    gc.disable()  # the hot loop allocates many short-lived, acyclic objects; ~10% faster without GC passes
    try:
        return _load(ref, max_plan_chars, workers, parallel_min_bytes)
    finally:
        if collecting:
            gc.enable()


def _load(ref: LogRef, max_plan_chars: int, workers: int, parallel_min_bytes: int) -> AppProfile:
    agg = Aggregator()
    source = LogSource(path=ref.path, parts=list(ref.parts))
    codecs: list[str] = []
    truncated_tail = False
    jobs = [(url, index == len(ref.parts) - 1 and (ref.incomplete or url.endswith(".inprogress")), index == 0,
             len(ref.parts) == 1) for index, url in enumerate(ref.parts)]
    if _parts_in_parallel(ref, workers, parallel_min_bytes):
        reads = _read_parts_parallel(jobs, agg, workers)
    else:
        reads = (_scan_part(*job, agg.feed_block, partial(_read_in_workers, agg, workers, parallel_min_bytes))
                 for job in jobs)
    for index, part in enumerate(reads):
        url = ref.parts[index]
        cut = _finish_part(url, agg, part)
        codecs.append(part.codec)
        source.bytes_read += part.read
        source.bytes_decoded += part.decoded
        if cut:
            if index == len(ref.parts) - 1:
                truncated_tail = True
            else:
                agg.bad_lines += 1
                agg.bad_line_kinds["cut-off line at the end of a part"] += 1
    agg.finish()
    if not agg.saw_event:
        raise EventLogError(f"{ref.path}: not a Spark event log (no listener events found)")
    distinct = sorted(set(codecs))
    source.codec = distinct[0] if len(distinct) == 1 else "+".join(distinct)
    return build_profile(agg, app_key=ref.app_key, source=source, truncated_tail=truncated_tail,
                         max_plan_chars=max_plan_chars)


@dataclass
class PartRead:
    """What reading one part gave, besides the lines already handed over."""

    codec: str = "none"
    read: int = 0
    decoded: int = 0
    rest: bytes = b""  # text after the last newline: a last line without newline, or a cut-off one
    empty: bool = False


def _scan_part(url: str, allow_truncated: bool, first: bool, single: bool,
               on_block: Callable[[bytes, int, int], object], in_workers: InWorkers | None = None) -> PartRead:
    """Hand one part's complete lines to `on_block`, or let `in_workers` read a large part with worker processes."""
    fs, inner, _ = filesystem(url)
    try:
        stream = fs.open(inner, "rb")
    except PermissionError as exc:
        raise EventLogError(f"permission denied: {url}") from exc
    except FileNotFoundError as exc:
        raise EventLogError(f"no such file or directory: {url}") from exc
    except IsADirectoryError as exc:
        raise EventLogError(f"{url} is a directory, not an event log file") from exc
    except Exception as exc:  # noqa: BLE001 - remote filesystems raise their own errors
        raise EventLogError(f"cannot read {url}: {str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__}") from exc
    with stream:
        head = stream.read(16)
        if not head:
            if single:
                raise EventLogError(f"{url}: empty file")
            return PartRead(empty=True)
        codec = _codec(url, head)
        stream.seek(0)
        try:
            done = in_workers(fs, inner, codec, stream, url, allow_truncated, first) if in_workers is not None else None
            rest, decoded_total = done or _feed_serial(stream, codec, url, on_block, allow_truncated, check=first)
        except OSError as exc:
            raise EventLogError(f"{url}: read error: {exc}") from exc
        checked = decoded_total > len(rest) or not first
        if rest.strip() and not checked:
            _check_first_line(url, [rest])
        if decoded_total == 0 and single:
            raise EventLogError(f"{url}: empty file (no data after decompression)")
        try:
            read = stream.tell()
        except (OSError, ValueError):
            read = 0
    return PartRead(codec, read, decoded_total, rest)


def _finish_part(url: str, agg: Aggregator, part: PartRead) -> bool:
    """Handle what follows a part's last newline; returns whether its last line is cut off."""
    if part.empty:
        agg.warnings.append(f"empty log part skipped: {url}")
        return False
    rest = part.rest
    if not rest.strip():
        return False
    if rest.rstrip().endswith(b"}") and _is_complete_json(rest):
        agg.feed([rest])  # last line without a newline
        return False
    return True


def _feed_serial(stream: BinaryIO, codec: str, url: str, on_block: Callable[[bytes, int, int], object],
                 allow_truncated: bool, check: bool) -> tuple[bytes, int]:
    """Hand the part's complete lines to `on_block` in this process; returns (unfinished last line, bytes decoded)."""
    splitter = LineSplitter()
    for span in _checked(splitter.spans(decoded_chunks(stream, codec, url, allow_truncated)), url, check):
        on_block(*span)
    return splitter.rest, splitter.total


def _checked(spans: Iterator[tuple[bytes, int, int]], url: str, check: bool) -> Iterator[tuple[bytes, int, int]]:
    """The spans, the first non-blank line checked to be a listener event when `check`."""
    for data, start, end in spans:
        if check:
            check = not _check_first_line(url, data[start : min(end, start + (1 << 16))].split(b"\n"))
        yield data, start, end


InWorkers = Callable[[Any, str, str, BinaryIO, str, bool, bool], tuple[bytes, int] | None]


def _read_in_workers(agg: Aggregator, workers: int, min_bytes: int, fs: Any, inner: str, codec: str,
                     stream: BinaryIO, url: str, allow_truncated: bool, first: bool) -> tuple[bytes, int] | None:
    """Read a large part with worker processes; returns (unfinished last line, bytes decoded), None when not worth it.

    A local plain file is split into byte ranges the workers read themselves; a compressed (or
    remote) part is decompressed here and its lines are parsed by the workers in blocks.
    """
    if workers < 2 or not can_fork():
        return None
    local = "file" in _protocols(fs)
    try:
        size = os.path.getsize(inner) if local else int(fs.size(inner) or 0)
    except (OSError, TypeError, ValueError):
        return None
    if codec == "none" and local:
        if size < min_bytes:
            return None
        if first:
            _check_first_line(url, stream.read(1 << 16).split(b"\n"))
        end = read_parallel(inner, size, agg, workers)
        stream.seek(end)
        rest = stream.read()
        return rest, end + len(rest)
    if size * (1 if codec == "none" else COMPRESSION_RATIO_GUESS) < min_bytes:
        return None
    splitter = LineSplitter()
    spans = _checked(splitter.spans(decoded_chunks(stream, codec, url, allow_truncated)), url, first)
    for result in ordered_map(scan_block, line_blocks(spans), workers, in_flight=1):
        replay(agg, result)
    return splitter.rest, splitter.total


def _parts_in_parallel(ref: LogRef, workers: int, min_bytes: int) -> bool:
    """Several parts (rolling or Databricks logs) are read one part per worker when they are large enough."""
    compressed = any(codec_from_name(url.rsplit("/", 1)[-1]) != "none" for url in ref.parts)
    size = ref.total_bytes * (COMPRESSION_RATIO_GUESS if compressed else 1)
    return (workers > 1 and len(ref.parts) > 1 and size >= min_bytes and can_fork()
            and all("file" in _protocols(filesystem(url)[0]) for url in ref.parts))


def _read_parts_parallel(jobs: list[tuple[str, bool, bool, bool]], agg: Aggregator, workers: int) -> Iterator[PartRead]:
    """Workers read whole parts (decompressing them too); the parent replays each part's lines in part order."""
    for part, result in ordered_map(scan_part, jobs, workers):
        replay(agg, result)
        yield part


def scan_part(url: str, allow_truncated: bool, first: bool, single: bool) -> tuple[PartRead, RangeResult]:
    """Worker: one whole part as records to replay, and what followed its last newline."""
    recorder = Recorder()
    part = _scan_part(url, allow_truncated, first, single, recorder.on_block)
    return part, recorder.result()


def _protocols(fs: Any) -> tuple[str, ...]:
    protocol = getattr(fs, "protocol", ())
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _codec(url: str, head: bytes) -> str:
    """Codec by extension, verified by magic bytes; files without a codec extension are sniffed."""
    by_name = codec_from_name(url.rsplit("/", 1)[-1])
    by_magic = sniff_codec(head)
    if by_name == "none":
        return by_magic or "none"
    if by_magic == by_name:
        return by_name
    if by_magic is not None:
        return _mismatch(url, by_name, f"the data is {by_magic}-compressed")
    foreign = describe_foreign(head)
    if foreign:
        return _mismatch(url, by_name, f"the data is {foreign}")
    if head.lstrip().startswith(b"{"):
        return _mismatch(url, by_name, "the data is uncompressed text")
    expected = MAGIC[by_name]
    raise EventLogError(f"{url}: corrupt {by_name} data (missing the {by_name} magic bytes {expected[:4]!r})")


def _mismatch(url: str, by_name: str, actual: str) -> str:
    raise EventLogError(f"{url}: the file name says {by_name} but {actual}; rename it or recompress it")


def _check_first_line(url: str, lines: list[bytes]) -> bool:
    """Reject foreign files early: the first non-blank line must be a JSON listener event.

    Returns whether a non-blank line was found (False: all blank, check the next lines).
    """
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(b'{"Event"') or (stripped.startswith(b"{") and b'"Event"' in stripped):
            return True
        what = describe_foreign(stripped)
        if what is None:
            what = "JSON that is not a listener event" if _is_complete_json(stripped) else "not JSON lines"
        raise EventLogError(f"{url}: not a Spark event log (the first line is {what})")
    return False


def _is_complete_json(line: bytes) -> bool:
    import msgspec

    try:
        msgspec.json.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return False
    return True


__all__ = ["LogRef", "load_profile"]
