"""Valid but unusual uploads are read, not met with an apology page."""

from pathlib import Path

from services.data import datasets, uploads
from tests.factories import make_admin
from tests.unit.datasets_fixtures import ingest_text, rows_of


def test_a_csv_cell_of_150000_characters_is_read(tmp_path: Path) -> None:
    long_text = "x" * 150_000
    result = ingest_text(tmp_path, "long.csv", f'id,note\n1,"{long_text}"\n2,short\n')
    assert rows_of(result) == [(1, long_text), (2, "short")]


def test_a_file_name_over_255_bytes_is_stored_under_a_safe_name(tmp_path: Path) -> None:
    name = "Ä" * 200 + ".csv"  # 400 bytes in UTF-8: too long for any file system
    assert len(name.encode()) > 255
    stored = uploads.safe_file_name(name)
    assert len(stored.encode()) <= 255 and stored.endswith(".csv")
    source = tmp_path / "picked.csv"
    source.write_text("a,b\n1,2\n")
    with source.open("rb") as stream:
        path = uploads.save_upload(stream, name, source.stat().st_size)
    admin = make_admin()
    view, result = datasets.create_from_upload(admin, path, original_name=name)
    assert result.rows == 1
    assert view.name.startswith("ÄÄÄ")
    original = datasets.original_file(admin, view.id)
    assert original is not None and original.is_file()


def test_a_long_ascii_file_name_gives_a_shortened_dataset_name(tmp_path: Path) -> None:
    name = "survey results " * 20 + ".csv"  # 300 characters
    source = tmp_path / "picked.csv"
    source.write_text("a,b\n1,2\n")
    with source.open("rb") as stream:
        path = uploads.save_upload(stream, name, source.stat().st_size)
    view, _ = datasets.create_from_upload(make_admin(), path, original_name=name)
    assert view.name.startswith("survey results") and len(view.name) <= 200
