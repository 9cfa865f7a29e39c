"""A multipart upload streamed straight into the uploads folder, never held in memory.

The size limit is checked before the first byte is read when the client states a
Content-Length, and again while bytes arrive; an upload over it, cut off, or refused for
any other reason leaves nothing on disk. Everything in the request besides the file's own
bytes (fields, part headers, boundaries) is capped too, in count and in size, so a flood
of small fields is refused after its first few kilobytes instead of piling up in memory.
"""

import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request

from services.data import uploads
from services.errors import InvalidInput, ResearchDeskError, TooLarge
from services.settings import get_settings

FIELD_FILE = "file"
FIELD_NAME = "name"
MAX_FIELD_BYTES = 1000
MAX_PARTS = 16  # the file, its name, and a little room for what clients add
FLUSH_BYTES = 1024 * 1024
ENVELOPE_BYTES = 64 * 1024  # all but the file's bytes: fields, part headers, boundaries

MSG_NOT_MULTIPART = "Send the file as multipart/form-data with a part called “file”."
MSG_NO_FILE = "The request has no file: send it in a part called “file”, with its file name."
MSG_CUT_OFF = "The upload was cut off before its end; nothing was kept. Please send it again."
MSG_UNREADABLE = "The upload could not be read as multipart/form-data; nothing was kept."
MSG_FIELD = "The dataset name is too long; use at most 200 characters."
MSG_PARTS = (f"The form has more than {MAX_PARTS} parts, so nothing was kept; send only the "
             "file and its name.")
MSG_ENVELOPE = (f"The form's fields besides the file are over {ENVELOPE_BYTES // 1024} KB, so "
                "nothing was kept; send only the file and a short name.")
MSG_KIND = ("This kind of file is not supported. Upload CSV, TSV, TXT, Excel (.xlsx), Parquet, "
            "JSON or NDJSON.")


def too_large(limit_mb: int) -> TooLarge:
    return TooLarge(f"The file is over the upload limit of {limit_mb:,} MB; nothing was kept. "
                    "Split it or keep only the columns you need.")


class ReceivedUpload:
    """The file on disk under the uploads folder, its name as sent, and the text fields."""

    def __init__(self) -> None:
        self.folder = get_settings().uploads_dir / uuid.uuid4().hex  # made with the file
        self.path: Path | None = None
        self.original_name = ""
        self.fields: dict[str, str] = {}
        self.size = 0

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class _Parts:
    """python-multipart's callbacks: file bytes buffered, written 1 MB at a time."""

    def __init__(self, received: ReceivedUpload, limit: int, limit_mb: int) -> None:
        self.received = received
        self.limit = limit
        self.limit_mb = limit_mb
        self.header_field = b""
        self.headers: dict[bytes, bytes] = {}
        self.field: str | None = None
        self.is_file = False
        self.value = bytearray()
        self.buffer = bytearray()
        self.handle: BinaryIO | None = None
        self.ended = False
        self.error: Exception | None = None
        self.parts = 0

    def on_part_begin(self) -> None:
        self.headers, self.field, self.is_file, self.value = {}, None, False, bytearray()
        self.parts += 1
        if self.parts > MAX_PARTS and self.error is None:
            self.error = TooLarge(MSG_PARTS)

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        key = self.header_field.lower()
        self.headers[key] = self.headers.get(key, b"") + data[start:end]

    def on_header_end(self) -> None:
        self.header_field = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.field = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if self.field != FIELD_FILE or filename is None:
            return
        if self.received.path is not None:
            self.error = InvalidInput("Send one file per request.")
            return
        name = filename.decode("utf-8", "replace") or "upload"
        if Path(name).suffix.lower().lstrip(".") not in uploads.ACCEPTED:
            self.error = InvalidInput(MSG_KIND)
            return
        self.is_file = True
        self.received.original_name = name
        self.received.folder = uploads.new_upload_folder()
        self.received.path = self.received.folder / uploads.safe_file_name(name)
        try:
            self.handle = self.received.path.open("wb")
        except OSError as error:
            self.error = uploads.cannot_save(error)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        if self.is_file:
            self.received.size += end - start
            if self.received.size > self.limit:
                self.error = too_large(self.limit_mb)
                return
            self.buffer += data[start:end]
            return
        if self.field != FIELD_NAME:
            return  # not kept: the request's cap on all but the file counts its bytes
        self.value += data[start:end]
        if len(self.value) > MAX_FIELD_BYTES:
            self.error = InvalidInput(MSG_FIELD)

    def on_part_end(self) -> None:
        if self.field == FIELD_NAME and self.error is None:  # the one field we use
            self.received.fields[self.field] = self.value.decode("utf-8", "replace")

    def on_end(self) -> None:
        self.ended = True

    def callbacks(self) -> dict:
        return {name: getattr(self, name) for name in (
            "on_part_begin", "on_header_field", "on_header_value", "on_header_end",
            "on_headers_finished", "on_part_data", "on_part_end", "on_end")}

    def flush(self) -> None:
        if self.handle is not None and self.buffer:
            try:
                self.handle.write(self.buffer)
            except OSError as error:  # the disk filled up or went read-only meanwhile
                raise uploads.cannot_save(error) from error
            self.buffer = bytearray()

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


async def receive_upload(request: Request) -> ReceivedUpload:
    """Stream the request's `file` part to disk; `TooLarge`, `InvalidInput` otherwise."""
    settings = get_settings()
    limit = settings.upload_limit_mb * 1024 * 1024
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidInput(MSG_NOT_MULTIPART)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + ENVELOPE_BYTES:
        raise too_large(settings.upload_limit_mb)  # before reading a single byte
    received = ReceivedUpload()
    parts = _Parts(received, limit, settings.upload_limit_mb)
    body = 0
    try:
        parser = MultipartParser(boundary, parts.callbacks())  # type: ignore[arg-type]
        async for chunk in request.stream():
            parser.write(chunk)
            body += len(chunk)
            if parts.error is None and body - received.size > ENVELOPE_BYTES:
                parts.error = TooLarge(MSG_ENVELOPE)
            if parts.error is not None:
                raise parts.error
            if len(parts.buffer) >= FLUSH_BYTES:
                await run_in_threadpool(parts.flush)
        parser.finalize()
        if parts.error is not None:
            raise parts.error
        if not parts.ended:
            raise InvalidInput(MSG_CUT_OFF)
        await run_in_threadpool(parts.flush)
        parts.close()
        if received.path is None:
            raise InvalidInput(MSG_NO_FILE)
        return received
    except ClientDisconnect as error:
        parts.close()
        received.discard()
        raise InvalidInput(MSG_CUT_OFF) from error
    except Exception as error:
        parts.close()
        received.discard()
        if isinstance(error, ResearchDeskError):  # its own sentence (too large, not writable)
            raise
        raise InvalidInput(MSG_UNREADABLE) from error
