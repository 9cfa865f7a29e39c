"""Uploads go to disk in chunks and leave nothing behind: failed copies, abandoned
uploads, half-written versions and DuckDB spill folders are removed."""

import io
import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec

from components import upload_memory
from services.data import datasets, duck, uploads
from services.settings import get_settings


class _BrokenStream(io.RawIOBase):
    """Gives 3 MB, then fails, as a dropped connection would."""

    def __init__(self) -> None:
        self.sent = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        if self.sent >= 3 * 1024 * 1024:
            raise OSError("connection reset")
        n = min(len(buffer), 1024 * 1024)
        buffer[:n] = b"a" * n
        self.sent += n
        return n


def _age(path: Path, minutes: float) -> None:
    then = time.time() - minutes * 60
    os.utime(path, (then, then))


def test_an_upload_is_copied_in_chunks_and_a_failed_copy_leaves_nothing() -> None:
    with pytest.raises(OSError):
        uploads.save_upload(_BrokenStream(), "big.csv", 10 * 1024 * 1024)
    root = get_settings().uploads_dir
    assert not root.exists() or list(root.iterdir()) == []
    saved = uploads.save_upload(io.BytesIO(b"a,b\n1,2\n"), "ok.csv", 8)
    assert saved.read_bytes() == b"a,b\n1,2\n"


def test_abandoned_uploads_are_removed_and_recent_ones_kept() -> None:
    old = uploads.save_upload(io.BytesIO(b"x\n1\n"), "old.csv", 4)
    _age(old.parent, 61)
    fresh = uploads.save_upload(io.BytesIO(b"x\n1\n"), "fresh.csv", 4)  # also sweeps
    assert not old.parent.exists()
    assert fresh.is_file()
    _age(fresh.parent, 30)
    assert uploads.remove_abandoned() == 0 and fresh.is_file()
    assert uploads.remove_abandoned(older_than_minutes=10) == 1 and not fresh.exists()


def test_start_up_removes_every_kind_of_leftover(tmp_path: Path) -> None:
    settings = get_settings()
    version_dir = settings.datasets_dir / "abc"
    version_dir.mkdir(parents=True)
    finished = version_dir / "v1.parquet"
    finished.write_bytes(b"PAR1")
    half = version_dir / ".v2.parquet.tmp"
    scratch = version_dir / ".v2.parquet.tmp.csv"
    for leftover in (half, scratch, finished):
        leftover.write_bytes(b"x")
        _age(leftover, 20)
    spill = duck.spill_root() / "dead-connection"
    spill.mkdir(parents=True)
    (spill / "duckdb_temp_storage-0.tmp").write_bytes(b"x")
    _age(spill, 20)
    upload = uploads.save_upload(io.BytesIO(b"x\n1\n"), "gone.csv", 4)
    _age(upload.parent, 120)
    removed = datasets.remove_partial_files()
    assert removed == 4
    assert finished.exists() and not half.exists() and not scratch.exists()
    assert not spill.exists() and not upload.exists()


def test_streamlit_lets_go_of_the_bytes_once_saved(monkeypatch: pytest.MonkeyPatch) -> None:
    manager = MemoryUploadedFileManager("/upload")
    record = UploadedFileRec(file_id="f1", name="big.csv", type="text/csv", data=b"x" * 1000)
    manager.add_file("session", record)
    ctx = SimpleNamespace(uploaded_file_mgr=manager, session_id="session")
    monkeypatch.setattr(upload_memory, "get_script_run_ctx", lambda: ctx)
    file = UploadedFile(record, SimpleNamespace(upload_url="", delete_url=""))  # type: ignore[arg-type]
    assert upload_memory.release(file)
    assert manager.get_files("session", ["f1"]) == []
