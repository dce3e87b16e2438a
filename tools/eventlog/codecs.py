"""Streaming decompression of the codecs Spark writes event logs with.

Codec comes from the file extension and is verified against the magic bytes.
Every decoder reads bounded chunks and yields decoded bytes, so memory does not
grow with the file size. Corrupt or truncated data raises `EventLogError`.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import cramjam
import lzf
import zstandard

from tools.errors import EventLogError

READ_SIZE = 1 << 22  # bytes read from storage per call (bigger blocks amortize per-block numpy work)
ZSTD_READ_SIZE = 1 << 18  # smaller input for zstd/gzip keeps the decoded chunk bounded

EXTENSIONS = {
    ".zstd": "zstd",
    ".zst": "zstd",
    ".lz4": "lz4",
    ".snappy": "snappy",
    ".lzf": "lzf",
    ".gz": "gzip",
    ".gzip": "gzip",
}

MAGIC = {
    "zstd": b"\x28\xb5\x2f\xfd",
    "lz4": b"LZ4Block",
    "snappy": b"\x82SNAPPY\x00",
    "lzf": b"ZV",
    "gzip": b"\x1f\x8b",
}

# Well-known non-log formats, so "not an event log" can say what the file is.
FOREIGN_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive",
    b"PAR1": "a Parquet file",
    b"ORC": "an ORC file",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x7fELF": "an executable",
    b"BZh": "bzip2 data",
    b"\xfd7zXZ": "xz data",
    b"SQLite format 3": "an SQLite database",
    b"Obj\x01": "an Avro file",
}


def codec_from_name(name: str) -> str:
    """The codec implied by a file name (`.inprogress` ignored); "none" for plain files."""
    if name.endswith(".inprogress"):
        name = name[: -len(".inprogress")]
    for ext, codec in EXTENSIONS.items():
        if name.endswith(ext):
            return codec
    return "none"


def strip_codec_suffix(name: str) -> str:
    if name.endswith(".inprogress"):
        name = name[: -len(".inprogress")]
    for ext in EXTENSIONS:
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def sniff_codec(head: bytes) -> str | None:
    """The compression codec whose magic bytes start `head`, if any."""
    for codec, magic in MAGIC.items():
        if codec == "lzf":
            if head[:2] == magic and head[2:3] in (b"\x00", b"\x01"):
                return codec
        elif head.startswith(magic):
            return codec
    return None


def describe_foreign(head: bytes) -> str | None:
    for magic, what in FOREIGN_MAGIC.items():
        if head.startswith(magic):
            return what
    return None


def decoded_chunks(stream: BinaryIO, codec: str, name: str, allow_truncated: bool) -> Iterator[bytes]:
    """Yield the decoded bytes of `stream` in bounded chunks.

    `allow_truncated` accepts a compressed stream that stops mid-block (a log
    still being written); otherwise that raises `EventLogError`.
    """
    decoder = _DECODERS.get(codec)
    if decoder is None:
        raise EventLogError(f"{name}: unsupported compression codec {codec!r}")
    try:
        yield from decoder(stream, name, allow_truncated)
    except EventLogError:
        raise
    except (zstandard.ZstdError, zlib.error, cramjam.DecompressionError, ValueError, struct.error) as exc:
        raise EventLogError(f"{name}: corrupt {codec} data ({_first_line(exc)})") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _truncated(name: str, codec: str) -> EventLogError:
    return EventLogError(f"{name}: truncated {codec} stream (the file ends in the middle of compressed data)")


def _plain(stream: BinaryIO, name: str, allow_truncated: bool) -> Iterator[bytes]:
    while chunk := stream.read(READ_SIZE):
        yield chunk


def _zstd(stream: BinaryIO, name: str, allow_truncated: bool) -> Iterator[bytes]:
    """Standard zstd frames, several per file (Spark starts a frame per flush/part)."""
    dctx = zstandard.ZstdDecompressor()
    obj = dctx.decompressobj()
    in_frame = False
    while chunk := stream.read(ZSTD_READ_SIZE):
        while chunk:
            out = obj.decompress(chunk)
            in_frame = True
            if out:
                yield out
            if obj.eof:
                chunk = obj.unused_data
                obj = dctx.decompressobj()
                in_frame = False
                if chunk and not chunk.startswith(MAGIC["zstd"]) and not _is_skippable_zstd(chunk):
                    if len(chunk) < 4 and MAGIC["zstd"].startswith(chunk):
                        chunk = chunk + stream.read(4 - len(chunk))
                        continue
                    raise EventLogError(f"{name}: corrupt zstd data (garbage after a complete frame)")
            else:
                chunk = b""
    if in_frame and not obj.eof and not allow_truncated:
        raise _truncated(name, "zstd")


def _is_skippable_zstd(data: bytes) -> bool:
    return len(data) >= 4 and data[0] & 0xF0 == 0x50 and data[1:4] == b"\x2a\x4d\x18"


def _gzip(stream: BinaryIO, name: str, allow_truncated: bool) -> Iterator[bytes]:
    """gzip, possibly several members concatenated."""
    obj = zlib.decompressobj(wbits=31)
    in_member = False
    while chunk := stream.read(ZSTD_READ_SIZE):
        while chunk:
            in_member = True
            out = obj.decompress(chunk)
            if out:
                yield out
            if obj.eof:
                chunk = obj.unused_data
                obj = zlib.decompressobj(wbits=31)
                in_member = False
            else:
                chunk = b""
    if in_member and not allow_truncated:
        tail = obj.flush()
        if tail:
            yield tail
        raise _truncated(name, "gzip")


class _Reader:
    """Exact-size reads over a binary stream through a bounded look-ahead buffer."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.buffer = b""
        self.pos = 0

    def read(self, size: int) -> bytes:
        end = self.pos + size
        if end > len(self.buffer):
            parts = [self.buffer[self.pos :]]
            have = len(parts[0])
            while have < size:
                more = self.stream.read(max(READ_SIZE, size - have))
                if not more:
                    break
                parts.append(more)
                have += len(more)
            self.buffer, self.pos, end = b"".join(parts), 0, size
        out = self.buffer[self.pos : end]
        self.pos = min(end, len(self.buffer))
        return out


