"""Previews use display names; CSV downloads cannot carry spreadsheet formulas."""

from pathlib import Path

import pandas as pd

from services.data import dataset_files, ingest


def _dataset(tmp_path: Path) -> Path:
    source = tmp_path / "risky.csv"
    source.write_text(
        "Customer name,Note,Amount\n"
        'Ann,=HYPERLINK("http://evil"),5\n'
        "Bob,+1+2,-3\n"
        "Cy,@SUM(A1),7\n"
        "Di,plain text,8\n",
        encoding="utf-8",
    )
    return ingest.ingest_file(
        source, original_name="risky.csv", dest_dir=tmp_path / "out"
    ).parquet_path


def test_preview_shows_display_names(tmp_path: Path) -> None:
    frame = dataset_files.preview(_dataset(tmp_path), limit=2)
    assert list(frame.columns) == ["Customer name", "Note", "Amount"]
    assert len(frame) == 2


def test_csv_export_neutralises_formulas_but_keeps_numbers(tmp_path: Path) -> None:
    text = dataset_files.csv_bytes(_dataset(tmp_path)).decode()
    lines = text.splitlines()
    assert lines[0] == "Customer name,Note,Amount"
    assert "'=HYPERLINK" in text and "'+1+2" in text and "'@SUM(A1)" in text
    assert lines[2].endswith(",-3")  # a real negative number stays a number
    assert "plain text" in text


def test_frame_csv_neutralises_formulas() -> None:
    frame = pd.DataFrame({"=bad header": ["=1+1", "ok", None], "n": [1, -2, 3]})
    text = dataset_files.frame_csv_bytes(frame).decode()
    assert text.splitlines()[0] == "'=bad header,n"
    assert "'=1+1" in text and ",-2" in text
