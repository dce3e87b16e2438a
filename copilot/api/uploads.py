"""Reading an analyze request: JSON, a urlencoded form, or multipart with the event log streamed to disk.

The multipart body is parsed as it arrives (python-multipart's streaming parser), so an
upload never sits in memory or in a temp dir outside COPILOT_HOME, and the size limit
stops it the moment it is crossed (413), before the rest is read.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from fastapi import Request
from pydantic import BaseModel, ValidationError
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from copilot.api.problems import Problem
from copilot.api.schemas import AnalyzeJobRequest

MAX_FIELD_BYTES = 64 * 1024
MULTIPART_SLACK_BYTES = 64 * 1024  # headers and boundaries around the file
FILE_FIELD = "file"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class JobInput(BaseModel):
    """What a request asks to analyze: the fields, and the uploaded file when there was one."""

    request: AnalyzeJobRequest
    upload_path: Path | None = None
    upload_name: str | None = None


def safe_file_name(name: str) -> str:
    """The upload's own base name reduced to safe characters (its extension names the codec)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_NAME.sub("_", base).lstrip(".") or "eventlog"
    return cleaned[:200]


def _fields_model(fields: dict[str, str]) -> AnalyzeJobRequest:
    return _validated({k: v for k, v in fields.items() if v != ""})


def _validated(data: dict) -> AnalyzeJobRequest:
    try:
        return AnalyzeJobRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise Problem(422, f"invalid request: {where}: {first.get('msg', 'invalid')}") from None


class _MultipartReader:
    """Callbacks for the streaming parser: form fields into memory (bounded), the file part to `target_dir`."""

    def __init__(self, target_dir: Path, max_file_bytes: int) -> None:
        self.target_dir = target_dir
        self.max_file_bytes = max_file_bytes
        self.fields: dict[str, str] = {}
        self.file_path: Path | None = None
        self.file_name: str | None = None
        self.file_bytes = 0
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._value = bytearray()
        self._handle = None

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._part_begin, "on_header_field": self._header_field_data,
            "on_header_value": self._header_value_data, "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished, "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers, self._name, self._value = {}, None, bytearray()

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_field.strip().lower()] = self._header_value.strip()
        self._header_field, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if self._name == FILE_FIELD or filename is not None:
            if self._handle is not None or self.file_path is not None:
                raise Problem(422, "send one event log per request (one file part)")
            self.file_name = safe_file_name(filename.decode("utf-8", "replace") if filename else "eventlog")
            self.target_dir.mkdir(parents=True, exist_ok=True)
            self.file_path = self.target_dir / self.file_name
            self._handle = open(self.file_path, "wb")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._handle is not None:
            self.file_bytes += end - start
            if self.file_bytes > self.max_file_bytes:
                raise Problem(413, f"the upload is larger than the limit of {self.max_file_bytes // (1024 * 1024)} MiB")
            self._handle.write(data[start:end])
            return
        self._value += data[start:end]
        if len(self._value) > MAX_FIELD_BYTES:
            raise Problem(413, f"form field {self._name!r} is longer than {MAX_FIELD_BYTES // 1024} KiB")

    def _part_end(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        elif self._name:
            self.fields[self._name] = self._value.decode("utf-8", "replace")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


async def read_job_input(request: Request, upload_dir: Path, max_upload_bytes: int) -> JobInput:
    """Parse the request body; an uploaded file lands in `upload_dir` (removed again if anything fails)."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type == b"application/json":
        return JobInput(request=await _json_body(request))
    if content_type == b"application/x-www-form-urlencoded":
        form = await request.form(max_files=0, max_fields=10)
        return JobInput(request=_fields_model({k: str(v) for k, v in form.items()}))
    if content_type != b"multipart/form-data":
        raise Problem(415, "send application/json, multipart/form-data (with the log as `file`) or a urlencoded form")
    boundary = options.get(b"boundary")
    if not boundary:
        raise Problem(400, "multipart body without a boundary")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_upload_bytes + MULTIPART_SLACK_BYTES:
        raise Problem(413, f"the upload is larger than the limit of {max_upload_bytes // (1024 * 1024)} MiB")
    reader = _MultipartReader(upload_dir, max_upload_bytes)
    try:
        parser = MultipartParser(boundary, reader.callbacks())
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        _discard(reader, upload_dir)
        raise Problem(400, f"malformed multipart body: {exc}") from None
    except BaseException:
        _discard(reader, upload_dir)
        raise
    reader.close()
    try:
        fields = _fields_model(reader.fields)
    except Problem:
        _discard(reader, upload_dir)
        raise
    return JobInput(request=fields, upload_path=reader.file_path, upload_name=reader.file_name)


def _discard(reader: _MultipartReader, upload_dir: Path) -> None:
    reader.close()
    shutil.rmtree(upload_dir, ignore_errors=True)


async def _json_body(request: Request) -> AnalyzeJobRequest:
    body = await request.body()
    if len(body) > MAX_FIELD_BYTES:
        raise Problem(413, f"the JSON body is longer than {MAX_FIELD_BYTES // 1024} KiB")
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise Problem(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise Problem(422, "the JSON body must be an object")
    return _validated(data)
