"""No cleaning step blanks values silently: counts and examples before a recipe runs."""

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from services.data.cleaning import apply_recipe, describe_step, preview_sentence, preview_steps
from services.data.dataset_models import (
    Cast,
    DropDuplicates,
    Finding,
    ParseDate,
    ParseNumber,
    Trim,
)
from services.data.ingest import ingest_file
from services.data.quality import find_issues
from tests.unit.datasets_fixtures import frame_parquet


def _parquet(tmp_path: Path, frame: pd.DataFrame, name: str = "in.parquet") -> Path:
    return frame_parquet(tmp_path, frame, name)


_DUCK = duckdb.connect()  # one in-memory database for reading results (a cursor per read)


def _values(path: Path, column: str) -> list:
    with _DUCK.cursor() as con:
        return [r[0] for r in con.execute(f'SELECT "{column}" FROM \'{path}\'').fetchall()]


POPULATION = ["8.425.333", "1.282.697", "9.279.525", "4.232.095", "17.876.000", "n/d",
              "1.000", "12.345.678", "999", "2.000.000"]


def test_the_fix_reads_dot_thousands_from_the_columns_own_values(tmp_path: Path) -> None:
    path = _parquet(tmp_path, pd.DataFrame({"Población": POPULATION * 3}))
    finding = next(f for f in find_issues(path) if f.kind == "numbers_stored_as_text")
    assert finding.fix == ParseNumber(column="Población", decimal=",")
    out = apply_recipe(path, [finding.fix], tmp_path / "v2.parquet")
    assert _values(out.parquet_path, "Población")[:6] == [
        8425333.0, 1282697.0, 9279525.0, 4232095.0, 17876000.0, None]


def test_a_step_without_a_mark_decides_it_from_the_values(tmp_path: Path) -> None:
    path = _parquet(tmp_path, pd.DataFrame({"v": POPULATION}))
    step = ParseNumber(column="v")
    assert "as its values show" in describe_step(step)
    assert _values(apply_recipe(path, [step], tmp_path / "o.parquet").parquet_path, "v")[
        :2] == [8425333.0, 1282697.0]


def test_preview_counts_changed_and_unreadable_values_with_examples(tmp_path: Path) -> None:
    path = _parquet(tmp_path, pd.DataFrame({"v": POPULATION, "w": [" a"] * 10}))
    preview = preview_steps(path, [ParseNumber(column="v"), Trim(columns=["w"])])
    number, trim = preview.effects
    # "999" is already the number 999: read, not changed
    assert (number.changed, number.unreadable, number.what) == (9, 1, "numbers")
    assert (trim.changed, trim.unreadable) == (10, 0)
    assert preview.unreadable == 1
    lost = [e for e in preview.examples if e.unreadable]
    assert [(e.column, e.before, e.after) for e in lost] == [("v", "n/d", None)]
    assert any(e.before == "8.425.333" and e.after == "8425333.0" for e in preview.examples)
    assert "1 value could not be read and became missing" in preview_sentence(preview)


def test_preview_counts_rows_removed_and_writes_nothing(tmp_path: Path) -> None:
    path = _parquet(tmp_path, pd.DataFrame({"v": ["a", "a", "b"]}))
    before = sorted(p.name for p in tmp_path.iterdir())
    preview = preview_steps(path, [DropDuplicates()])
    assert preview.rows_removed == 1 and preview.unreadable == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_cast_that_blanks_values_is_counted(tmp_path: Path) -> None:
    path = _parquet(tmp_path, pd.DataFrame({"v": ["1", "2", "three"]}))
    preview = preview_steps(path, [Cast(column="v", to="whole number")])
    assert preview.unreadable == 1 and preview.effects[0].what == "numbers"


def test_a_date_column_is_read_in_one_order_everywhere(tmp_path: Path) -> None:
    """Ingest, the quality fix and a date step without a format all read 03/01/2024 as
    3 January when nothing in the column proves the order."""
    csv = tmp_path / "d.csv"
    csv.write_text("day,n\n03/01/2024,1\n04/02/2024,2\n")
    ingested = ingest_file(csv, original_name="d.csv", dest_dir=tmp_path / "i")
    assert _values(ingested.parquet_path, "day")[0] == dt.date(2024, 1, 3)
    text = _parquet(tmp_path, pd.DataFrame({"when": ["03/01/2024", "04/02/2024"] * 10}))
    fix = next(f.fix for f in find_issues(text) if f.kind == "dates_stored_as_text")
    assert fix == ParseDate(column="when", format="%d/%m/%Y")
    fixed = apply_recipe(text, [fix], tmp_path / "f.parquet")
    assert _values(fixed.parquet_path, "when")[0] == dt.date(2024, 1, 3)
    auto = apply_recipe(text, [ParseDate(column="when")], tmp_path / "a.parquet")
    assert _values(auto.parquet_path, "when")[0] == dt.date(2024, 1, 3)


def test_a_date_step_never_mixes_orders_row_by_row(tmp_path: Path) -> None:
    path = _parquet(tmp_path, pd.DataFrame({"d": ["25/12/2024", "03/01/2024", "12/31/2024"]}))
    out = apply_recipe(path, [ParseDate(column="d")], tmp_path / "o.parquet")
    assert _values(out.parquet_path, "d") == [dt.date(2024, 12, 25), dt.date(2024, 1, 3), None]
    assert preview_steps(path, [ParseDate(column="d")]).unreadable == 1


def test_findings_fix_for_eu_numbers_is_unchanged_by_the_preview(tmp_path: Path) -> None:
    path = _parquet(tmp_path, pd.DataFrame({"eu": ["1.234,50 €", "2,50 €"] * 10}))
    fixes = [f.fix for f in find_issues(path) if isinstance(f, Finding) and f.fix is not None]
    assert preview_steps(path, fixes).unreadable == 0


def test_a_step_on_a_missing_column_is_refused_in_one_friendly_sentence(
        tmp_path: Path) -> None:
    import pytest

    from services.errors import InvalidInput

    path = _parquet(tmp_path, pd.DataFrame({"v": ["1"]}))
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(InvalidInput, match="There is no column called “nope”"):
        preview_steps(path, [ParseNumber(column="nope")])
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_number_and_date_steps_on_columns_that_already_are_do_nothing(tmp_path: Path) -> None:
    path = _parquet(tmp_path, pd.DataFrame({"n": [1.5, None], "d": [dt.date(2024, 1, 3)] * 2}))
    preview = preview_steps(path, [ParseNumber(column="n"), ParseDate(column="d")])
    assert preview.changed == 0 and preview.unreadable == 0
