"""Mutated real logs (cut, flipped bytes, dropped/duplicated lines, wrong codec) give a profile or EventLogError."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.eventlog.logs import FIXTURES, SPARK_EVENTS
from tools.errors import EventLogError
from tools.eventlog import load_profile

PLAIN = (SPARK_EVENTS / "local-1426533911241").read_bytes()
SQL_ZSTD = FIXTURES / "NVIDIA__spark-rapids-tools" / "spark2-eventlog.zstd"
SQL_PLAIN = zstandard.ZstdDecompressor().decompress(SQL_ZSTD.read_bytes(), max_output_size=10_000_000)
SOURCES = {"plain": PLAIN, "sql": SQL_PLAIN}
CODECS = {
    "": lambda b: b,
    ".zstd": lambda b: zstandard.ZstdCompressor().compress(b),
    ".gz": gzip.compress,
}
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def profile_or_error(data: bytes, name: str) -> None:
    """The property: a profile that serializes, or an EventLogError; nothing else."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            profile = load_profile(path)
        except EventLogError as exc:
            assert "\n" not in str(exc)
            return
        profile.model_dump_json()
        assert profile.total_tasks >= 0


@FUZZ
@given(source=st.sampled_from(sorted(SOURCES)), codec=st.sampled_from(sorted(CODECS)), data=st.data())
def test_truncated_logs(source, codec, data):
    blob = CODECS[codec](SOURCES[source])
    cut = data.draw(st.integers(0, len(blob)))
    profile_or_error(blob[:cut], f"app{codec}")
    profile_or_error(blob[:cut], f"app{codec}.inprogress")


@FUZZ
@given(source=st.sampled_from(sorted(SOURCES)), codec=st.sampled_from(sorted(CODECS)), data=st.data())
def test_flipped_bytes(source, codec, data):
    blob = bytearray(CODECS[codec](SOURCES[source]))
    for position in data.draw(st.lists(st.integers(0, len(blob) - 1), min_size=1, max_size=8)):
        blob[position] ^= data.draw(st.integers(1, 255))
    profile_or_error(bytes(blob), f"app{codec}")


@FUZZ
@given(source=st.sampled_from(sorted(SOURCES)), data=st.data())
def test_dropped_and_duplicated_lines(source, data):
    lines = SOURCES[source].splitlines(keepends=True)
    indexes = st.integers(0, len(lines) - 1)
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(indexes) % len(lines)
        if data.draw(st.booleans()):
            lines.insert(i, lines[i])
        elif len(lines) > 1:
            del lines[i]
    profile_or_error(b"".join(lines), "app")


@FUZZ
@given(source=st.sampled_from(sorted(SOURCES)), written=st.sampled_from(sorted(CODECS)),
       named=st.sampled_from([".zstd", ".gz", ".lz4", ".snappy", ".lzf", ""]))
def test_wrong_codec_extension(source, written, named):
    profile_or_error(CODECS[written](SOURCES[source]), f"app{named}")


@FUZZ
@given(junk=st.binary(min_size=0, max_size=2000), named=st.sampled_from([".zstd", ".gz", ".lz4", ".snappy", ".lzf", ""]))
def test_random_bytes(junk, named):
    profile_or_error(junk, f"app{named}")
