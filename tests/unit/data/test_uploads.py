"""services.data.uploads: which files are accepted, the size limit, names on disk, and
what is removed — a refused file changes nothing on disk."""

import io
import os
import stat
from pathlib import Path

import pytest

from services.data import uploads
from services.errors import InvalidInput
from services.settings import get_settings, reset_settings_cache

MB = 1024 * 1024


def _stored() -> list[Path]:
    root = get_settings().uploads_dir
    return sorted(root.rglob("*")) if root.exists() else []


@pytest.mark.parametrize("name", [f"data.{kind}" for kind in uploads.ACCEPTED]
                         + ["DATA.CSV", "Sales 2024.XlSx", "a.b.c.json"])
def test_every_accepted_kind_is_saved_whatever_the_case_of_its_extension(name: str) -> None:
    saved = uploads.save_upload(io.BytesIO(b"a\n1\n"), name, 4)
    assert saved.read_bytes() == b"a\n1\n"
    assert saved.name == name  # the name is kept when it is already safe


@pytest.mark.parametrize("name", ["report.pdf", "macro.xlsb", "old.xls", "run.exe",
                                  "no_extension", "archive.csv.zip", ".csv", "csv"])
def test_other_kinds_are_refused_with_the_list_and_leave_nothing(name: str) -> None:
    with pytest.raises(InvalidInput, match="not supported. Upload CSV, TSV"):
        uploads.save_upload(io.BytesIO(b"a\n1\n"), name, 4)
    assert _stored() == []


def test_the_size_limit_is_checked_before_anything_is_written(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_UPLOAD_LIMIT_MB", "2")
    reset_settings_cache()
    assert get_settings().upload_limit_mb == 2
    at_limit = uploads.save_upload(io.BytesIO(b"x" * 10), "edge.csv", 2 * MB)
    assert at_limit.is_file()
    uploads.discard_upload(at_limit)
    with pytest.raises(InvalidInput, match=r"The file is 3 MB, over the upload limit of 2 MB"):
        uploads.save_upload(io.BytesIO(b"x"), "big.csv", 3 * MB)
    with pytest.raises(InvalidInput, match="over the upload limit"):
        uploads.save_upload(io.BytesIO(b"x"), "big.csv", 2 * MB + 1)
    assert [p for p in _stored() if p.is_file()] == []


@pytest.mark.parametrize(("given", "stored"), [
    ("../../etc/passwd.csv", "passwd.csv"),
    ("C:\\Users\\ana\\Desktop\\ventes.csv", "ventes.csv"),
    ("/abs/path/data.json", "data.json"),
    ("rapport <final>?.csv", "rapport _final_.csv"),
    ("données été.csv", "données été.csv"),
    ("  .hidden.csv  ", "hidden.csv"),
    ("", "upload"),
    ("...", "upload"),
    ("a" * 300 + ".csv", "a" * 196 + ".csv"),
])
def test_names_on_disk_have_no_path_parts_or_odd_characters(given: str, stored: str) -> None:
    assert uploads.safe_file_name(given) == stored
    assert len(uploads.safe_file_name(given).encode()) <= uploads.MAX_NAME_BYTES


def test_a_traversing_name_is_stored_inside_its_own_private_folder() -> None:
    saved = uploads.save_upload(io.BytesIO(b"a\n1\n"), "../../../outside.csv", 4)
    root = get_settings().uploads_dir.resolve()
    assert saved.resolve().parent.parent == root and saved.name == "outside.csv"
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    other = uploads.save_upload(io.BytesIO(b"b\n2\n"), "outside.csv", 4)
    assert other.parent != saved.parent  # two people uploading one name do not collide
    assert saved.read_bytes() == b"a\n1\n"


def test_a_stream_already_read_is_copied_from_its_start() -> None:
    stream = io.BytesIO(b"a,b\n1,2\n")
    stream.read()  # Streamlit may have read it for a preview
    assert uploads.save_upload(stream, "x.csv", 8).read_bytes() == b"a,b\n1,2\n"


def test_discard_removes_its_folder_and_nothing_outside_the_uploads(tmp_path: Path) -> None:
    saved = uploads.save_upload(io.BytesIO(b"a\n1\n"), "x.csv", 4)
    uploads.discard_upload(saved)
    assert not saved.parent.exists()
    uploads.discard_upload(saved)  # twice is harmless
    elsewhere = tmp_path / "mine" / "keep.csv"
    elsewhere.parent.mkdir()
    elsewhere.write_text("a\n")
    uploads.discard_upload(elsewhere)
    assert elsewhere.is_file()


def test_cleanup_skips_links_and_copes_with_no_uploads_folder(tmp_path: Path) -> None:
    assert uploads.remove_abandoned(older_than_minutes=0) == 0  # no folder yet
    saved = uploads.save_upload(io.BytesIO(b"a\n1\n"), "x.csv", 4)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("keep")
    link = get_settings().uploads_dir / "link"
    link.symlink_to(precious, target_is_directory=True)
    old = os.stat(saved.parent).st_mtime - 3600
    os.utime(saved.parent, (old, old))
    assert uploads.remove_abandoned(older_than_minutes=30) == 1
    assert (precious / "keep.txt").is_file() and link.is_symlink()
