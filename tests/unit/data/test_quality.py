from pathlib import Path

import duckdb
import pandas as pd

from services.data.cleaning import apply_recipe
from services.data.dataset_models import (
    DropColumns,
    DropDuplicates,
    MapCategories,
    ParseDate,
    ParseNumber,
    Trim,
)
from services.data.profile import profile_dataset
from services.data.quality import find_issues
from tests.unit.datasets_fixtures import frame_parquet


def _parquet(tmp_path: Path, frame: pd.DataFrame, name: str = "q.parquet") -> Path:
    return frame_parquet(tmp_path, frame, name)


def _by_kind(findings: list, kind: str) -> list:
    return [f for f in findings if f.kind == kind]


def test_missing_duplicates_constant_empty(tmp_path: Path) -> None:
    n = 40
    frame = pd.DataFrame({
        "price": [float(i) if i % 4 else None for i in range(n)],
        "const": ["same"] * n,
        "empty": pd.Series([None] * n, dtype="float64"),
        "k": list(range(n)),
    })
    frame = pd.concat([frame, frame.iloc[:4]])  # four exact copies
    findings = find_issues(_parquet(tmp_path, frame))
    missing = _by_kind(findings, "missing_values")
    assert [(f.column, f.affected_rows) for f in missing] == [("price", 11)]
    assert missing[0].message == "11 rows (25%) have no value in “price”."
    assert missing[0].severity == "high"
    dup = _by_kind(findings, "duplicate_rows")[0]
    assert dup.column is None and dup.affected_rows == 4 and isinstance(dup.fix, DropDuplicates)
    const = _by_kind(findings, "constant_column")[0]
    assert const.column == "const" and const.fix == DropColumns(columns=["const"])
    assert _by_kind(findings, "empty_column")[0].column == "empty"
    assert findings[0].severity == "high"  # most severe first


def test_text_numbers_dates_whitespace_and_spelling(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "amount": ["1,234", "$5", "12 %", "7", "1,000.50"] * 4,
        "eu": ["1.234,50 €", "2,50 €", "3,00 €", "10,00 €", "4,75 €"] * 4,
        "iso": ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04", "2024-03-05"] * 4,
        "us": ["03/01/2024", "03/02/2024", "12/31/2024", "01/13/2024", "02/01/2024"] * 4,
        "state": ["NY", "ny ", "N.Y.", "NY", "CA"] * 4,
    })
    findings = find_issues(_parquet(tmp_path, frame))
    numbers = {f.column: f.fix for f in _by_kind(findings, "numbers_stored_as_text")}
    assert numbers == {"amount": ParseNumber(column="amount", decimal="."),
                       "eu": ParseNumber(column="eu", decimal=",")}
    dates = {f.column: f.fix for f in _by_kind(findings, "dates_stored_as_text")}
    assert dates == {"iso": ParseDate(column="iso", format="%Y-%m-%d"),
                     "us": ParseDate(column="us", format="%m/%d/%Y")}
    spaces = _by_kind(findings, "whitespace")
    assert [(f.column, f.affected_rows, f.fix) for f in spaces] == [
        ("state", 4, Trim(columns=["state"]))]
    spelling = _by_kind(findings, "inconsistent_categories")[0]
    assert spelling.fix == MapCategories(column="state", mapping={"ny ": "NY", "N.Y.": "NY"})
    assert "“NY”" in spelling.message and spelling.affected_rows == 8


def test_fixes_applied_give_clean_values(tmp_path: Path) -> None:
    frame = pd.DataFrame({"eu": ["1.234,50 €", "2,50 €", "3,00 €", "2,50 €"] * 3,
                          "state": ["NY", "ny ", "N.Y.", "NY"] * 3})
    path = _parquet(tmp_path, frame)
    steps = [f.fix for f in find_issues(path) if f.fix is not None]
    out = apply_recipe(path, steps, tmp_path / "clean.parquet")
    rows = duckdb.connect().execute(f"SELECT * FROM '{out.parquet_path}'").fetchall()
    assert set(rows) == {(1234.5, "NY"), (2.5, "NY"), (3.0, "NY")}
    remaining = {f.kind for f in find_issues(out.parquet_path)}
    assert remaining.isdisjoint({"numbers_stored_as_text", "inconsistent_categories",
                                 "whitespace"})


def test_outliers_skew_ids_imbalance_mixed_and_cardinality(tmp_path: Path) -> None:
    n = 400
    frame = pd.DataFrame({
        "id": range(n),
        "value": [10.0 + (i % 7) for i in range(n - 4)] + [500.0, 900.0, 800.0, 1000.0],
        "flag": ["yes"] * (n - 5) + ["no"] * 5,
        "code": [str(i) if i % 2 else f"x{i}" for i in range(n)],
        "text": [f"free text {i}" for i in range(n)],
    })
    frame.loc[0, "text"] = "free text 1"  # not unique, so high-cardinality rather than ID
    findings = find_issues(_parquet(tmp_path, frame))
    outliers = _by_kind(findings, "outliers")[0]
    assert outliers.column == "value" and outliers.affected_rows == 4
    assert "4 rows (1%)" in outliers.message
    assert "are far above the rest (above 21, up to 1,000)" in outliers.message  # one side
    assert [f.column for f in _by_kind(findings, "skewed_column")] == ["value"]
    assert "id" in [f.column for f in _by_kind(findings, "id_like_column")]
    assert [f.column for f in _by_kind(findings, "imbalanced_column")] == ["flag"]
    assert [f.column for f in _by_kind(findings, "mixed_types")] == ["code"]
    assert "text" in [f.column for f in _by_kind(findings, "high_cardinality_text")]


def test_accepts_a_precomputed_profile_and_thousands_separators(tmp_path: Path) -> None:
    path = tmp_path / "big.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT CASE WHEN i < 1204 THEN NULL ELSE i END AS price, i % 3 AS g "
                f"FROM range(10000) t(i)) TO '{path}'")
    profile = profile_dataset(path)
    findings = find_issues(path, profile=profile)
    missing = _by_kind(findings, "missing_values")[0]
    assert missing.message == "1,204 rows (12%) have no value in “price”."


def test_one_outlier_is_spoken_of_in_the_singular(tmp_path: Path) -> None:
    values = ", ".join(str(v) for v in [*range(10, 30), 1000])
    path = tmp_path / "one.parquet"
    duckdb.execute(f"COPY (SELECT unnest([{values}]) AS v) TO '{path}'")
    (outlier,) = _by_kind(find_issues(path), "outliers")
    assert outlier.message.startswith("1 row (5%) in “v” is far above the rest (above 40, up")
    assert outlier.message.endswith("check whether it is a mistake.")
