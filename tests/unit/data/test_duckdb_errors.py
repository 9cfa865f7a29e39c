"""DuckDB's own error text never reaches people: one sentence, what happened, what to try."""

from pathlib import Path

import duckdb
import pytest

from services.data import ingest
from services.data.duckdb_errors import explain
from services.errors import InvalidInput

DUCKDB_WORDS = ("CSV Error", "Error:", "magic bytes", "BIGINT", "read_parquet", "LINE 1",
                "Original Line", "Possible Solution", "Malformed")


def _error(tmp_path: Path, name: str, content: bytes, sql: str) -> duckdb.Error:
    (tmp_path / name).write_bytes(content)
    con = duckdb.connect()
    try:
        con.execute(sql.format(path=str(tmp_path / name))).fetchall()
    except duckdb.Error as error:
        return error
    raise AssertionError("DuckDB read it without an error")


def _is_one_plain_sentence(text: str) -> bool:
    return (text.count(". ") == 0 and text.endswith(".") and "\n" not in text
            and not any(word in text for word in DUCKDB_WORDS) and ";" in text)


def test_a_value_that_is_not_a_number(tmp_path: Path) -> None:
    error = _error(tmp_path, "c.csv", b"a,b\n1,2\nx,4\n",
                   "SELECT * FROM read_csv('{path}', columns={{'a': 'BIGINT', 'b': 'BIGINT'}}, "
                   "header=true)")
    text = explain(error)
    assert text == ("“x” in “a” on line 3 could not be read as a whole number; change the "
                    "read options or correct that value in the file, and read it again.")
    assert _is_one_plain_sentence(text)


def test_wrong_text_encoding(tmp_path: Path) -> None:
    error = _error(tmp_path, "e.csv", b"a,b\n\xff\xfe1,2\n", "SELECT * FROM read_csv('{path}')")
    text = explain(error, what="“e.csv”")
    assert text.startswith("“e.csv” has characters that are not in the expected text encoding")
    assert "choose another encoding" in text and _is_one_plain_sentence(text)


@pytest.mark.parametrize(("name", "content", "sql", "says"), [
    ("b.parquet", b"not parquet", "SELECT * FROM read_parquet('{path}')",
     "is not a valid Parquet file"),
    ("b.json", b'{"a": 1, ', "SELECT * FROM read_json('{path}')", "is not valid JSON"),
])
def test_damaged_files(tmp_path: Path, name: str, content: bytes, sql: str, says: str) -> None:
    text = explain(_error(tmp_path, name, content, sql))
    assert says in text and _is_one_plain_sentence(text)


def test_anything_else_still_gets_a_plain_sentence() -> None:
    text = explain(duckdb.Error("Internal Error: something odd\nLINE 1: SELECT"))
    assert text == ("The file could not be read; check that it is the file you meant, or "
                    "change the read options and read it again.")


def test_an_upload_that_fails_says_what_to_try_and_changes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = _error(tmp_path, "c.csv", b"a,b\n1,2\nx,4\n",
                  "SELECT * FROM read_csv('{path}', columns={{'a': 'BIGINT', 'b': 'BIGINT'}}, "
                  "header=true)")

    def failing_reader(path: Path, tmp: Path, options: object) -> None:
        tmp.write_bytes(b"half")
        raise real

    monkeypatch.setattr(ingest, "_read_csv", failing_reader)
    upload = tmp_path / "sales.csv"
    upload.write_text("a,b\n1,2\n")
    dest = tmp_path / "out"
    with pytest.raises(InvalidInput) as raised:
        ingest.ingest_file(upload, original_name="sales.csv", dest_dir=dest)
    message = str(raised.value)
    assert message.startswith("“x” in “a” on line 3 could not be read as a whole number")
    assert _is_one_plain_sentence(message)
    assert not any(dest.iterdir())  # no half-written file left behind
