"""One rule for every CSV download: no formula after a line break either (issue 9, point 7)."""

import csv
import io
import random
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from services.data import dataset_files
from services.data.dataset_files import neutralise_formulas


@pytest.mark.parametrize(("cell", "safe"), [
    ("=1+1", "'=1+1"),
    ("South\r=cmd|' /C calc'!A0", "South\r'=cmd|' /C calc'!A0"),
    ("a\n+b\r\n-c", "a\n'+b\r\n'-c"),
    ("\r\r=x", "'\r'\r'=x"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("plain, text", "plain, text"),
    ("a - b", "a - b"),
])
def test_the_rule(cell: str, safe: str) -> None:
    assert neutralise_formulas(cell) == safe


def _cells(text: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.decode("utf-8"), newline="")))


def _each_line_is_safe(cell: str) -> bool:
    return all(not line.startswith(dataset_files.FORMULA_STARTS)
               for line in cell.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def test_frame_downloads_neutralise_after_a_carriage_return() -> None:
    frame = pd.DataFrame({"Region": ["South\r=cmd|' /C calc'!A0", "North\n@x"], "n": [1, -2]})
    rows = _cells(dataset_files.frame_csv_bytes(frame))
    assert rows[1][0] == "South\r'=cmd|' /C calc'!A0"
    assert rows[2][0] == "North\n'@x"
    assert rows[2][1] == "-2"  # numbers stay numbers


def test_whole_version_download_neutralises_after_a_carriage_return(tmp_path: Path) -> None:
    path = tmp_path / "v1.parquet"
    with duckdb.connect() as con:
        con.execute("CREATE TABLE t (Region VARCHAR, n INTEGER)")
        con.execute("INSERT INTO t VALUES (?, 1), (?, -2)",
                    ["South\r=cmd|' /C calc'!A0", "a\r\r\n+b"])
        con.execute(f"COPY t TO '{path}' (FORMAT parquet)")
    rows = _cells(dataset_files.csv_bytes(path))
    assert rows[1][0] == "South\r'=cmd|' /C calc'!A0"
    assert rows[2][0] == neutralise_formulas("a\r\r\n+b")
    assert rows[2][1] == "-2"


def test_sql_and_python_agree_on_random_cells() -> None:
    chance = random.Random(9)
    cells = ["".join(chance.choice("a=\r\n\t+-@ ") for _ in range(chance.randint(0, 9)))
             for _ in range(400)]
    with duckdb.connect() as con:
        got = [r[0] for r in con.execute(
            f"SELECT {dataset_files._safe_text('c')} FROM unnest(?) AS u(c)", [cells]
        ).fetchall()]
    expected = [neutralise_formulas(c) for c in cells]
    assert got == expected
    assert all(_each_line_is_safe(c) for c in expected)


def test_every_csv_download_goes_through_the_rule() -> None:
    """Each st.download_button that offers CSV gets its bytes from the two formula-safe
    functions (which both apply `neutralise_formulas`)."""
    root = Path(__file__).resolve().parents[3]
    sources = [p for folder in ("pages", "components") for p in (root / folder).glob("*.py")]
    csv_buttons = 0
    for source in sources:
        text = source.read_text(encoding="utf-8")
        for call in text.split("download_button(")[1:]:
            body = call[:600].split("\n    )")[0]
            if "text/csv" not in body:
                continue
            csv_buttons += 1
            assert "frame_csv_bytes(" in body or "dataset_files.csv_bytes(" in body, source.name
    assert csv_buttons >= 4  # Ask answers, SQL tab (same component), Explore chart and table,
    # and the whole version


def test_every_type_written_as_text_gets_the_rule(tmp_path: Path) -> None:
    """Binary (BLOB) and lists become text in a CSV too (issue 18, point 4); numbers, dates
    and true/false are left as they are."""
    path = tmp_path / "v1.parquet"
    with duckdb.connect() as con:
        con.execute(f"""COPY (SELECT '=HYPERLINK(\"http://x\")'::BLOB AS b, ['=a'] AS l,
                        'x\n@y'::BLOB AS b2, '-x' AS s, -2 AS n, DATE '2024-01-02' AS d,
                        true AS t) TO '{path}' (FORMAT parquet)""")
    rows = _cells(dataset_files.csv_bytes(path))
    assert rows[1][0].startswith("'=HYPERLINK(") and rows[1][3] == "'-x"
    assert rows[1][4:] == ["-2", "2024-01-02", "true"]
    assert all(_each_line_is_safe(cell) for cell in rows[1][:4])


def test_frame_downloads_neutralise_binary_and_category_cells() -> None:
    frame = pd.DataFrame({"b": [bytearray(b"=cmd|x"), b"+1\xff"],
                          "c": pd.Series(["@SUM(A1)", "ok"], dtype="category"),
                          "n": [-1.5, 2]})
    rows = _cells(dataset_files.frame_csv_bytes(frame))
    assert rows[1] == ["'=cmd|x", "'@SUM(A1)", "-1.5"]
    assert rows[2][0] == "'+1\\xff" and rows[2][2] == "2.0"
