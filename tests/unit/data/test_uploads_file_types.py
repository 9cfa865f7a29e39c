"""The files Research Desk reads and the name a new dataset gets: one home (uploads)."""

import io
import re
from pathlib import Path

import pytest

from services.data import ingest, uploads
from services.errors import InvalidInput
from tests.unit.one_home import files_matching


def test_every_accepted_ending_has_a_reader_and_the_words_name_each_kind() -> None:
    assert set(uploads.ACCEPTED) == {"csv", "tsv", "txt", "tab", "dat", "xlsx", "xlsm",
                                     "parquet", "json", "ndjson", "jsonl"}
    for word in ("CSV", "TSV", "TXT", "Excel", "Parquet", "JSON", "NDJSON"):
        assert word in uploads.ACCEPTED_WORDS
    assert uploads.is_accepted("Sales 2024.CSV") and uploads.is_accepted("book.xlsm")
    assert not uploads.is_accepted("old.xls") and not uploads.is_accepted("notes.docx")
    assert not uploads.is_accepted("no_ending")


def test_the_upload_check_and_ingest_refuse_with_the_same_list(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               ) -> None:
    monkeypatch.setenv("RESEARCH_DESK_DATA_DIR", str(tmp_path / "data"))
    from services.settings import reset_settings_cache

    reset_settings_cache()
    try:
        with pytest.raises(InvalidInput, match=re.escape(f"Upload {uploads.ACCEPTED_WORDS}")):
            uploads.save_upload(io.BytesIO(b"x"), "report.docx", 1)
        odd = tmp_path / "report.docx"
        odd.write_text("a,b\n1,2\n")
        with pytest.raises(InvalidInput, match=re.escape(f"use {uploads.ACCEPTED_WORDS}")):
            ingest.ingest_file(odd, original_name="report.docx", dest_dir=tmp_path / "out")
    finally:
        reset_settings_cache()


@pytest.mark.parametrize(("file_name", "name"), [
    ("sales 2024.csv", "sales 2024"), ("archive.tar.gz", "archive.tar"),
    ("C:\\Users\\ana\\survey.xlsx", "survey"), ("folder/penguins.parquet", "penguins"),
    ("data", "data"), ("   .csv", "Untitled dataset"), ("x" * 300 + ".csv", "x" * 200),
])
def test_a_new_dataset_is_named_after_its_file(file_name: str, name: str) -> None:
    assert uploads.default_dataset_name(file_name) == name


def test_the_list_of_file_types_and_the_naming_rule_are_written_once() -> None:
    assert files_matching(r"[\"']\.?jsonl[\"']") == ["services/data/uploads.py"]
    assert files_matching(r"[\"']\.?ndjson[\"']") == ["services/data/uploads.py"]
    assert files_matching(r"\.stem\[|rsplit\(\"\.\", 1\)\[0\]") == []
