"""Bad input gives one specific EventLogError line (library) and exit code 2 with no traceback (CLI)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import zstandard

from tests.eventlog.logs import YARN_APP, ZSTD_APP
from tools.errors import EventLogError
from tools.eventlog import load_profile

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def bad_inputs(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """name -> (path or URL, words the error must contain)."""
    (tmp_path / "chart.png").write_bytes(PNG)
    (tmp_path / "table.csv").write_text("id,name\n1,a\n")
    (tmp_path / "data.json").write_text('{"rows": [1, 2, 3]}\n')
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "app.zstd").write_bytes(gzip.compress(YARN_APP.read_bytes()))
    (tmp_path / "app2.lz4").write_bytes(YARN_APP.read_bytes())
    zstd = ZSTD_APP.read_bytes()
    (tmp_path / "cut.zstd").write_bytes(zstd[: len(zstd) // 2])
    (tmp_path / "cut.gz").write_bytes(gzip.compress(YARN_APP.read_bytes())[:5000])
    corrupt = bytearray(zstd)
    corrupt[200:4000] = bytes(3800)
    (tmp_path / "corrupt.zstd").write_bytes(bytes(corrupt))
    return {
        "png": (str(tmp_path / "chart.png"), "not a Spark event log (the first line is a PNG image)"),
        "csv": (str(tmp_path / "table.csv"), "not a Spark event log (the first line is not JSON lines)"),
        "json": (str(tmp_path / "data.json"), "not a Spark event log (the first line is JSON that is not a listener event)"),
        "empty": (str(tmp_path / "empty"), "empty file"),
        "wrong codec": (str(tmp_path / "app.zstd"), "the file name says zstd but the data is gzip-compressed"),
        "plain named lz4": (str(tmp_path / "app2.lz4"), "the file name says lz4 but the data is uncompressed text"),
        "truncated zstd": (str(tmp_path / "cut.zstd"), "truncated zstd stream"),
        "truncated gzip": (str(tmp_path / "cut.gz"), "truncated gzip stream"),
        "corrupt zstd": (str(tmp_path / "corrupt.zstd"), "corrupt zstd data"),
        "missing": (str(tmp_path / "nope"), "no such file or directory"),
        "unknown scheme": ("nosuchfs://bucket/app", "unknown URL scheme nosuchfs://"),
        "no logs in dir": (str(tmp_path / "emptydir"), "no Spark event logs found"),
    }


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "emptydir").mkdir()
    return bad_inputs(tmp_path)


CASES = ["png", "csv", "json", "empty", "wrong codec", "plain named lz4", "truncated zstd", "truncated gzip",
         "corrupt zstd", "missing", "unknown scheme", "no logs in dir"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_raises_one_specific_line(inputs, case):
    path, words = inputs[case]
    with pytest.raises(EventLogError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert words in message
    assert "\n" not in message


def test_missing_filesystem_package_names_the_package():
    pytest.importorskip("fsspec")
    try:
        import s3fs  # noqa: F401
    except ImportError:
        with pytest.raises(EventLogError, match="cannot read s3:// URLs.*s3fs"):
            load_profile("s3://bucket/spark-events/app-1")
    else:
        pytest.skip("s3fs is installed here, so s3:// is readable")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of permissions")
def test_unreadable_file_is_permission_denied(tmp_path):
    log = tmp_path / "app"
    log.write_bytes(YARN_APP.read_bytes())
    log.chmod(0)
    with pytest.raises(EventLogError, match="permission denied"):
        load_profile(log)


def test_codec_is_sniffed_when_the_name_has_no_extension(tmp_path):
    log = tmp_path / "eventlog"
    log.write_bytes(zstandard.ZstdCompressor().compress(YARN_APP.read_bytes()))
    profile = load_profile(log)
    assert profile.source.codec == "zstd"
    assert profile.total_tasks == load_profile(YARN_APP).total_tasks


def test_multi_member_gzip_and_multi_frame_zstd(tmp_path):
    data = YARN_APP.read_bytes()
    half = data.index(b"\n", len(data) // 2) + 1
    (tmp_path / "a.gz").write_bytes(gzip.compress(data[:half]) + gzip.compress(data[half:]))
    z = zstandard.ZstdCompressor()
    (tmp_path / "b.zstd").write_bytes(z.compress(data[:half]) + z.compress(data[half:]))
    streaming = zlib.compressobj(wbits=31)
    (tmp_path / "c.gz").write_bytes(streaming.compress(data) + streaming.flush())
    expected = load_profile(YARN_APP).total_tasks
    for name in ("a.gz", "b.zstd", "c.gz"):
        assert load_profile(tmp_path / name).total_tasks == expected


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "copilot.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("case", ["png", "wrong codec", "truncated zstd", "empty", "missing", "unknown scheme"])
def test_cli_prints_one_error_line_and_exits_2(inputs, case):
    path, words = inputs[case]
    done = run_cli("profile", path)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("copilot: error: ")
    assert words in lines[0]
    assert "Traceback" not in done.stderr


def test_invalid_utf8_inside_events_is_a_bad_line_not_a_traceback(tmp_path):
    lines = YARN_APP.read_bytes().splitlines(keepends=True)
    task_end = next(i for i, line in enumerate(lines) if line.startswith(b'{"Event":"SparkListenerTaskEnd"'))
    lines[task_end] = lines[task_end].replace(b'"Executor ID":"', b'"Executor ID":"\xc5', 1)
    damaged = tmp_path / "app"
    damaged.write_bytes(b"".join(lines))
    profile = load_profile(damaged)
    assert profile.source.bad_lines == 1
    assert profile.total_tasks == load_profile(YARN_APP).total_tasks - 1
    foreign = tmp_path / "foreign"
    foreign.write_bytes(b'{"\xc5vent":"SparkListenerLogStart"}\n')
    with pytest.raises(EventLogError, match="not a Spark event log"):
        load_profile(foreign)
