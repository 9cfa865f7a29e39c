"""Uploaded files land on disk first (streamed, never held twice in memory)."""

import errno
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import BinaryIO

from services.errors import InvalidInput, StorageUnavailable
from services.settings import get_settings

# The one list of the files Research Desk reads, by how it reads them: the uploader, the
# upload check and ingest's choice of reader all use it (and the words below say it).
TEXT_EXTENSIONS = (".csv", ".tsv", ".txt", ".tab", ".dat")
EXCEL_EXTENSIONS = (".xlsx", ".xlsm")
PARQUET_EXTENSIONS = (".parquet",)
JSON_EXTENSIONS = (".json", ".ndjson", ".jsonl")
ACCEPTED = tuple(e.lstrip(".") for e in (*TEXT_EXTENSIONS, *EXCEL_EXTENSIONS,
                                          *PARQUET_EXTENSIONS, *JSON_EXTENSIONS))
ACCEPTED_WORDS = "CSV, TSV or TXT, Excel (.xlsx), Parquet, JSON or NDJSON"
MAX_DATASET_NAME = 200  # characters

# Said to whoever uploads when the data folder refuses a write: nothing of theirs is wrong.
MSG_NOT_WRITABLE = ("Research Desk cannot save files right now: its data folder is not "
                    "writable. Tell your admin.")
MSG_DISK_FULL = ("Research Desk cannot save files right now: the disk of its data folder is "
                 "full. Tell your admin.")


MAX_NAME_BYTES = 200  # file systems allow 255 bytes per name; leave room for suffixes


def is_accepted(file_name: str) -> bool:
    """True when the file's ending is one Research Desk reads (see `ACCEPTED`)."""
    return Path(file_name).suffix.lower().lstrip(".") in ACCEPTED


def default_dataset_name(file_name: str) -> str:
    """The name a new dataset gets from its file: the file name without folders or its
    ending, at most `MAX_DATASET_NAME` characters ("sales 2024.csv" → "sales 2024")."""
    stem = Path(file_name.replace("\\", "/")).stem
    return stem.strip()[:MAX_DATASET_NAME].strip() or "Untitled dataset"


def safe_file_name(name: str) -> str:
    """A name safe to store on disk: no path parts, no odd characters, at most 200 bytes
    in UTF-8 (a 255-byte limit applies to bytes, not characters), keeping the extension."""
    cleaned = re.sub(r"[^\w.\- ]+", "_", Path(name.replace("\\", "/")).name).strip(" .")
    cleaned = cleaned or "upload"
    suffix = Path(cleaned).suffix
    if len(suffix.encode()) > 16:
        suffix = ""
    stem = cleaned[: len(cleaned) - len(suffix)] if suffix else cleaned
    room = MAX_NAME_BYTES - len(suffix.encode())
    stem = stem.encode()[:room].decode("utf-8", errors="ignore").strip(" .") or "upload"
    return stem + suffix


CHUNK_BYTES = 1024 * 1024


def cannot_save(error: OSError) -> StorageUnavailable:
    """The one sentence for a write the data folder refused (read-only, full, missing)."""
    full = error.errno in (errno.ENOSPC, errno.EDQUOT)
    return StorageUnavailable(MSG_DISK_FULL if full else MSG_NOT_WRITABLE)


def new_upload_folder() -> Path:
    """A new, empty folder for one upload under the uploads folder."""
    folder = get_settings().uploads_dir / uuid.uuid4().hex
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise cannot_save(error) from error
    return folder


def _copy(stream: BinaryIO, target: Path) -> None:
    """1 MB at a time, never a second whole copy. A write the folder refuses is said in one
    sentence; a read that fails (a dropped connection) is the upload's own error."""
    try:
        handle = target.open("wb")
    except OSError as error:
        raise cannot_save(error) from error
    with handle:
        if getattr(stream, "seekable", lambda: False)():
            stream.seek(0)
        while chunk := stream.read(CHUNK_BYTES):
            try:
                handle.write(chunk)
            except OSError as error:
                raise cannot_save(error) from error


def save_upload(stream: BinaryIO, original_name: str, size: int) -> Path:
    """Copy an upload into the uploads folder and return its path."""
    limit_mb = get_settings().upload_limit_mb
    if size > limit_mb * 1024 * 1024:
        raise InvalidInput(
            f"The file is {size / 1024 / 1024:,.0f} MB, over the upload limit of {limit_mb:,} MB; "
            "split it or keep only the columns you need."
        )
    if not is_accepted(original_name):
        raise InvalidInput(f"This kind of file is not supported. Upload {ACCEPTED_WORDS}.")
    remove_abandoned()
    folder = new_upload_folder()
    target = folder / safe_file_name(original_name)
    try:
        _copy(stream, target)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # a failed copy leaves nothing behind
        raise
    return target


def remove_abandoned(*, older_than_minutes: float | None = None) -> int:
    """Delete uploads nobody turned into a dataset (the page was closed, the reading
    failed, the server stopped) once they are older than `upload_abandoned_minutes`."""
    settings = get_settings()
    minutes = (settings.upload_abandoned_minutes if older_than_minutes is None
               else older_than_minutes)
    root = settings.uploads_dir
    if not root.is_dir():
        return 0
    cutoff = time.time() - minutes * 60
    removed = 0
    for folder in root.iterdir():
        try:
            if folder.is_dir() and not folder.is_symlink() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except OSError:
            continue  # removed by another session meanwhile
    return removed


def discard_upload(path: Path) -> None:
    root = get_settings().uploads_dir.resolve()
    if path.parent.resolve().parent == root:
        shutil.rmtree(path.parent, ignore_errors=True)
