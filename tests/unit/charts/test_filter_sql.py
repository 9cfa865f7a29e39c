"""The notebook's filters are Explore's filters: one home of filter SQL, written with
placeholders for the app and with literals for code people run (issue 18.13)."""

from pathlib import Path

import duckdb
import pytest

from services.charts.aggregate import count_rows, literal_condition
from services.charts.spec import Filter
from services.data.sql_names import read_columns

FILTERS = [
    [Filter(column="id", op="in", value=["00000000-0000-0000-0000-000000000001", None])],
    [Filter(column="id", op="eq", value="00000000-0000-0000-0000-000000000002")],
    [Filter(column="label", op="in", value=["u1", "it's"])],
    [Filter(column="n", op="between", value=[3, None]),
     Filter(column="label", op="contains", value="_%")],
    [Filter(column="n", op="in", value=[1, 2.5, 7])],
    [Filter(column="day", op="between", value=["2024-01-05", "2024-01-20"])],
]


@pytest.fixture
def parquet(tmp_path: Path) -> Path:
    path = tmp_path / "t.parquet"
    duckdb.sql(f"""COPY (SELECT i AS n,
        CASE WHEN i % 7 = 0 THEN NULL ELSE
             CAST('00000000-0000-0000-0000-00000000000' || (i % 4) AS UUID) END AS id,
        CASE i % 4 WHEN 0 THEN 'u1' WHEN 1 THEN 'it''s' WHEN 2 THEN 'a_%b' ELSE 'u2' END
            AS label,
        DATE '2024-01-01' + CAST(i AS INTEGER) AS day
        FROM range(40) t(i)) TO '{path}' (FORMAT parquet)""")
    return path


@pytest.mark.parametrize("filters", FILTERS, ids=range(len(FILTERS)))
def test_written_out_filters_keep_the_rows_explore_keeps(parquet: Path,
                                                         filters: list[Filter]) -> None:
    columns = {c.name: (c.sql_name, c.duckdb_type) for c in read_columns(parquet)}
    condition = literal_condition(filters, columns)
    assert "$" not in condition  # values written in, nothing left to bind
    kept = duckdb.sql(f"SELECT COUNT(*) FROM read_parquet('{parquet}') WHERE {condition}"
                      ).fetchall()[0][0]
    assert kept == count_rows(parquet, filters)
    assert 0 < kept < 40


def test_a_uuid_is_not_compared_as_a_number(parquet: Path) -> None:
    columns = {c.name: (c.sql_name, c.duckdb_type) for c in read_columns(parquet)}
    condition = literal_condition(FILTERS[0], columns)
    assert "DOUBLE" not in condition and "= ANY([" in condition