def _lz4(stream: BinaryIO, name: str, allow_truncated: bool) -> Iterator[bytes]:
    """lz4-java LZ4BlockOutputStream: b"LZ4Block", token, LE32 compressed, LE32 raw, LE32 checksum, data."""
    reader = _Reader(stream)
    while True:
        header = reader.read(21)
        if not header:
            return
        if len(header) < 21:
            if allow_truncated:
                return
            raise _truncated(name, "lz4")
        if header[:8] != MAGIC["lz4"]:
            raise EventLogError(f"{name}: corrupt lz4 data (block header without LZ4Block magic)")
        token = header[8]
        compressed_len, raw_len, _checksum = struct.unpack_from("<iii", header, 9)
        method = token & 0xF0
        if compressed_len < 0 or raw_len < 0 or raw_len > (1 << 26) or compressed_len > (1 << 27):
            raise EventLogError(f"{name}: corrupt lz4 data (impossible block length)")
        if raw_len == 0 and compressed_len == 0:
            continue  # end of one stream; another may follow
        data = reader.read(compressed_len)
        if len(data) < compressed_len:
            if allow_truncated:
                return
            raise _truncated(name, "lz4")
        if method == 0x10:
            yield data
        elif method == 0x20:
            yield bytes(cramjam.lz4.decompress_block(data, output_len=raw_len))
        else:
            raise EventLogError(f"{name}: corrupt lz4 data (unknown block method {method:#x})")


def _snappy(stream: BinaryIO, name: str, allow_truncated: bool) -> Iterator[bytes]:
    """snappy-java SnappyOutputStream: 16-byte header, then BE32 length + raw snappy block, repeated."""
    reader = _Reader(stream)
    header = reader.read(16)
    if len(header) < 16 or header[:8] != MAGIC["snappy"]:
        raise EventLogError(f"{name}: corrupt snappy data (missing snappy-java stream header)")
    while True:
        size_bytes = reader.read(4)
        if not size_bytes:
            return
        if len(size_bytes) < 4:
            if allow_truncated:
                return
            raise _truncated(name, "snappy")
        if size_bytes == MAGIC["snappy"][:4]:  # a concatenated stream starts again
            rest = reader.read(12)
            if rest[:4] != MAGIC["snappy"][4:]:
                raise EventLogError(f"{name}: corrupt snappy data (bad stream header)")
            continue
        (size,) = struct.unpack(">i", size_bytes)
        if size < 0 or size > (1 << 27):
            raise EventLogError(f"{name}: corrupt snappy data (impossible block length)")
        data = reader.read(size)
        if len(data) < size:
            if allow_truncated:
                return
            raise _truncated(name, "snappy")
        yield bytes(cramjam.snappy.decompress_raw(data))


def _lzf(stream: BinaryIO, name: str, allow_truncated: bool) -> Iterator[bytes]:
    """ning LZF chunks: b"ZV", type 0 (BE16 length, raw) or 1 (BE16 compressed, BE16 raw, data)."""
    reader = _Reader(stream)
    while True:
        head = reader.read(5)
        if not head:
            return
        if len(head) < 5 or head[:2] != b"ZV":
            if len(head) < 5 and head[:2] in (b"ZV", b"Z") and allow_truncated:
                return
            if len(head) < 5 and head.startswith(b"Z"):
                raise _truncated(name, "lzf")
            raise EventLogError(f"{name}: corrupt lzf data (chunk without ZV signature)")
        kind = head[2]
        (length,) = struct.unpack_from(">H", head, 3)
        if kind == 0:
            data = reader.read(length)
            if len(data) < length:
                if allow_truncated:
                    return
                raise _truncated(name, "lzf")
            yield data
        elif kind == 1:
            raw_len_bytes = reader.read(2)
            data = reader.read(length)
            if len(raw_len_bytes) < 2 or len(data) < length:
                if allow_truncated:
                    return
                raise _truncated(name, "lzf")
            (raw_len,) = struct.unpack(">H", raw_len_bytes)
            out = lzf.decompress(data, raw_len + 1) if raw_len else b""
            if out is None or len(out) != raw_len:
                raise EventLogError(f"{name}: corrupt lzf data (chunk does not decompress to its size)")
            yield out
        else:
            raise EventLogError(f"{name}: corrupt lzf data (unknown chunk type {kind})")


_DECODERS = {
    "none": _plain,
    "zstd": _zstd,
    "gzip": _gzip,
    "lz4": _lz4,
    "snappy": _snappy,
    "lzf": _lzf,
}
