import datetime as dt
import json
import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from services.data.cleaning import apply_recipe, describe_step, recipe_sql, steps_sql
from services.data.dataset_models import (
    Cast,
    ConvertToCategory,
    DropColumns,
    DropDuplicates,
    DropMissing,
    FilterRows,
    FlagMissing,
    Impute,
    MapCategories,
    NormaliseCase,
    ParseDate,
    ParseNumber,
    Recipe,
    RenameColumn,
    Trim,
)
from services.data.ingest import ingest_file
from services.errors import InvalidInput


@pytest.fixture
def source(tmp_path: Path) -> Path:
    csv = tmp_path / "in.csv"
    csv.write_text(
        "City,Price,Amount,When,Note\n"
        "  oslo ,10,\"1,234.50\",03/01/2024,a\n"
        "Rome,,$5,03/02/2024,b\n"
        "rome,30,12 %,03/03/2024,\n"
        "  oslo ,10,\"1,234.50\",03/01/2024,a\n"
    )
    result = ingest_file(csv, original_name="in.csv", dest_dir=tmp_path / "v1",
                         options=None)
    return result.parquet_path


_DUCK = duckdb.connect()  # one in-memory database for reading results (a cursor per read)


def _apply(source: Path, steps: list, tmp_path: Path) -> list[tuple]:
    out = apply_recipe(source, steps, tmp_path / "v2" / "data.parquet")
    with _DUCK.cursor() as con:
        return con.execute(f"SELECT * FROM '{out.parquet_path}'").fetchall()


def _column(source: Path, steps: list, tmp_path: Path, index: int) -> list:
    return [row[index] for row in _apply(source, steps, tmp_path)]


def test_missing_value_steps(source: Path, tmp_path: Path) -> None:
    assert _column(source, [Impute(column="Price", method="mean")], tmp_path, 1) == [
        10, 50 / 3, 30, 10]
    assert _column(source, [Impute(column="Price", method="median")], tmp_path, 1)[1] == 10
    assert _column(source, [Impute(column="Price", method="mode")], tmp_path, 1)[1] == 10
    assert _column(source, [Impute(column="Note", method="constant", value="none")],
                   tmp_path, 4) == ["a", "b", "none", "a"]
    assert len(_apply(source, [DropMissing(columns=["Price"])], tmp_path)) == 3
    assert len(_apply(source, [DropMissing()], tmp_path)) == 2
    flagged = _apply(source, [FlagMissing(column="Price")], tmp_path)
    assert [row[-1] for row in flagged] == [False, True, False, False]


def test_text_steps(source: Path, tmp_path: Path) -> None:
    steps = [Trim(columns=["City"]), NormaliseCase(columns=["City"], case="title")]
    assert _column(source, steps, tmp_path, 0) == ["Oslo", "Rome", "Rome", "Oslo"]
    upper = [Trim(columns=["City"]), NormaliseCase(columns=["City"], case="upper")]
    assert _column(source, upper, tmp_path, 0) == ["OSLO", "ROME", "ROME", "OSLO"]
    mapping = [MapCategories(column="City", mapping={"  oslo ": "Oslo", "rome": "Rome"})]
    assert _column(source, mapping, tmp_path, 0) == ["Oslo", "Rome", "Rome", "Oslo"]


def test_parse_number_and_date(source: Path, tmp_path: Path) -> None:
    assert _column(source, [ParseNumber(column="Amount")], tmp_path, 2) == [1234.5, 5, 12,
                                                                            1234.5]
    auto = _column(source, [Cast(column="When", to="text"), ParseDate(column="When")],
                   tmp_path, 3)
    assert all(isinstance(d, dt.date) for d in auto)


