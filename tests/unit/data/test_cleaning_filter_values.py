"""A "keep rows where" step compares with the value as the column holds values
(text_reading.typed_value): "code is 12" on a text column keeps the rows with code 12."""

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from services.data.cleaning import apply_recipe
from services.data.dataset_models import Cast, FilterRows
from services.errors import InvalidInput


@pytest.fixture
def source(tmp_path: Path) -> Path:
    frame = pd.DataFrame({
        "code": ["12", "012", "12.0", "7"],
        "price": [1234.5, 1.5, 12.0, 99.95],
        "day": pd.to_datetime(["2024-01-03", "2024-03-01", "2024-12-25", "2023-06-30"]).date,
        "paid": [True, False, True, False],
    })
    path = tmp_path / "in.parquet"
    with duckdb.connect() as con:
        con.register("frame", frame)
        con.execute(f"COPY frame TO '{path}' (FORMAT parquet)")
    return path


def _kept(source: Path, step: FilterRows, tmp_path: Path) -> list[tuple]:
    out = apply_recipe(source, [step], tmp_path / "v2" / "data.parquet")
    with duckdb.connect() as con:
        return con.execute(f"SELECT code FROM '{out.parquet_path}' ORDER BY code").fetchall()


@pytest.mark.parametrize(("step", "codes"), [
    (FilterRows(column="code", op="=", value="12"), ["12"]),
    (FilterRows(column="code", op="=", value=12.0), ["12"]),  # as an older form stored it
    (FilterRows(column="price", op=">", value="1.234,4"), ["12"]),
    (FilterRows(column="price", op="<", value="1,6"), ["012"]),
    (FilterRows(column="price", op=">=", value="99.95"), ["12", "7"]),
    (FilterRows(column="day", op="<", value="03/01/2024"), ["7"]),  # day first
    (FilterRows(column="day", op=">=", value="2024-03-01"), ["012", "12.0"]),
    (FilterRows(column="paid", op="=", value="yes"), ["12", "12.0"]),
])
def test_the_value_is_read_as_the_column_holds_values(source: Path, tmp_path: Path,
                                                      step: FilterRows, codes: list[str],
                                                      ) -> None:
    assert [row[0] for row in _kept(source, step, tmp_path)] == codes


def test_a_value_of_the_wrong_kind_is_refused_with_a_sentence(source: Path,
                                                              tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="“soon” is not a date, and “day” holds dates"):
        _kept(source, FilterRows(column="day", op=">", value="soon"), tmp_path)
    assert not (tmp_path / "v2" / "data.parquet").exists()


def test_changing_text_to_numbers_or_dates_reads_it_as_text_reading_does(tmp_path: Path,
                                                                         ) -> None:
    """“Change type” and “numbers stored as text” read a text column the same way."""
    frame = pd.DataFrame({"amount": ["1.234,5 €", "3,25", "12"],
                          "count": ["1.234", "7", "2,5"],
                          "day": ["03/01/2024", "25/12/2024", "01/02/2024"]})
    path = tmp_path / "text.parquet"
    with duckdb.connect() as con:
        con.register("frame", frame)
        con.execute(f"COPY frame TO '{path}' (FORMAT parquet)")
    steps = [Cast(column="amount", to="number"), Cast(column="count", to="whole number"),
             Cast(column="day", to="date")]
    out = apply_recipe(path, steps, tmp_path / "v2" / "data.parquet")
    with duckdb.connect() as con:
        rows = con.execute(f"SELECT * FROM '{out.parquet_path}'").fetchall()
    assert [r[0] for r in rows] == [1234.5, 3.25, 12.0]
    assert [r[1] for r in rows] == [1234, 7, None]  # 2,5 is not a whole number
    assert [str(r[2]) for r in rows] == ["2024-01-03", "2024-12-25", "2024-02-01"]
