"""Uploaded files land on disk first (streamed, never held twice in memory)."""

import re
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

from services.errors import InvalidInput
from services.settings import get_settings

ACCEPTED = ("csv", "tsv", "txt", "xlsx", "parquet", "json", "ndjson", "jsonl")


def safe_file_name(name: str) -> str:
    stem = re.sub(r"[^\w.\- ]+", "_", Path(name).name).strip(" .") or "upload"
    return stem[:120]


def save_upload(stream: BinaryIO, original_name: str, size: int) -> Path:
    """Copy an upload into the uploads folder and return its path."""
    limit_mb = get_settings().upload_limit_mb
    if size > limit_mb * 1024 * 1024:
        raise InvalidInput(
            f"The file is {size / 1024 / 1024:,.0f} MB, over the upload limit of {limit_mb:,} MB; "
            "split it or keep only the columns you need."
        )
    if Path(original_name).suffix.lower().lstrip(".") not in ACCEPTED:
        raise InvalidInput(
            "This kind of file is not supported. Upload CSV, TSV, TXT, Excel (.xlsx), Parquet, "
            "JSON or NDJSON."
        )
    folder = get_settings().uploads_dir / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_file_name(original_name)
    with target.open("wb") as handle:
        shutil.copyfileobj(stream, handle, length=8 * 1024 * 1024)
    return target


def discard_upload(path: Path) -> None:
    root = get_settings().uploads_dir.resolve()
    if path.parent.resolve().parent == root:
        shutil.rmtree(path.parent, ignore_errors=True)