def test_parse_date_with_format(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    frame = pd.DataFrame({"d": ["03/01/2024", "12/31/2024", "garbage", None]})
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute(f"COPY frame TO '{path}'")
    assert _column(path, [ParseDate(column="d", format="%m/%d/%Y")], tmp_path, 0) == [
        dt.date(2024, 3, 1), dt.date(2024, 12, 31), None, None]
    assert _column(path, [ParseDate(column="d")], tmp_path, 0)[1] == dt.date(2024, 12, 31)


def test_parse_number_decimal_comma(tmp_path: Path) -> None:
    path = tmp_path / "eu.parquet"
    frame = pd.DataFrame({"v": ["1.234,50 €", "(2,5)", "abc", None]})
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute(f"COPY frame TO '{path}'")
    assert _column(path, [ParseNumber(column="v", decimal=",")], tmp_path, 0) == [
        1234.5, -2.5, None, None]


def test_structure_steps(source: Path, tmp_path: Path) -> None:
    assert len(_apply(source, [DropDuplicates()], tmp_path)) == 3
    assert len(_apply(source, [DropDuplicates(columns=["City"])], tmp_path)) == 3
    out = apply_recipe(source, [DropColumns(columns=["Note", "Amount"]),
                                RenameColumn(column="Price", new_name="Cost (€)"),
                                ConvertToCategory(column="City"),
                                Cast(column="Cost (€)", to="text")],
                       tmp_path / "v3.parquet")
    assert [(c.name, c.dtype) for c in out.columns] == [
        ("City", "category"), ("Cost (€)", "text"), ("When", "date")]
    assert out.columns[1].sql_name == "cost"


def test_filter_rows_values_are_quoted_safely(source: Path, tmp_path: Path) -> None:
    assert len(_apply(source, [FilterRows(column="Price", op=">=", value=20)], tmp_path)) == 1
    assert len(_apply(source, [FilterRows(column="City", op="contains", value="OSLO")],
                      tmp_path)) == 2
    assert len(_apply(source, [FilterRows(column="Price", op="is_missing")], tmp_path)) == 1
    evil = "x'); DROP TABLE t; --"
    assert _apply(source, [FilterRows(column="City", op="=", value=evil)], tmp_path) == []
    with pytest.raises(InvalidInput):
        _apply(source, [FilterRows(column="Price", op=">", value="not a number")], tmp_path)


def test_recipe_sql_describe_and_json_round_trip(source: Path) -> None:
    steps = [Trim(columns=["City"]), Impute(column="Price", method="median"),
             DropDuplicates()]
    sql = recipe_sql(source, steps)
    assert sql.startswith("WITH step_0 AS") and '"city"' in sql and "median(" in sql
    assert len(steps_sql(source, steps)) == 3
    assert describe_step(steps[1]) == "Fill missing values in “Price” with the median"
    assert describe_step(FilterRows(column="Price", op=">", value=3)) == (
        "Keep rows where “Price” is more than “3”")
    text = Recipe(steps=steps).model_dump_json()
    assert Recipe.model_validate_json(text).steps == steps
    assert json.loads(text)["steps"][0]["kind"] == "trim"


def test_bad_steps_are_refused(source: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no column called"):
        _apply(source, [Trim(columns=["Nope"])], tmp_path)
    with pytest.raises(InvalidInput, match="not a number"):
        _apply(source, [Impute(column="City", method="mean")], tmp_path)
    with pytest.raises(InvalidInput, match="already a column"):
        _apply(source, [RenameColumn(column="City", new_name="price")], tmp_path)
    with pytest.raises(InvalidInput, match="at least one column"):
        _apply(source, [DropColumns(columns=["City", "Price", "Amount", "When", "Note"])],
               tmp_path)


def test_apply_is_atomic(source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "v9" / "data.parquet"

    def crash(src: str, dst: str) -> None:
        raise KeyboardInterrupt  # as if the process died just before the rename

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        apply_recipe(source, [Trim(columns=["City"])], dest)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []


def test_a_filter_on_a_text_column_of_codes_compares_text(tmp_path: Path) -> None:
    """“code is 12” on a text column keeps the row whose code is 12, also when the value
    arrives as the number 12.0 (a recipe saved by the old form)."""
    csv = tmp_path / "codes.csv"
    csv.write_text("code,n\n12,1\n012,2\n7,3\nAB,4\n")
    codes = ingest_file(csv, original_name="codes.csv", dest_dir=tmp_path / "v1",
                        options=None)
    assert codes.columns[0].dtype in ("text", "category")
    path = codes.parquet_path
    for value in ("12", 12.0, 12):
        kept = _apply(path, [FilterRows(column="code", op="=", value=value)], tmp_path)
        assert [row[:2] for row in kept] == [("12", 1)], value
    assert len(_apply(path, [FilterRows(column="code", op="!=", value=12.0)], tmp_path)) == 3
    assert describe_step(FilterRows(column="code", op="=", value=12.0)) == (
        "Keep rows where “code” is “12”")
